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

/**
 * Every target input of aws.ec2.Route, in the order read back. `gatewayId`
 * holds a virtual private gateway (vgw-), an internet gateway (igw-) or
 * "local"; the id decides.
 */
const ROUTE_INPUT_READERS: readonly { input: string; read(id: string): Omit<ReadRouteTarget, "input" | "id"> }[] = [
  { input: "transitGatewayId", read: () => facts("transitGatewayId") },
  { input: "coreNetworkArn", read: () => facts("coreNetworkArn") },
  {
    input: "gatewayId",
    read: (id) =>
      id.startsWith("vgw-")
        ? facts("vpnGatewayId")
        : id === "local"
          ? { label: "local (the VPC itself)", verdict: "refused" }
          : { label: id.startsWith("igw-") ? "internet gateway" : "gateway", verdict: "refused" },
  },
  { input: "natGatewayId", read: () => facts("natGatewayId") },
  { input: "networkInterfaceId", read: () => facts("networkInterfaceId") },
  { input: "vpcPeeringConnectionId", read: () => ({ label: "VPC peering connection", verdict: "refused" }) },
  { input: "egressOnlyGatewayId", read: () => ({ label: "egress-only internet gateway", verdict: "refused" }) },
  { input: "vpcEndpointId", read: () => ({ label: "VPC endpoint", verdict: "refused" }) },
  { input: "carrierGatewayId", read: () => ({ label: "carrier gateway", verdict: "refused" }) },
  // An Outposts local gateway leads to the on-premises network, which may carry on to HKEX after its own NAT.
  { input: "localGatewayId", read: () => ({ label: "Outposts local gateway", verdict: "indirect" }) },
];

function facts(kind: RouteTargetKind): Omit<ReadRouteTarget, "input" | "id"> {
  return { label: ROUTE_TARGETS[kind].label, verdict: ROUTE_TARGETS[kind].verdict };
}

/** The target a Route's inputs (or state) name: the first target input that is set, classified. */
export function readRouteTarget(inputs: Readonly<Record<string, unknown>>): ReadRouteTarget | undefined {
  for (const reader of ROUTE_INPUT_READERS) {
    const id = inputs[reader.input];
    if (typeof id === "string" && id !== "") return { input: reader.input, id, ...reader.read(id) };
  }
  return undefined;
}

/** The id of the target a Route's inputs name, if any. */
export function routeTargetOf(inputs: Readonly<Record<string, unknown>>): string | undefined {
  return readRouteTarget(inputs)?.id;
}
