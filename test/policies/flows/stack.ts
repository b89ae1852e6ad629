/**
 * Small stacks for the flow tests, in the evaluator's own resource shape:
 * one call per resource, the provider's field names, and the engine's unknown
 * sentinel where a preview does not know an id yet.
 */
import { FLOW_TYPES, type FlowResource } from "../../../policies/flows";
import { UNKNOWN_SENTINEL } from "../../../policies/flows/values";

export const T = FLOW_TYPES;
export const UNKNOWN_ID = UNKNOWN_SENTINEL;
export const TGW = "tgw-0f1e2d3c4b5a69788";

export function urnOf(type: string, name: string): string {
  return `urn:pulumi:test::flows::${type}::${name}`;
}

export function res(
  type: string,
  name: string,
  props: Record<string, unknown>,
  more: { id?: string; inputs?: Record<string, unknown>; deps?: Record<string, string[]> } = {},
): FlowResource {
  return { type, name, urn: urnOf(type, name), props, id: more.id, inputs: more.inputs, propertyDependencies: more.deps };
}

/** One TCP 18801 egress rule per catalogue endpoint on `groupId`. */
export function hkexRules(prefix: string, groupId: string, deps?: Record<string, string[]>): FlowResource[] {
  return ["10.151.14.141", "10.151.14.142", "10.152.14.141", "10.152.14.142"].map((host) =>
    res(
      T.egressRule,
      `${prefix}-${host.replace(/\./g, "-")}`,
      { securityGroupId: groupId, ipProtocol: "tcp", fromPort: 18801, toPort: 18801, cidrIpv4: `${host}/32` },
      { deps },
    ),
  );
}

/**
 * A VPC with one private subnet, its route table (HKEX ranges via a transit
 * gateway), a client group with the four rules and an instance in the
 * subnet: an ordinary, passing client. Ids are known (exported state).
 */
export function privateClient(): FlowResource[] {
  return [
    res(
      T.vpc,
      "vpc",
      {
        cidrBlock: "10.40.0.0/16",
        defaultNetworkAclId: "acl-0d0d0d0d0d0d0d0d0",
        defaultRouteTableId: "rtb-0d0d0d0d0d0d0d0d0",
        mainRouteTableId: "rtb-0d0d0d0d0d0d0d0d0",
        defaultSecurityGroupId: "sg-0d0d0d0d0d0d0d0d0",
      },
      { id: "vpc-0a0a0a0a0a0a0a0a0" },
    ),
    res(T.subnet, "private-a", { vpcId: "vpc-0a0a0a0a0a0a0a0a0", cidrBlock: "10.40.10.0/24" }, { id: "subnet-0a0a0a0a0a0a0a0a0" }),
    res(T.routeTable, "private-rt", { vpcId: "vpc-0a0a0a0a0a0a0a0a0" }, { id: "rtb-0a0a0a0a0a0a0a0a0" }),
    res(T.route, "hkex-primary", { routeTableId: "rtb-0a0a0a0a0a0a0a0a0", destinationCidrBlock: "10.151.14.0/24", transitGatewayId: TGW }),
    res(T.route, "hkex-secondary", {
      routeTableId: "rtb-0a0a0a0a0a0a0a0a0",
      destinationCidrBlock: "10.152.14.0/24",
      transitGatewayId: TGW,
    }),
    res(T.routeTableAssociation, "private-a-rt", { routeTableId: "rtb-0a0a0a0a0a0a0a0a0", subnetId: "subnet-0a0a0a0a0a0a0a0a0" }),
    res(T.securityGroup, "sftp", { vpcId: "vpc-0a0a0a0a0a0a0a0a0", name: "sftp-5c1e0a7" }, { id: "sg-0a0a0a0a0a0a0a0a0" }),
    ...hkexRules("sftp", "sg-0a0a0a0a0a0a0a0a0"),
    res(
      T.instance,
      "fetch",
      {
        subnetId: "subnet-0a0a0a0a0a0a0a0a0",
        vpcSecurityGroupIds: ["sg-0a0a0a0a0a0a0a0a0"],
        primaryNetworkInterfaceId: "eni-0a0a0a0a0a0a0a0a0",
      },
      { id: "i-0a0a0a0a0a0a0a0a0" },
    ),
  ];
}

/** The stack with the resource named `name` changed (props merged) or, with `undefined`, removed. */
export function changed(stack: readonly FlowResource[], name: string, props: Record<string, unknown> | undefined): FlowResource[] {
  if (!stack.some((r) => r.name === name)) throw new Error(`no resource ${name} in the fixture`);
  return stack.flatMap((r) => (r.name !== name ? [r] : props === undefined ? [] : [{ ...r, props: { ...r.props, ...props } }]));
}
