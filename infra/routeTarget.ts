/**
 * Where the routes toward HKEX point: the kinds of target the stack config
 * accepts and the aws.ec2.Route input each one sets. A virtual private
 * gateway is a Route's `gatewayId`:
 * https://www.pulumi.com/registry/packages/aws/api-docs/ec2/route/
 *
 * No imports, so the plan can read routes back without the provider.
 */
export const ROUTE_TARGET_KINDS = ["transitGatewayId", "vpnGatewayId", "networkInterfaceId", "vpcPeeringConnectionId"] as const;
export type RouteTargetKind = (typeof ROUTE_TARGET_KINDS)[number];

const ROUTE_TARGET_INPUT = Object.freeze({
  transitGatewayId: "transitGatewayId",
  vpnGatewayId: "gatewayId",
  networkInterfaceId: "networkInterfaceId",
  vpcPeeringConnectionId: "vpcPeeringConnectionId",
} as const satisfies Record<RouteTargetKind, string>);
export type RouteTargetInput = (typeof ROUTE_TARGET_INPUT)[RouteTargetKind];

/** The Route inputs that name a target, in the order of ROUTE_TARGET_KINDS. */
const ROUTE_TARGET_INPUTS: readonly RouteTargetInput[] = ROUTE_TARGET_KINDS.map((kind) => ROUTE_TARGET_INPUT[kind]);

export interface RouteTarget {
  readonly kind: RouteTargetKind;
  readonly id: string;
}

/** The one Route input that sends a route to `target`. */
export function routeTargetArgs(target: RouteTarget): Partial<Record<RouteTargetInput, string>> {
  return { [ROUTE_TARGET_INPUT[target.kind]]: target.id };
}

/** The target a Route's inputs name, if any: the first target input that is set. */
export function routeTargetOf(inputs: Readonly<Record<string, unknown>>): unknown {
  return ROUTE_TARGET_INPUTS.map((input) => inputs[input]).find((v) => v !== undefined);
}
