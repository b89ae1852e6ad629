/**
 * The happy-path stack the policy tests start from: what the program
 * declares for one NACL and two route tables, built from the catalogue. Each
 * test changes one thing in a copy of it.
 */
import { HKEX_SITES, SITE_NAMES, endpointsOf } from "../../catalogue";
import type { OfflineResource } from "../../policies/offline";

export const SG_ID = "sg-0c4f5e6a7b8d9e0f1";
export const ACL_ID = "acl-0a1b2c3d4e5f60789";
export const RTB_A = "rtb-0a1b2c3d4e5f60789";
export const RTB_B = "rtb-0b1c2d3e4f5a60789";
export const TGW = "tgw-0a1b2c3d4e5f60789";

const T = {
  sg: "aws:ec2/securityGroup:SecurityGroup",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  legacy: "aws:ec2/securityGroupRule:SecurityGroupRule",
  acl: "aws:ec2/networkAcl:NetworkAcl",
  nacl: "aws:ec2/networkAclRule:NetworkAclRule",
  route: "aws:ec2/route:Route",
  table: "aws:ec2/routeTable:RouteTable",
} as const;
export const TYPES = T;

export function urnOf(type: string, name: string): string {
  return `urn:pulumi:prod::hkex-sftp-readiness::hkex:network:SftpAccess$${type}::${name}`;
}

export function resource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  more: Partial<Omit<OfflineResource, "type" | "name" | "inputs">> = {},
): OfflineResource {
  return { type, name, urn: urnOf(type, name), inputs, outputs: {}, ...more };
}

const dashed = (s: string) => s.replace(/[./]/g, "-");

export function egressRule(
  cidr: string,
  overrides: Record<string, unknown> = {},
  name = `hkex-sftp-egress-${dashed(cidr)}`,
): OfflineResource {
  return resource(T.egress, name, {
    securityGroupId: SG_ID,
    ipProtocol: "tcp",
    fromPort: 18801,
    toPort: 18801,
    cidrIpv4: cidr,
    description: `HKEX SFTP ${cidr}`,
    ...overrides,
  });
}

export function naclRule(site: (typeof SITE_NAMES)[number], egress: boolean, overrides: Record<string, unknown> = {}): OfflineResource {
  return resource(T.nacl, `hkex-sftp-${ACL_ID}-${egress ? "egress" : "ingress"}-${site}`, {
    networkAclId: ACL_ID,
    ruleNumber: 200 + SITE_NAMES.indexOf(site),
    egress,
    protocol: "tcp",
    ruleAction: "allow",
    cidrBlock: HKEX_SITES[site].range,
    fromPort: egress ? 18801 : 1024,
    toPort: egress ? 18801 : 65535,
    ...overrides,
  });
}

export function route(table: string, cidr: string, overrides: Record<string, unknown> = {}): OfflineResource {
  return resource(T.route, `hkex-sftp-${table}-${dashed(cidr)}`, {
    routeTableId: table,
    destinationCidrBlock: cidr,
    transitGatewayId: TGW,
    ...overrides,
  });
}

export const securityGroup = (more: Record<string, unknown> = {}): OfflineResource =>
  resource(
    T.sg,
    "hkex-sftp-sg",
    { vpcId: "vpc-0a1b2c3d4e5f60789", description: "HKEX SFTP", ...more },
    {
      outputs: { arn: `arn:aws:ec2:ap-east-1:123456789012:security-group/${SG_ID}`, egress: [], ingress: [] },
    },
  );

export function goodStack(): OfflineResource[] {
  return [
    securityGroup(),
    ...endpointsOf().map((e) => egressRule(`${e.host}/32`)),
    ...SITE_NAMES.flatMap((s) => [naclRule(s, true), naclRule(s, false)]),
    ...[RTB_A, RTB_B].flatMap((t) => SITE_NAMES.map((s) => route(t, HKEX_SITES[s].range))),
  ];
}

/** The stack without the resources whose name contains `fragment`. */
export function without(stack: OfflineResource[], fragment: string): OfflineResource[] {
  return stack.filter((r) => !r.name.includes(fragment));
}

/** The stack with one resource's inputs changed. */
export function changed(stack: OfflineResource[], name: string, inputs: Record<string, unknown>): OfflineResource[] {
  if (!stack.some((r) => r.name === name)) throw new Error(`no resource ${name} in the fixture`);
  return stack.map((r) => (r.name === name ? { ...r, inputs: { ...r.inputs, ...inputs } } : r));
}
