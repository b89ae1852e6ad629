/**
 * The SftpAccess component under Pulumi's mock runtime: which resources a
 * config declares, with exactly which inputs.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { InputError } from "../../core/errors";
import { AWS_TYPES } from "../../infra/awsTypes";
import { parseStackConfig, validateSftpAccessArgs } from "../../infra/config";
import { createMocks, runUnderMocks, type CapturedResource } from "../../infra/mockRuntime";
import { SftpAccess } from "../../infra/sftpAccess";

const NS = "hkex-sftp-readiness";
function config(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${NS}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
}
const ofType = (rs: readonly CapturedResource[], type: string) => rs.filter((r) => r.type === type);
const named = (rs: readonly CapturedResource[], name: string) => rs.find((r) => r.name === name)!;

const FULL = config({
  vpcId: "vpc-0a1b2c3d4e5f60789",
  networkAclIds: ["acl-0a1b2c3d4e5f60789"],
  naclRuleNumberBase: 300,
  routeTableIds: ["rtb-0a1b2c3d4e5f60789", "rtb-0b1c2d3e4f5a60789"],
  routeTarget: { transitGatewayId: "tgw-0a1b2c3d4e5f60789" },
  reachability: { sourceId: "i-0a1b2c3d4e5f60789", analyze: true },
});

describe("SftpAccess with a new group, one NACL, two route tables and analyses", async () => {
  const run = await runUnderMocks(FULL, "dev");
  const rs = run.resources;

  it("declares one component and its 27 children", () => {
    expect(rs.filter((r) => !r.custom).map((r) => r.type)).toEqual(["hkex:network:SftpAccess"]);
    const custom = rs.filter((r) => r.custom);
    expect(Object.fromEntries([...new Set(custom.map((r) => r.type))].map((t) => [t, ofType(rs, t).length]))).toEqual({
      [AWS_TYPES.securityGroup]: 1,
      [AWS_TYPES.securityGroupEgressRule]: 4,
      [AWS_TYPES.networkAclRule]: 4,
      [AWS_TYPES.route]: 4,
      [AWS_TYPES.networkInsightsPath]: 4,
      [AWS_TYPES.networkInsightsAnalysis]: 4,
    });
    const component = rs.find((r) => !r.custom)!;
    expect(rs.filter((r) => r.custom).every((r) => r.parent === component.urn)).toBe(true);
  });

  it("creates the group in the VPC with no inline rules", () => {
    expect(named(rs, "hkex-sftp-sg").inputs).toEqual({
      vpcId: "vpc-0a1b2c3d4e5f60789",
      description: "Egress to the HKEX derivatives SFTP facility on TCP 18801",
      tags: { "hkex:component": "hkex-sftp", Name: "hkex-sftp-sg" },
    });
  });

  it("opens TCP 18801 to each endpoint as a /32 on that group, described by site and host", () => {
    const sgId = named(rs, "hkex-sftp-sg").id;
    expect(named(rs, "hkex-sftp-egress-secondary-10-152-14-142").inputs).toEqual({
      securityGroupId: sgId,
      ipProtocol: "tcp",
      fromPort: 18801,
      toPort: 18801,
      cidrIpv4: "10.152.14.142/32",
      description: "HKEX SFTP secondary (Secondary Data Centre) 10.152.14.142:18801",
      tags: { "hkex:component": "hkex-sftp" },
    });
    expect(
      ofType(rs, AWS_TYPES.securityGroupEgressRule)
        .map((r) => r.inputs.cidrIpv4)
        .sort(),
    ).toEqual(["10.151.14.141/32", "10.151.14.142/32", "10.152.14.141/32", "10.152.14.142/32"]);
  });

  it("numbers NACL rules from the base, egress 18801 out and ephemeral ports back in", () => {
    const rules = ofType(rs, AWS_TYPES.networkAclRule).map((r) => r.inputs);
    expect(rules).toEqual(
      expect.arrayContaining([
        {
          networkAclId: "acl-0a1b2c3d4e5f60789",
          ruleNumber: 300,
          egress: true,
          protocol: "tcp",
          ruleAction: "allow",
          cidrBlock: "10.151.14.0/24",
          fromPort: 18801,
          toPort: 18801,
        },
        {
          networkAclId: "acl-0a1b2c3d4e5f60789",
          ruleNumber: 300,
          egress: false,
          protocol: "tcp",
          ruleAction: "allow",
          cidrBlock: "10.151.14.0/24",
          fromPort: 1024,
          toPort: 65535,
        },
        {
          networkAclId: "acl-0a1b2c3d4e5f60789",
          ruleNumber: 301,
          egress: true,
          protocol: "tcp",
          ruleAction: "allow",
          cidrBlock: "10.152.14.0/24",
          fromPort: 18801,
          toPort: 18801,
        },
        {
          networkAclId: "acl-0a1b2c3d4e5f60789",
          ruleNumber: 301,
          egress: false,
          protocol: "tcp",
          ruleAction: "allow",
          cidrBlock: "10.152.14.0/24",
          fromPort: 1024,
          toPort: 65535,
        },
      ]),
    );
    // Rule numbers are unique per NACL and direction.
    const keys = rules.map((r) => `${r.networkAclId}/${r.egress}/${r.ruleNumber}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("routes each site range through the transit gateway in every table", () => {
    expect(
      ofType(rs, AWS_TYPES.route)
        .map((r) => r.inputs)
        .sort((a, b) => `${a.routeTableId}${a.destinationCidrBlock}`.localeCompare(`${b.routeTableId}${b.destinationCidrBlock}`)),
    ).toEqual([
      { routeTableId: "rtb-0a1b2c3d4e5f60789", destinationCidrBlock: "10.151.14.0/24", transitGatewayId: "tgw-0a1b2c3d4e5f60789" },
      { routeTableId: "rtb-0a1b2c3d4e5f60789", destinationCidrBlock: "10.152.14.0/24", transitGatewayId: "tgw-0a1b2c3d4e5f60789" },
      { routeTableId: "rtb-0b1c2d3e4f5a60789", destinationCidrBlock: "10.151.14.0/24", transitGatewayId: "tgw-0a1b2c3d4e5f60789" },
      { routeTableId: "rtb-0b1c2d3e4f5a60789", destinationCidrBlock: "10.152.14.0/24", transitGatewayId: "tgw-0a1b2c3d4e5f60789" },
    ]);
  });

  it("declares a Reachability Analyzer path per endpoint and an analysis of each", () => {
    const path = named(rs, "hkex-sftp-path-primary-10-151-14-141");
    expect(path.inputs).toEqual({
      source: "i-0a1b2c3d4e5f60789",
      destinationIp: "10.151.14.141",
      destinationPort: 18801,
      protocol: "tcp",
      tags: { "hkex:component": "hkex-sftp", Name: "hkex-sftp-path-primary-10-151-14-141" },
    });
    expect(named(rs, "hkex-sftp-analysis-primary-10-151-14-141").inputs).toEqual({
      networkInsightsPathId: path.id,
      waitForCompletion: true,
      tags: { "hkex:component": "hkex-sftp" },
    });
  });

  it("exports the group, the rule and route ids and a per-endpoint table", () => {
    const id = (name: string) => named(rs, name).id;
    expect(run.outputs.securityGroupId).toBe(id("hkex-sftp-sg"));
    expect(run.outputs.egressRuleIds).toHaveLength(4);
    expect(run.outputs.naclRuleIds).toHaveLength(4);
    expect(run.outputs.routeIds).toHaveLength(4);
    expect(run.outputs.reachabilityAnalysisIds).toHaveLength(4);
    expect((run.outputs.endpoints as unknown[])[2]).toEqual({
      site: "secondary",
      host: "10.152.14.141",
      port: 18801,
      rule: id("hkex-sftp-egress-secondary-10-152-14-141"),
      routes: [id("hkex-sftp-rtb-0a1b2c3d4e5f60789-10-152-14-0-24"), id("hkex-sftp-rtb-0b1c2d3e4f5a60789-10-152-14-0-24")],
    });
  });

  it("keeps URNs stable, so renaming code never replaces live rules", () => {
    const urns = rs
      .filter((r) => r.type === AWS_TYPES.securityGroup || r.type === AWS_TYPES.securityGroupEgressRule || !r.custom)
      .map((r) => r.urn)
      .sort();
    expect(urns).toEqual([
      "urn:pulumi:dev::hkex-sftp-readiness::hkex:network:SftpAccess$aws:ec2/securityGroup:SecurityGroup::hkex-sftp-sg",
      "urn:pulumi:dev::hkex-sftp-readiness::hkex:network:SftpAccess$aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::hkex-sftp-egress-primary-10-151-14-141",
      "urn:pulumi:dev::hkex-sftp-readiness::hkex:network:SftpAccess$aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::hkex-sftp-egress-primary-10-151-14-142",
      "urn:pulumi:dev::hkex-sftp-readiness::hkex:network:SftpAccess$aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::hkex-sftp-egress-secondary-10-152-14-141",
      "urn:pulumi:dev::hkex-sftp-readiness::hkex:network:SftpAccess$aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::hkex-sftp-egress-secondary-10-152-14-142",
      "urn:pulumi:dev::hkex-sftp-readiness::hkex:network:SftpAccess::hkex-sftp",
    ]);
    expect(
      ofType(rs, AWS_TYPES.networkAclRule)
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      "hkex-sftp-acl-0a1b2c3d4e5f60789-egress-primary",
      "hkex-sftp-acl-0a1b2c3d4e5f60789-egress-secondary",
      "hkex-sftp-acl-0a1b2c3d4e5f60789-ingress-primary",
      "hkex-sftp-acl-0a1b2c3d4e5f60789-ingress-secondary",
    ]);
  });
});

describe("SftpAccess on an existing group with /32 routes over a VPN gateway", async () => {
  const run = await runUnderMocks(
    config({
      securityGroupId: "sg-0fedcba9876543210",
      routeTableIds: ["rtb-0a1b2c3d4e5f60789"],
      routeTarget: { vpnGatewayId: "vgw-0a1b2c3d4e5f60789" },
      routeGranularity: "host",
      reachability: { sourceId: "eni-0a1b2c3d4e5f60789" },
    }),
  );
  const rs = run.resources;

  it("adds the rules to the given group and creates none", () => {
    expect(ofType(rs, AWS_TYPES.securityGroup)).toEqual([]);
    expect(ofType(rs, AWS_TYPES.securityGroupEgressRule).map((r) => r.inputs.securityGroupId)).toEqual(
      Array(4).fill("sg-0fedcba9876543210"),
    );
    expect(run.outputs.securityGroupId).toBe("sg-0fedcba9876543210");
  });

  it("routes each endpoint /32 through the gateway as a Route's gatewayId", () => {
    expect(
      ofType(rs, AWS_TYPES.route)
        .map((r) => r.inputs.destinationCidrBlock)
        .sort(),
    ).toEqual(["10.151.14.141/32", "10.151.14.142/32", "10.152.14.141/32", "10.152.14.142/32"]);
    expect(
      ofType(rs, AWS_TYPES.route).every((r) => r.inputs.gatewayId === "vgw-0a1b2c3d4e5f60789" && Object.keys(r.inputs).length === 3),
    ).toBe(true);
    expect((run.outputs.endpoints as { routes: string[] }[]).map((e) => e.routes.length)).toEqual([1, 1, 1, 1]);
  });

  it("declares paths but no analyses unless asked, and no NACL rules without networkAclIds", () => {
    expect(ofType(rs, AWS_TYPES.networkInsightsPath)).toHaveLength(4);
    expect(ofType(rs, AWS_TYPES.networkInsightsAnalysis)).toHaveLength(0);
    expect(ofType(rs, AWS_TYPES.networkAclRule)).toHaveLength(0);
  });
});

describe("each route target kind", () => {
  it.each([
    ["networkInterfaceId", "eni-0a1b2c3d4e5f60789", "networkInterfaceId"],
    ["vpcPeeringConnectionId", "pcx-0a1b2c3d4e5f60789", "vpcPeeringConnectionId"],
  ])("%s", async (kind, id, input) => {
    const run = await runUnderMocks(
      config({ vpcId: "vpc-0a1b2c3d4e5f60789", routeTableIds: ["rtb-0a1b2c3d4e5f60789"], routeTarget: { [kind]: id } }),
    );
    expect(ofType(run.resources, AWS_TYPES.route).map((r) => r.inputs[input])).toEqual([id, id]);
  });
});

describe("validation and mocks", () => {
  it("rejects bad config before registering any resource", async () => {
    const before = pulumi.runtime.getMonitor();
    await expect(runUnderMocks(config({ vpcId: "vpc-0a1b2c3d4e5f60789", routeTableIds: ["rtb-0a1b2c3d4e5f60789"] }))).rejects.toThrow(
      InputError,
    );
    expect(before).not.toBe(pulumi.runtime.getMonitor());
    const monitor = pulumi.runtime.getMonitor() as unknown as { getRegisteredResources(): Map<string, unknown> };
    expect(monitor.getRegisteredResources().size).toBe(0);
  });

  it("checks args given in code with validateSftpAccessArgs, before registering anything, itself included", async () => {
    const recorded: string[] = [];
    await pulumi.runtime.setMocks(
      createMocks((r) => recorded.push(r.type)),
      NS,
      "dev",
    );
    const args = parseStackConfig(config({ vpcId: "vpc-0a1b2c3d4e5f60789" }));
    expect(validateSftpAccessArgs(args)).toEqual([]);
    const bad = { ...args, securityGroupId: "sg-0fedcba9876543210", routeTableIds: ["rtb-0a1b2c3d4e5f60789"] };
    const error = (() => {
      try {
        new SftpAccess("hkex-sftp", bad);
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems).toEqual(validateSftpAccessArgs(bad));
    expect((error as InputError).problems.map((p) => p.path)).toEqual([`${NS}:vpcId`, `${NS}:routeTarget`]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(recorded).toEqual([]);
  });

  it("fails any provider function call the program did not declare", async () => {
    const recorded: string[] = [];
    await pulumi.runtime.setMocks(
      createMocks((r) => recorded.push(r.type)),
      NS,
      "dev",
    );
    await expect(aws.ec2.getVpc({ id: "vpc-0a1b2c3d4e5f60789" })).rejects.toThrow("Mock not implemented: aws:ec2/getVpc:getVpc");
    expect(recorded).toEqual([]);
  });
});
