/**
 * The happy-path stack the policy tests start from: what the program
 * declares for one NACL and two route tables, built from the catalogue. Each
 * test changes one thing in a copy of it.
 */
import { HKEX_SITES, SITE_NAMES, endpointsOf } from "../../catalogue";
import { AWS_TYPES } from "../../infra/awsTypes";
import type { StackResource } from "../../infra/stackResource";

export const SG_ID = "sg-0c4f5e6a7b8d9e0f1";
const ACL_ID = "acl-0a1b2c3d4e5f60789";
const RTB_A = "rtb-0a1b2c3d4e5f60789";
const RTB_B = "rtb-0b1c2d3e4f5a60789";
const TGW = "tgw-0a1b2c3d4e5f60789";

export function urnOf(type: string, name: string): string {
  return `urn:pulumi:prod::hkex-sftp-readiness::hkex:network:SftpAccess$${type}::${name}`;
}

function resource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  more: Partial<Omit<StackResource, "type" | "name" | "inputs">> = {},
): StackResource {
  return { type, name, urn: urnOf(type, name), inputs, outputs: {}, ...more };
}

const dashed = (s: string) => s.replace(/[./]/g, "-");

export function egressRule(
  cidr: string,
  overrides: Record<string, unknown> = {},
  name = `hkex-sftp-egress-${dashed(cidr)}`,
): StackResource {
  return resource(AWS_TYPES.securityGroupEgressRule, name, {
    securityGroupId: SG_ID,
    ipProtocol: "tcp",
    fromPort: 18801,
    toPort: 18801,
    cidrIpv4: cidr,
    description: `HKEX SFTP ${cidr}`,
    ...overrides,
  });
}

function naclRule(site: (typeof SITE_NAMES)[number], egress: boolean, overrides: Record<string, unknown> = {}): StackResource {
  return resource(AWS_TYPES.networkAclRule, `hkex-sftp-${ACL_ID}-${egress ? "egress" : "ingress"}-${site}`, {
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

function route(table: string, cidr: string, overrides: Record<string, unknown> = {}): StackResource {
  return resource(AWS_TYPES.route, `hkex-sftp-${table}-${dashed(cidr)}`, {
    routeTableId: table,
    destinationCidrBlock: cidr,
    transitGatewayId: TGW,
    ...overrides,
  });
}

export const securityGroup = (more: Record<string, unknown> = {}): StackResource =>
  resource(
    AWS_TYPES.securityGroup,
    "hkex-sftp-sg",
    { vpcId: "vpc-0a1b2c3d4e5f60789", description: "HKEX SFTP", ...more },
    {
      outputs: { arn: `arn:aws:ec2:ap-east-1:123456789012:security-group/${SG_ID}`, egress: [], ingress: [] },
    },
  );

export function goodStack(): StackResource[] {
  return [
    securityGroup(),
    ...endpointsOf().map((e) => egressRule(`${e.host}/32`)),
    ...SITE_NAMES.flatMap((s) => [naclRule(s, true), naclRule(s, false)]),
    ...[RTB_A, RTB_B].flatMap((t) => SITE_NAMES.map((s) => route(t, HKEX_SITES[s].range))),
  ];
}

/** The stack with one resource's inputs changed. */
export function changed(stack: StackResource[], name: string, inputs: Record<string, unknown>): StackResource[] {
  if (!stack.some((r) => r.name === name)) throw new Error(`no resource ${name} in the fixture`);
  return stack.map((r) => (r.name === name ? { ...r, inputs: { ...r.inputs, ...inputs } } : r));
}
