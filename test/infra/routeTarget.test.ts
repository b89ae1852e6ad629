import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ROUTE_TARGET_KINDS, ROUTE_TARGETS, readRouteTarget, routeTargetArgs, routeTargetOf } from "../../infra/routeTarget";

describe("route targets", () => {
  it("send a virtual private gateway through a Route's gatewayId and the others through their own input", () => {
    expect(routeTargetArgs({ kind: "vpnGatewayId", id: "vgw-0a1b2c3d4e5f60789" })).toEqual({ gatewayId: "vgw-0a1b2c3d4e5f60789" });
    expect(routeTargetArgs({ kind: "transitGatewayId", id: "tgw-0a1b2c3d4e5f60789" })).toEqual({
      transitGatewayId: "tgw-0a1b2c3d4e5f60789",
    });
    expect(routeTargetArgs({ kind: "coreNetworkArn", id: ROUTE_TARGETS.coreNetworkArn.example })).toEqual({
      coreNetworkArn: ROUTE_TARGETS.coreNetworkArn.example,
    });
  });

  it("accept each kind's own example id and no other kind's", () => {
    for (const kind of ROUTE_TARGET_KINDS) {
      for (const other of ROUTE_TARGET_KINDS) {
        expect(ROUTE_TARGETS[kind].pattern.test(ROUTE_TARGETS[other].example)).toBe(kind === other);
      }
    }
  });

  it("read back from a route's inputs as the one target they set, with its kind and verdict", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ROUTE_TARGET_KINDS), fc.stringMatching(/^[0-9a-f]{8,17}$/), (kind, hex) => {
        const id = kind === "vpnGatewayId" ? `vgw-${hex}` : `x-${hex}`;
        const args = routeTargetArgs({ kind, id });
        expect(Object.keys(args)).toHaveLength(1);
        const inputs = { routeTableId: "rtb-0a1b2c3d4e5f60789", destinationCidrBlock: "10.151.14.0/24", ...args };
        expect(routeTargetOf(inputs)).toBe(id);
        expect(readRouteTarget(inputs)).toMatchObject({ id, label: ROUTE_TARGETS[kind].label, verdict: ROUTE_TARGETS[kind].verdict });
      }),
    );
    expect(routeTargetOf({ routeTableId: "rtb-0a1b2c3d4e5f60789" })).toBeUndefined();
  });

  it("tell a virtual private gateway from an internet gateway in gatewayId, and refuse peering and gateways that leave AWS", () => {
    const verdict = (inputs: Record<string, string>) => {
      const t = readRouteTarget(inputs);
      return t && `${t.label}: ${t.verdict}`;
    };
    expect(verdict({ gatewayId: "vgw-0a1b2c3d4e5f60789" })).toBe("virtual private gateway: carries");
    expect(verdict({ gatewayId: "igw-0a1b2c3d4e5f60789" })).toBe("internet gateway: refused");
    expect(verdict({ gatewayId: "local" })).toBe("local (the VPC itself): refused");
    expect(verdict({ vpcPeeringConnectionId: "pcx-0a1b2c3d4e5f60789" })).toBe("VPC peering connection: refused");
    expect(verdict({ egressOnlyGatewayId: "eigw-0a1b2c3d4e5f60789" })).toBe("egress-only internet gateway: refused");
    expect(verdict({ natGatewayId: "nat-0a1b2c3d4e5f60789" })).toBe("NAT gateway: indirect");
    expect(verdict({ networkInterfaceId: "eni-0a1b2c3d4e5f60789" })).toBe("network interface (appliance): indirect");
    expect(verdict({ transitGatewayId: "" })).toBeUndefined();
  });
});
