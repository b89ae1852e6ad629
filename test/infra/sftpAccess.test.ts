/**
 * The SftpAccess component under Pulumi's mock runtime: which resources a
 * config declares, with exactly which inputs and options.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { InputError } from "../../core/errors";
import { AWS_TYPES } from "../../infra/awsTypes";
import { parseStackConfig, validateSftpAccessArgs } from "../../infra/config";
import { createMocks, runUnderMocks } from "../../infra/mockRuntime";
import { PATH_INPUTS_TAG } from "../../infra/reachability";
import { SftpAccess } from "../../infra/sftpAccess";
import { config, named, ofType } from "../support/infra";

const ENI_A = "eni-0a1b2c3d4e5f60789";
const ENI_B = "eni-0b1c2d3e4f5a60789";
const FULL = config({
  vpcId: "vpc-0a1b2c3d4e5f60789",
  attach: { networkInterfaceIds: [ENI_A, ENI_B] },
  subnetIds: ["subnet-0a1b2c3d4e5f60789"],
  vpcCidrBlocks: ["10.20.0.0/16"],
  networkAclIds: ["acl-0a1b2c3d4e5f60789"],
  naclRuleNumberBase: 300,
  routeTableIds: ["rtb-0a1b2c3d4e5f60789", "rtb-0b1c2d3e4f5a60789"],
  routeTarget: { transitGatewayId: "tgw-0a1b2c3d4e5f60789" },
  reachability: { analyze: true },
});

describe("SftpAccess with a new group attached to two ENIs, one NACL, two route tables and analyses", async () => {
  const run = await runUnderMocks(FULL, "dev");
  const rs = run.resources;
  const sgId = named(rs, "hkex-sftp-sg").id;

  it("declares one component and its 37 children", () => {
    expect(rs.filter((r) => !r.custom).map((r) => r.type)).toEqual(["hkex:network:SftpAccess"]);
    const custom = rs.filter((r) => r.custom);
    expect(Object.fromEntries([...new Set(custom.map((r) => r.type))].map((t) => [t, ofType(rs, t).length]))).toEqual({
      [AWS_TYPES.securityGroup]: 1,
      [AWS_TYPES.securityGroupEgressRule]: 4,
      [AWS_TYPES.networkInterfaceSecurityGroupAttachment]: 2,
      [AWS_TYPES.networkAclRule]: 4,
      [AWS_TYPES.route]: 4,
      [AWS_TYPES.networkInsightsPath]: 8,
      [AWS_TYPES.networkInsightsAnalysis]: 8,
    });
    const component = rs.find((r) => !r.custom)!;
    expect(custom.every((r) => r.parent === component.urn)).toBe(true);
  });

  it("creates the group in the VPC with no inline rules", () => {
    expect(named(rs, "hkex-sftp-sg").inputs).toEqual({
      vpcId: "vpc-0a1b2c3d4e5f60789",
      description: "Egress to the HKEX derivatives SFTP facility on TCP 18801",
      tags: { "hkex:component": "hkex-sftp", Name: "hkex-sftp-sg" },
    });
  });

  it("attaches the group to each client ENI, one attachment per ENI", () => {
    expect(ofType(rs, AWS_TYPES.networkInterfaceSecurityGroupAttachment).map((r) => [r.name, r.inputs])).toEqual([
      ["hkex-sftp-attach-eni-0a1b2c3d4e5f60789", { networkInterfaceId: ENI_A, securityGroupId: sgId }],
      ["hkex-sftp-attach-eni-0b1c2d3e4f5a60789", { networkInterfaceId: ENI_B, securityGroupId: sgId }],
    ]);
  });

  it("opens TCP 18801 to each endpoint as a /32 on that group, described by site and host", () => {
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

  it("numbers NACL rules by site from the base, egress 18801 out and ephemeral ports back in, deleted before replaced", () => {
    const acl = "acl-0a1b2c3d4e5f60789";
    const rule = (ruleNumber: number, egress: boolean, cidrBlock: string) => ({
      networkAclId: acl,
      ruleNumber,
      egress,
      protocol: "tcp",
      ruleAction: "allow",
      cidrBlock,
      fromPort: egress ? 18801 : 1024,
      toPort: egress ? 18801 : 65535,
    });
    expect(ofType(rs, AWS_TYPES.networkAclRule).map((r) => [r.name, r.inputs, r.options?.deleteBeforeReplace])).toEqual([
      [`hkex-sftp-${acl}-egress-primary`, rule(300, true, "10.151.14.0/24"), true],
      [`hkex-sftp-${acl}-ingress-primary`, rule(300, false, "10.151.14.0/24"), true],
      [`hkex-sftp-${acl}-egress-secondary`, rule(301, true, "10.152.14.0/24"), true],
      [`hkex-sftp-${acl}-ingress-secondary`, rule(301, false, "10.152.14.0/24"), true],
    ]);
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

  it("declares a Reachability Analyzer path from each ENI to each endpoint, filtered at the source on TCP 18801", () => {
    const name = "hkex-sftp-path-eni-0b1c2d3e4f5a60789-primary-10-151-14-141";
    expect(named(rs, name).inputs).toEqual({
      source: ENI_B,
      protocol: "tcp",
      filterAtSource: { destinationAddress: "10.151.14.141", destinationPortRange: { fromPort: 18801, toPort: 18801 } },
      tags: { "hkex:component": "hkex-sftp", Name: name },
    });
    expect(
      ofType(rs, AWS_TYPES.networkInsightsPath)
        .map((r) => `${r.inputs.source} ${(r.inputs.filterAtSource as { destinationAddress: string }).destinationAddress}`)
        .sort(),
    ).toEqual(
      [ENI_A, ENI_B].flatMap((eni) => ["10.151.14.141", "10.151.14.142", "10.152.14.141", "10.152.14.142"].map((h) => `${eni} ${h}`)),
    );
  });

  it("runs each analysis after every rule, route and attachment, and again when their hash changes", () => {
    const path = named(rs, "hkex-sftp-path-eni-0a1b2c3d4e5f60789-secondary-10-152-14-141");
    const analysis = named(rs, "hkex-sftp-analysis-eni-0a1b2c3d4e5f60789-secondary-10-152-14-141");
    const hash = (analysis.inputs.tags as Record<string, string>)[PATH_INPUTS_TAG];
    expect(hash).toMatch(/^[0-9a-f]{32}$/);
    expect(analysis.inputs).toEqual({
      networkInsightsPathId: path.id,
      waitForCompletion: true,
      tags: { "hkex:component": "hkex-sftp", [PATH_INPUTS_TAG]: hash },
    });
    expect(analysis.options?.replacementTrigger).toBe(hash);
    const prerequisites = rs
      .filter((r) =>
        [
          AWS_TYPES.securityGroup,
          AWS_TYPES.securityGroupEgressRule,
          AWS_TYPES.networkInterfaceSecurityGroupAttachment,
          AWS_TYPES.networkAclRule,
          AWS_TYPES.route,
        ].includes(r.type as never),
      )
      .map((r) => r.urn);
    expect(prerequisites).toHaveLength(15);
    expect([...(analysis.dependencies ?? [])].sort()).toEqual([...prerequisites, path.urn].sort());
    // Every analysis judges the same state, so all carry the same hash.
    expect(new Set(ofType(rs, AWS_TYPES.networkInsightsAnalysis).map((a) => a.options?.replacementTrigger))).toEqual(new Set([hash]));
  });

  it("exports the group, its scope, the rule and route ids and a per-endpoint table", () => {
    const id = (name: string) => named(rs, name).id;
    expect(run.outputs.securityGroupId).toBe(sgId);
    expect(run.outputs.scope).toEqual({
      vpcId: "vpc-0a1b2c3d4e5f60789",
      subnetIds: ["subnet-0a1b2c3d4e5f60789"],
      routeTableIds: ["rtb-0a1b2c3d4e5f60789", "rtb-0b1c2d3e4f5a60789"],
      networkAclIds: ["acl-0a1b2c3d4e5f60789"],
      securityGroupIds: [sgId],
      networkInterfaceIds: [ENI_A, ENI_B],
    });
    expect(run.outputs.attachmentIds).toEqual([id("hkex-sftp-attach-eni-0a1b2c3d4e5f60789"), id("hkex-sftp-attach-eni-0b1c2d3e4f5a60789")]);
    expect(run.outputs.egressRuleIds).toHaveLength(4);
    expect(run.outputs.naclRuleIds).toHaveLength(4);
    expect(run.outputs.routeIds).toHaveLength(4);
    expect(run.outputs.reachabilityAnalysisIds).toHaveLength(8);
    expect((run.outputs.endpoints as unknown[])[2]).toEqual({
      site: "secondary",
      host: "10.152.14.141",
      port: 18801,
      rule: id("hkex-sftp-egress-secondary-10-152-14-141"),
      routes: [id("hkex-sftp-rtb-0a1b2c3d4e5f60789-10-152-14-0-24"), id("hkex-sftp-rtb-0b1c2d3e4f5a60789-10-152-14-0-24")],
    });
    // Before `pulumi up` has run the analyses, nothing is claimed.
    expect((run.outputs.reachability as unknown[])[0]).toEqual({
      site: "primary",
      host: "10.151.14.141",
      port: 18801,
      source: ENI_A,
      pathId: id("hkex-sftp-path-eni-0a1b2c3d4e5f60789-primary-10-151-14-141"),
      analysisId: id("hkex-sftp-analysis-eni-0a1b2c3d4e5f60789-primary-10-151-14-141"),
      explanationCodes: [],
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
  });
});

describe("the exported Reachability Analyzer verdict", () => {
  it("carries pathFound and the explanation codes of each analysis as AWS reports them", async () => {
    const run = await runUnderMocks(FULL, "dev", {
      analysisResult: (name) =>
        name.includes("secondary-10-152-14-142")
          ? {
              status: "succeeded",
              pathFound: false,
              explanations: [
                { explanationCode: "ENI_SG_RULES_MISMATCH", direction: "egress" },
                { explanationCode: "NO_ROUTE_TO_DESTINATION", direction: "egress" },
                { explanationCode: "ENI_SG_RULES_MISMATCH", direction: "egress" },
              ],
            }
          : { status: "succeeded", pathFound: true, explanations: [] },
    });
    const rows = run.outputs.reachability as { source: string; host: string; pathFound?: boolean; explanationCodes: string[] }[];
    expect(rows.map((r) => [r.source, r.host, r.pathFound, r.explanationCodes])).toEqual(
      [ENI_A, ENI_B].flatMap((eni) => [
        [eni, "10.151.14.141", true, []],
        [eni, "10.151.14.142", true, []],
        [eni, "10.152.14.141", true, []],
        [eni, "10.152.14.142", false, ["ENI_SG_RULES_MISMATCH", "NO_ROUTE_TO_DESTINATION"]],
      ]),
    );
  });
});

describe("SftpAccess on an existing group with /32 routes over a VPN gateway", async () => {
  const run = await runUnderMocks(
    config({
      securityGroupId: "sg-0fedcba9876543210",
      routeTableIds: ["rtb-0a1b2c3d4e5f60789"],
      routeTarget: { vpnGatewayId: "vgw-0a1b2c3d4e5f60789" },
      routeGranularity: "host",
      reachability: { sourceIds: [ENI_A], analyze: false },
    }),
  );
  const rs = run.resources;

  it("adds the rules to the given group and creates none, attaching nothing", () => {
    expect(ofType(rs, AWS_TYPES.securityGroup)).toEqual([]);
    expect(ofType(rs, AWS_TYPES.networkInterfaceSecurityGroupAttachment)).toEqual([]);
    expect(ofType(rs, AWS_TYPES.securityGroupEgressRule).map((r) => r.inputs.securityGroupId)).toEqual(
      Array(4).fill("sg-0fedcba9876543210"),
    );
    expect(run.outputs.securityGroupId).toBe("sg-0fedcba9876543210");
    expect(run.outputs.scope).toEqual({
      subnetIds: [],
      routeTableIds: ["rtb-0a1b2c3d4e5f60789"],
      networkAclIds: [],
      securityGroupIds: ["sg-0fedcba9876543210"],
      networkInterfaceIds: [],
    });
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

  it("declares paths from the given sources but no analyses when analyze is false, and no NACL rules without networkAclIds", () => {
    expect(ofType(rs, AWS_TYPES.networkInsightsPath).map((r) => r.inputs.source)).toEqual(Array(4).fill(ENI_A));
    expect(ofType(rs, AWS_TYPES.networkInsightsAnalysis)).toHaveLength(0);
    expect(ofType(rs, AWS_TYPES.networkAclRule)).toHaveLength(0);
  });
});

describe("each route target kind", () => {
  it.each([
    [{ transitGatewayId: "tgw-0a1b2c3d4e5f60789" }, { transitGatewayId: "tgw-0a1b2c3d4e5f60789" }],
    [{ vpnGatewayId: "vgw-0a1b2c3d4e5f60789" }, { gatewayId: "vgw-0a1b2c3d4e5f60789" }],
    [
      { coreNetworkArn: "arn:aws:networkmanager::123456789012:core-network/core-network-0a1b2c3d4e5f60789" },
      { coreNetworkArn: "arn:aws:networkmanager::123456789012:core-network/core-network-0a1b2c3d4e5f60789" },
    ],
    [
      { natGatewayId: "nat-0a1b2c3d4e5f60789", allowIndirectTarget: { reason: "private NAT address registered with HKEX" } },
      { natGatewayId: "nat-0a1b2c3d4e5f60789" },
    ],
    [
      { networkInterfaceId: "eni-0c1d2e3f4a5b60789", allowIndirectTarget: { reason: "inspection firewall, no NAT" } },
      { networkInterfaceId: "eni-0c1d2e3f4a5b60789" },
    ],
  ])("%j sets exactly %j on each route", async (routeTarget, inputs) => {
    const run = await runUnderMocks(config({ vpcId: "vpc-0a1b2c3d4e5f60789", routeTableIds: ["rtb-0a1b2c3d4e5f60789"], routeTarget }));
    expect(ofType(run.resources, AWS_TYPES.route).map((r) => r.inputs)).toEqual(
      ["10.151.14.0/24", "10.152.14.0/24"].map((destinationCidrBlock) => ({
        routeTableId: "rtb-0a1b2c3d4e5f60789",
        destinationCidrBlock,
        ...inputs,
      })),
    );
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
      "hkex-sftp-readiness",
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
    expect((error as InputError).problems.map((p) => p.path)).toEqual(["hkex-sftp-readiness:vpcId", "hkex-sftp-readiness:routeTarget"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(recorded).toEqual([]);
  });

  it("fails any provider function call the program did not declare", async () => {
    const recorded: string[] = [];
    await pulumi.runtime.setMocks(
      createMocks((r) => recorded.push(r.type)),
      "hkex-sftp-readiness",
      "dev",
    );
    await expect(aws.ec2.getVpc({ id: "vpc-0a1b2c3d4e5f60789" })).rejects.toThrow("Mock not implemented: aws:ec2/getVpc:getVpc");
    expect(recorded).toEqual([]);
  });
});
