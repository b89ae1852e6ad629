/**
 * The resources the evaluator reads, in the one shape every source can give:
 *
 * - the policy SDK's `PolicyResource` (stack policies): `props` is the
 *   resource's state, inputs overlaid with what the provider knows;
 *   `propertyDependencies` lists the resources each property came from;
 * - the offline runner's resources, read from `pulumi stack export`
 *   (deployment v3, `resources[].inputs/outputs`) or from `pulumi preview
 *   --json` (`steps[].newState.inputs/outputs`), or captured under mocks.
 *
 * `inputs`, when the source has them, tell what the program declared apart
 * from what the provider read back: an `egress` list on a security group in
 * the inputs is an inline block the program manages, the same list only in
 * the outputs is the provider's read-back of every rule on the group.
 */
import { isUnknownValue } from "./values";

/** Type tokens the evaluator reads, as the provider names them. */
export const FLOW_TYPES = Object.freeze({
  vpc: "aws:ec2/vpc:Vpc",
  vpcCidrAssociation: "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation",
  subnet: "aws:ec2/subnet:Subnet",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  defaultSecurityGroup: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  legacyRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  networkInterface: "aws:ec2/networkInterface:NetworkInterface",
  sgAttachment: "aws:ec2/networkInterfaceSecurityGroupAttachment:NetworkInterfaceSecurityGroupAttachment",
  instance: "aws:ec2/instance:Instance",
  networkAcl: "aws:ec2/networkAcl:NetworkAcl",
  defaultNetworkAcl: "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl",
  networkAclRule: "aws:ec2/networkAclRule:NetworkAclRule",
  networkAclAssociation: "aws:ec2/networkAclAssociation:NetworkAclAssociation",
  routeTable: "aws:ec2/routeTable:RouteTable",
  defaultRouteTable: "aws:ec2/defaultRouteTable:DefaultRouteTable",
  route: "aws:ec2/route:Route",
  vgwRoutePropagation: "aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation",
  routeTableAssociation: "aws:ec2/routeTableAssociation:RouteTableAssociation",
  mainRouteTableAssociation: "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation",
  prefixList: "aws:ec2/managedPrefixList:ManagedPrefixList",
  prefixListEntry: "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry",
  internetGateway: "aws:ec2/internetGateway:InternetGateway",
  vpnGateway: "aws:ec2/vpnGateway:VpnGateway",
  natGateway: "aws:ec2/natGateway:NatGateway",
  transitGateway: "aws:ec2transitgateway/transitGateway:TransitGateway",
  peeringConnection: "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
  /** The kit's own component; its outputs may declare the client scope. */
  sftpAccess: "hkex:network:SftpAccess",
  /** The stack itself; its outputs may declare the client scope (`scope`). */
  stack: "pulumi:pulumi:Stack",
});

/** A resource as the evaluator reads it. */
export interface FlowResource {
  readonly type: string;
  readonly urn: string;
  readonly name: string;
  /** State: inputs overlaid with known outputs. */
  readonly props: Readonly<Record<string, unknown>>;
  /** What the program declared, when the source keeps it apart from the state. */
  readonly inputs?: Readonly<Record<string, unknown>>;
  /** The AWS id, when the source has it outside the props (`id` of a stack export resource). */
  readonly id?: string;
  /** Per property, the resources it was computed from: URNs, or the policy SDK's resources. */
  readonly propertyDependencies?: Readonly<Record<string, readonly (string | { readonly urn: string })[]>>;
}

/** The offline runner's resource (stack export, preview JSON, mocks). */
export interface StateResource {
  readonly type: string;
  readonly urn: string;
  readonly name: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly id?: string;
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

/** The policy SDK's stack resource, structurally (no @pulumi import here). */
export interface PolicyStackResource {
  readonly type: string;
  readonly urn: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
  readonly propertyDependencies?: Readonly<Record<string, readonly { readonly urn: string }[]>>;
  /** The declared inputs, which the analyzer does not give but the offline runner (policies/offline.ts) does. */
  readonly inputs?: Readonly<Record<string, unknown>>;
}

/**
 * State props from inputs and outputs: outputs win where they are known. A
 * preview carries inputs in full and outputs only where the provider already
 * knows them; an output still unknown must not hide a known input.
 */
export function fromStateResource(r: StateResource): FlowResource {
  const props: Record<string, unknown> = { ...r.inputs };
  for (const [k, v] of Object.entries(r.outputs ?? {})) {
    if (v === undefined) continue;
    if (isUnknownValue(v) && props[k] !== undefined) continue;
    props[k] = v;
  }
  return {
    type: r.type,
    urn: r.urn,
    name: r.name,
    props,
    inputs: r.inputs,
    id: r.id,
    propertyDependencies: r.propertyDependencies,
  };
}

export function fromPolicyResource(r: PolicyStackResource): FlowResource {
  return { type: r.type, urn: r.urn, name: r.name, props: r.props, inputs: r.inputs, propertyDependencies: r.propertyDependencies };
}

export function dependencyUrns(r: FlowResource, key: string): string[] {
  return (r.propertyDependencies?.[key] ?? []).map((d) => (typeof d === "string" ? d : d.urn));
}
