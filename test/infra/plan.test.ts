/**
 * The rows `hkex-ready plan` prints, from resources as the mock runtime
 * records them: one per planned AWS resource, ordered group, rules, NACL
 * egress, NACL ingress, routes, paths, analyses.
 */
import { describe, expect, it } from "vitest";
import { HKEX_SITES, SITE_NAMES } from "../../catalogue";
import { AWS_TYPES } from "../../infra/awsTypes";
import { type CapturedResource, runUnderMocks } from "../../infra/mockRuntime";
import { endpointPlans, planRows, planWarnings } from "../../infra/plan";
import { config } from "../support/infra";

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

describe("endpointPlans", () => {
  const values = {
    vpcId: "vpc-0a1b2c3d4e5f60789",
    attach: { networkInterfaceIds: ["eni-0a1b2c3d4e5f60789"] },
    networkAclIds: ["acl-0a1b2c3d4e5f60789"],
    routeTableIds: ["rtb-0a1b2c3d4e5f60789"],
    routeTarget: { coreNetworkArn: "arn:aws:networkmanager::123456789012:core-network/core-network-0a1b2c3d4e5f60789" },
    reachability: { analyze: true },
  };

  it("lays out, per endpoint, the attachment, egress rule, both NACL rules, the route with its target kind and the path", async () => {
    const run = await runUnderMocks(config(values));
    const [, second] = endpointPlans(run.resources, { sites });
    expect(second).toEqual({
      site: "primary",
      host: "10.151.14.142",
      port: 18801,
      steps: [
        {
          step: "attachment",
          detail: "hkex-sftp-sg (new) on eni-0a1b2c3d4e5f60789",
          resource: "hkex-sftp-attach-eni-0a1b2c3d4e5f60789",
        },
        {
          step: "sg egress",
          detail: "tcp/18801 to 10.151.14.142/32 on hkex-sftp-sg (new)",
          resource: "hkex-sftp-egress-primary-10-151-14-142",
        },
        {
          step: "nacl egress",
          detail: "acl-0a1b2c3d4e5f60789 #200 allow tcp/18801 to 10.151.14.0/24",
          resource: "hkex-sftp-acl-0a1b2c3d4e5f60789-egress-primary",
        },
        {
          step: "nacl ingress",
          detail: "acl-0a1b2c3d4e5f60789 #200 allow tcp/1024-65535 from 10.151.14.0/24",
          resource: "hkex-sftp-acl-0a1b2c3d4e5f60789-ingress-primary",
        },
        {
          step: "route",
          detail:
            "rtb-0a1b2c3d4e5f60789 10.151.14.0/24 via Cloud WAN core network arn:aws:networkmanager::123456789012:core-network/core-network-0a1b2c3d4e5f60789",
          resource: "hkex-sftp-rtb-0a1b2c3d4e5f60789-10-151-14-0-24",
        },
        {
          step: "reachability path",
          detail: "from eni-0a1b2c3d4e5f60789 tcp, filterAtSource destinationAddress 10.151.14.142 destinationPortRange 18801-18801",
          resource: "hkex-sftp-path-eni-0a1b2c3d4e5f60789-primary-10-151-14-142",
        },
        {
          step: "reachability analysis",
          detail: "of that path, on pulumi up after every rule, route and attachment; pathFound in stack output reachability",
          resource: "hkex-sftp-analysis-eni-0a1b2c3d4e5f60789-primary-10-151-14-142",
        },
      ],
      missing: [],
    });
  });

  it("names what an endpoint has none of", async () => {
    const run = await runUnderMocks(config({ vpcId: "vpc-0a1b2c3d4e5f60789" }));
    expect(endpointPlans(run.resources, { sites }).map((e) => e.missing)).toEqual(
      Array(4).fill(["attachment", "nacl egress", "nacl ingress", "route", "reachability path", "reachability analysis"]),
    );
  });
});

describe("planWarnings", () => {
  const base = { vpcCidrBlocks: ["10.20.0.0/16"], reachability: { sourceIds: [], analyze: true }, routeTarget: undefined };

  it("warns about a new group attached to nothing, naming the key to set", () => {
    expect(planWarnings({ ...base, vpcId: "vpc-0a1b2c3d4e5f60789", attach: { networkInterfaceIds: [] } })).toEqual([
      "hkex-sftp-readiness:attach: the new security group is attached to no network interface, so its egress rules reach no SFTP client; " +
        "list the client ENIs in hkex-sftp-readiness:attach.networkInterfaceIds, or attach the exported securityGroupId yourself",
    ]);
    expect(planWarnings({ ...base, vpcId: "vpc-0a1b2c3d4e5f60789", attach: { networkInterfaceIds: ["eni-0a1b2c3d4e5f60789"] } })).toEqual(
      [],
    );
  });

  it("says what an offline plan cannot check and what was accepted with a reason", () => {
    expect(
      planWarnings({
        securityGroupId: "sg-0fedcba9876543210",
        attach: { networkInterfaceIds: [] },
        vpcCidrBlocks: [],
        reachability: { sourceIds: ["eni-0a1b2c3d4e5f60789"], analyze: false },
        routeTarget: {
          kind: "natGatewayId",
          id: "nat-0a1b2c3d4e5f60789",
          allowIndirectTarget: { reason: "NAT address registered with HKEX" },
        },
      }),
    ).toEqual([
      "hkex-sftp-readiness:securityGroupId: the live egress rules of sg-0fedcba9876543210 are read and checked during pulumi preview; this offline plan cannot read them",
      "hkex-sftp-readiness:vpcCidrBlocks: not given, so the VPC's CIDR was not checked against the HKEX ranges",
      "hkex-sftp-readiness:reachability.analyze: false, so the paths are declared but never analysed",
      "hkex-sftp-readiness:routeTarget: routes go through a NAT gateway (nat-0a1b2c3d4e5f60789); HKEX sees that device's address. Accepted because: NAT address registered with HKEX",
    ]);
  });
});
