/**
 * The rows `hkex-ready plan` prints, from resources as the mock runtime
 * records them: one per planned AWS resource, ordered group, rules, NACL
 * egress, NACL ingress, routes, paths, analyses.
 */
import { describe, expect, it } from "vitest";
import { HKEX_SITES, SITE_NAMES } from "../../catalogue";
import { AWS_TYPES } from "../../infra/awsTypes";
import type { CapturedResource } from "../../infra/mockRuntime";
import { planRows } from "../../infra/plan";

const sites = SITE_NAMES.map((s) => HKEX_SITES[s]);

function captured(type: string, name: string, inputs: Record<string, unknown>, id?: string): CapturedResource {
  return { type, name, inputs, id, custom: true, urn: `urn:pulumi:dev::hkex-sftp-readiness::${type}::${name}`, outputs: {} };
}

const PATH_ID = "nip-00000000000000005";
const resources: CapturedResource[] = [
  captured(AWS_TYPES.networkInsightsAnalysis, "analysis", { networkInsightsPathId: PATH_ID }, "nia-00000000000000006"),
  captured(
    AWS_TYPES.networkInsightsPath,
    "path",
    { source: "i-0a1b2c3d4e5f60789", destinationIp: "10.152.14.142", destinationPort: 18801, protocol: "tcp" },
    PATH_ID,
  ),
  captured(AWS_TYPES.route, "route", {
    routeTableId: "rtb-0a1b2c3d4e5f60789",
    destinationCidrBlock: "10.151.14.141/32",
    gatewayId: "vgw-0a1b2c3d4e5f60789",
  }),
  captured(AWS_TYPES.networkAclRule, "in", {
    networkAclId: "acl-0a1b2c3d4e5f60789",
    ruleNumber: 200,
    egress: false,
    protocol: "tcp",
    cidrBlock: "10.151.14.0/24",
    fromPort: 1024,
    toPort: 65535,
  }),
  captured(AWS_TYPES.securityGroupEgressRule, "to-elsewhere", {
    securityGroupId: "sg-00000000000000001",
    ipProtocol: "tcp",
    fromPort: 443,
    toPort: 443,
    cidrIpv4: "192.0.2.10/32",
  }),
  captured(AWS_TYPES.securityGroupEgressRule, "on-existing", {
    securityGroupId: "sg-0fedcba9876543210",
    ipProtocol: "tcp",
    fromPort: 18801,
    toPort: 18801,
    cidrIpv4: "10.152.14.141/32",
  }),
  captured(AWS_TYPES.routeTable, "table", { vpcId: "vpc-0a1b2c3d4e5f60789" }, "rtb-0a1b2c3d4e5f60789"),
  captured(AWS_TYPES.securityGroup, "group", { vpcId: "vpc-0a1b2c3d4e5f60789" }, "sg-00000000000000001"),
];

describe("planRows", () => {
  it("lists each planned resource with its site, destination, port and target, in reading order", () => {
    expect(planRows(resources, { sites }).map((r) => [r.kind, r.site, r.destination, r.port, r.target, r.resource])).toEqual([
      ["security group", "-", "-", "-", "in vpc-0a1b2c3d4e5f60789", "group"],
      ["sg egress", "secondary", "10.152.14.141/32", "tcp/18801", "sg-0fedcba9876543210", "on-existing"],
      ["sg egress", "-", "192.0.2.10/32", "tcp/443", "group (new)", "to-elsewhere"],
      ["nacl ingress #200", "primary", "10.151.14.0/24", "tcp/1024-65535", "acl-0a1b2c3d4e5f60789", "in"],
      ["route", "primary", "10.151.14.141/32", "-", "rtb-0a1b2c3d4e5f60789 via vgw-0a1b2c3d4e5f60789", "route"],
      ["reachability path", "secondary", "10.152.14.142", "tcp/18801", "from i-0a1b2c3d4e5f60789", "path"],
      ["reachability analysis", "secondary", "10.152.14.142", "tcp/18801", "path path", "analysis"],
    ]);
  });

  it("shows what is not known as -", () => {
    const [row] = planRows([captured(AWS_TYPES.networkInsightsAnalysis, "orphan", { networkInsightsPathId: "nip-0" })], { sites });
    expect(row).toEqual({
      kind: "reachability analysis",
      site: "-",
      destination: "-",
      port: "-",
      target: "path nip-0",
      resource: "orphan",
    });
  });
});
