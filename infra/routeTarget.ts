/**
 * Where the routes toward HKEX may point, and what a route's target is when
 * read back: the one place that knows which AWS route targets carry traffic
 * to HKEX's private ranges, which only reach it through another device, and
 * which cannot reach it at all. The stack config, the plan and the policy
 * pack all read this table.
 *
 * Route inputs: https://www.pulumi.com/registry/packages/aws/api-docs/ec2/route/
 * (a virtual private gateway and an internet gateway are both a Route's
 * `gatewayId`; the id prefix tells them apart).
 *
 * No imports, so the plan and the pack can read routes back without the provider.
 * The policy pack's flow evaluator classifies every route target through the
 * same table (AWS_ROUTE_TARGETS).
 */

/** The stack config's `routeTarget` keys the program can route through. */
export const ROUTE_TARGET_KINDS = ["transitGatewayId", "vpnGatewayId", "coreNetworkArn", "natGatewayId", "networkInterfaceId"] as const;
export type RouteTargetKind = (typeof ROUTE_TARGET_KINDS)[number];

/** `routeTarget` keys that are understood but refused, each with the reason given to the user. */
export const REFUSED_ROUTE_TARGETS = Object.freeze({
  // https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-basics.html#vpc-peering-limitations
  // "Edge to edge routing through a gateway or private connection" is unsupported, and
  // peering is not transitive.
  vpcPeeringConnectionId:
    "VPC peering is not transitive: AWS does not forward traffic that arrives over a peering connection " +
    "on to the peer's VPN, Direct Connect, transit gateway or internet gateway (no edge-to-edge routing), " +
    "so HKEX behind the peer would never be reached. Route through the transit gateway, virtual private " +
    "gateway or Cloud WAN core network that carries the circuit instead " +
    "(https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-basics.html#vpc-peering-limitations)",
} as const);
export type RefusedRouteTargetKind = keyof typeof REFUSED_ROUTE_TARGETS;

/**
 * What a target does with traffic toward HKEX:
 * - "carries": hands it on with the client's own address (transit gateway,
 *   virtual private gateway, Cloud WAN core network);
 * - "indirect": reaches HKEX only through a device that may rewrite the
 *   source (a NAT gateway, an appliance's network interface), so HKEX sees
 *   that device's address, which must be the one registered with HKEX;
 * - "refused": cannot carry it (peering, internet gateways, endpoints).
 */
export type RouteTargetVerdict = "carries" | "indirect" | "refused";

interface TargetFacts {
  /** The aws.ec2.Route input that names it. */
  readonly input: string;
  /** How people call it. */
  readonly label: string;
  readonly verdict: RouteTargetVerdict;
  /** An example id, for messages. */
  readonly example: string;
  readonly pattern: RegExp;
}

const hexId = (prefix: string) => new RegExp(`^${prefix}-[0-9a-f]{8,17}$`);

export const ROUTE_TARGETS: Readonly<Record<RouteTargetKind, TargetFacts>> = Object.freeze({
  transitGatewayId: {
    input: "transitGatewayId",
    label: "transit gateway",
    verdict: "carries",
    example: "tgw-0123456789abcdef0",
    pattern: hexId("tgw"),
  },
  vpnGatewayId: {
    input: "gatewayId",
    label: "virtual private gateway",
    verdict: "carries",
    example: "vgw-0123456789abcdef0",
    pattern: hexId("vgw"),
  },
  // A Route's coreNetworkArn (provider docs above) sends traffic into the Cloud WAN core network.
  coreNetworkArn: {
    input: "coreNetworkArn",
    label: "Cloud WAN core network",
    verdict: "carries",
    example: "arn:aws:networkmanager::123456789012:core-network/core-network-0123456789abcdef0",
    pattern: /^arn:aws[\w-]*:networkmanager::\d{12}:core-network\/core-network-[0-9a-f]{8,17}$/,
  },
  // A NAT gateway, public or private, translates the instances' source address to its own:
  // https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html
  natGatewayId: {
    input: "natGatewayId",
    label: "NAT gateway",
    verdict: "indirect",
    example: "nat-0123456789abcdef0",
    pattern: hexId("nat"),
  },
  networkInterfaceId: {
    input: "networkInterfaceId",
    label: "network interface (appliance)",
    verdict: "indirect",
    example: "eni-0123456789abcdef0",
    pattern: hexId("eni"),
  },
});

/** Why an indirect target needs `allowIndirectTarget`, for messages. */
export const INDIRECT_TARGET_REASON =
  "traffic leaves through a device that may rewrite its source (a NAT gateway always does: " +
  "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html), so HKEX sees that " +
  "device's address, not the SFTP client's; the address registered with HKEX must be the device's";

export interface RouteTarget {
  readonly kind: RouteTargetKind;
  readonly id: string;
}

/** The one Route input that sends a route to `target`. */
export function routeTargetArgs(target: RouteTarget): Record<string, string> {
  return { [ROUTE_TARGETS[target.kind].input]: target.id };
}

/** A route's target as read back from its inputs or state. */
export interface ReadRouteTarget {
  /** The Route input that names it: gatewayId, transitGatewayId, ... */
  readonly input: string;
  readonly id: string;
  readonly label: string;
  readonly verdict: RouteTargetVerdict;
}

// ---------------------------------------------------------------------------
// Every target an aws.ec2.Route may name: what the program's plan reads back,
// and what the policy pack's flow evaluator (policies/flows) follows. The
// program writes only the kinds of ROUTE_TARGETS; a stack may hold any.

/** Every kind of route target AWS offers, by what it does with traffic toward HKEX. */
export type AwsRouteTargetKind =
  | "local"
  | "transit-gateway"
  | "virtual-private-gateway"
  | "core-network"
  | "internet-gateway"
  | "vpc-peering"
  | "nat-gateway"
  | "network-interface"
  | "instance"
  | "vpc-endpoint"
  | "egress-only-internet-gateway"
  | "carrier-gateway"
  | "local-gateway"
  | "odb-network"
  | "unknown";

interface AwsTargetFacts {
  readonly label: string;
  readonly verdict: RouteTargetVerdict;
  /** Why a refused or indirect target does not (or may not) carry traffic to HKEX. */
  readonly why?: string;
}

/** What each kind does with traffic toward HKEX's private ranges. */
export const AWS_ROUTE_TARGETS: Readonly<Record<AwsRouteTargetKind, AwsTargetFacts>> = Object.freeze({
  "transit-gateway": { label: ROUTE_TARGETS.transitGatewayId.label, verdict: "carries" },
  "virtual-private-gateway": { label: ROUTE_TARGETS.vpnGatewayId.label, verdict: "carries" },
  "core-network": { label: ROUTE_TARGETS.coreNetworkArn.label, verdict: "carries" },
  "internet-gateway": { label: "internet gateway", verdict: "refused", why: "an internet gateway cannot reach HKEX's private addresses" },
  "vpc-peering": {
    label: "VPC peering connection",
    verdict: "refused",
    why: "VPC peering is not transitive: the peer VPC's own circuit to HKEX cannot carry this VPC's traffic",
  },
  local: {
    label: "local (the VPC itself)",
    verdict: "refused",
    why: "the VPC's local route covers it, so the traffic never leaves the VPC",
  },
  "egress-only-internet-gateway": {
    label: "egress-only internet gateway",
    verdict: "refused",
    why: "an egress-only internet gateway carries IPv6 only",
  },
  "carrier-gateway": { label: "carrier gateway", verdict: "refused", why: "a carrier gateway leads to the carrier network, not to HKEX" },
  "nat-gateway": {
    label: ROUTE_TARGETS.natGatewayId.label,
    verdict: "indirect",
    why: "a NAT gateway forwards by its own subnet's route table (a private NAT gateway to a transit gateway can reach HKEX), which this check does not follow",
  },
  "network-interface": {
    label: ROUTE_TARGETS.networkInterfaceId.label,
    verdict: "indirect",
    why: "a network interface (an appliance) forwards by its own configuration, which this check does not follow",
  },
  instance: {
    label: "instance (appliance)",
    verdict: "indirect",
    why: "an instance (an appliance) forwards by its own configuration, which this check does not follow",
  },
  "vpc-endpoint": {
    label: "VPC endpoint (Gateway Load Balancer)",
    verdict: "indirect",
    why: "a Gateway Load Balancer endpoint hands traffic to inspection appliances, which this check does not follow",
  },
  // An Outposts local gateway leads to the on-premises network, which may carry on to HKEX after its own NAT.
  "local-gateway": {
    label: "Outposts local gateway",
    verdict: "indirect",
    why: "an Outposts local gateway forwards to the on-premises network, which this check does not follow",
  },
  "odb-network": {
    label: "Oracle Database@AWS network",
    verdict: "indirect",
    why: "an Oracle Database@AWS network is not a path to HKEX this check knows",
  },
  unknown: { label: "gateway", verdict: "indirect", why: "the route's target is not known" },
});

/** The aws.ec2.Route inputs that name a target, in the order read; `gatewayId` names several kinds, told apart by id. */
export const ROUTE_TARGET_FIELDS: readonly { readonly field: string; readonly kind: AwsRouteTargetKind }[] = [
  { field: "transitGatewayId", kind: "transit-gateway" },
  { field: "coreNetworkArn", kind: "core-network" },
  { field: "natGatewayId", kind: "nat-gateway" },
  { field: "vpcPeeringConnectionId", kind: "vpc-peering" },
  { field: "networkInterfaceId", kind: "network-interface" },
  { field: "instanceId", kind: "instance" },
  { field: "vpcEndpointId", kind: "vpc-endpoint" },
  { field: "egressOnlyGatewayId", kind: "egress-only-internet-gateway" },
  { field: "carrierGatewayId", kind: "carrier-gateway" },
  { field: "localGatewayId", kind: "local-gateway" },
  { field: "odbNetworkArn", kind: "odb-network" },
  { field: "gatewayId", kind: "unknown" },
];

/** Id prefixes AWS gives each target kind; `gatewayId` takes an internet or virtual private gateway, and the API accepts others there too. */
const ROUTE_TARGET_ID_PREFIXES: readonly (readonly [string, AwsRouteTargetKind])[] = [
  ["igw-", "internet-gateway"],
  ["vgw-", "virtual-private-gateway"],
  ["tgw-", "transit-gateway"],
  ["nat-", "nat-gateway"],
  ["pcx-", "vpc-peering"],
  ["eni-", "network-interface"],
  ["i-", "instance"],
  ["vpce-", "vpc-endpoint"],
  ["eigw-", "egress-only-internet-gateway"],
  ["cagw-", "carrier-gateway"],
  ["lgw-", "local-gateway"],
];

/** The kind of a known target id in `field`: the field's own kind, or for `gatewayId` the id's prefix. */
export function routeTargetKindOf(field: string, id: string): AwsRouteTargetKind {
  if (id === "local") return "local";
  const kind = ROUTE_TARGET_FIELDS.find((f) => f.field === field)?.kind ?? "unknown";
  return kind === "unknown" ? (ROUTE_TARGET_ID_PREFIXES.find(([p]) => id.startsWith(p))?.[1] ?? "unknown") : kind;
}

/** The target a Route's inputs (or state) name: the first target input that is set, classified. */
export function readRouteTarget(inputs: Readonly<Record<string, unknown>>): ReadRouteTarget | undefined {
  for (const { field } of ROUTE_TARGET_FIELDS) {
    const id = inputs[field];
    if (typeof id !== "string" || id === "") continue;
    const facts = AWS_ROUTE_TARGETS[routeTargetKindOf(field, id)];
    return { input: field, id, label: facts.label, verdict: facts.verdict };
  }
  return undefined;
}

/** The id of the target a Route's inputs name, if any. */
export function routeTargetOf(inputs: Readonly<Record<string, unknown>>): string | undefined {
  return readRouteTarget(inputs)?.id;
}
