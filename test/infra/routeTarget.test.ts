import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ROUTE_TARGET_KINDS, routeTargetArgs, routeTargetOf } from "../../infra/routeTarget";

describe("route targets", () => {
  it("send a virtual private gateway through a Route's gatewayId and the others through their own input", () => {
    expect(routeTargetArgs({ kind: "vpnGatewayId", id: "vgw-0a1b2c3d4e5f60789" })).toEqual({ gatewayId: "vgw-0a1b2c3d4e5f60789" });
    expect(routeTargetArgs({ kind: "transitGatewayId", id: "tgw-0a1b2c3d4e5f60789" })).toEqual({
      transitGatewayId: "tgw-0a1b2c3d4e5f60789",
    });
  });

  it("read back from a route's inputs as the one target they set", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ROUTE_TARGET_KINDS), fc.stringMatching(/^[0-9a-f]{8,17}$/), (kind, hex) => {
        const args = routeTargetArgs({ kind, id: `x-${hex}` });
        expect(Object.keys(args)).toHaveLength(1);
        expect(routeTargetOf({ routeTableId: "rtb-0a1b2c3d4e5f60789", destinationCidrBlock: "10.151.14.0/24", ...args })).toBe(`x-${hex}`);
      }),
    );
    expect(routeTargetOf({ routeTableId: "rtb-0a1b2c3d4e5f60789" })).toBeUndefined();
  });
});
