/**
 * lambda-hkex-probe-in-client-subnets on stacks as `pulumi stack export`
 * (deployment v3) writes them: the happy-path network with a probe function
 * in the client subnets and the HKEX group, then one field changed per test.
 */
import { describe, expect, it } from "vitest";
import { AWS_TYPES } from "../../infra/awsTypes";
import type { StackResource } from "../../infra/stackResource";
import { runPackOffline, type PackConfig } from "../../policies/offline";
import { hkexPolicies } from "../../policies/policies";
import { isProbeFunction, lambdaProbePlacement } from "../../policies/probePlacement";
import { loadStateDocument } from "../../policies/state";
import { SG_ID, goodStack, urnOf } from "./stack";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const CLIENT_SUBNETS = ["subnet-0a1b2c3d4e5f60789", "subnet-0b1c2d3e4f5a60789"];
const SECRET_ARN = "arn:aws:secretsmanager:ap-east-1:123456789012:secret:hkex/sftp-login-key-AbCdEf";
const FN_URN = urnOf(AWS_TYPES.lambdaFunction, "hkex-sftp-probe");
const SG_URN = urnOf(AWS_TYPES.securityGroup, "hkex-sftp-sg");

interface ProbeChange {
  vpcConfig?: Record<string, unknown> | null;
  tags?: Record<string, string>;
  variables?: Record<string, string>;
  propertyDependencies?: Record<string, string[]>;
}

/** The probe function as the stack export records it: the program's inputs and the provider's state. */
function probeEntry(change: ProbeChange = {}): Record<string, unknown> {
  const vpcConfig = change.vpcConfig === undefined ? { securityGroupIds: [SG_ID], subnetIds: CLIENT_SUBNETS } : change.vpcConfig;
  const environment = {
    variables: change.variables ?? {
      HKEX_KEY_SECRET_ID: SECRET_ARN,
      HKEX_METRICS_NAMESPACE: "HKEX/SFTPReadiness",
      HKEX_PROBE_NAME: "prod/hkex-sftp",
      NODE_OPTIONS: "--enable-source-maps",
    },
  };
  const tags = change.tags ?? { "hkex:component": "hkex-sftp", "hkex:probe": "prod/hkex-sftp" };
  const inputs = {
    __defaults: [],
    handler: "index.handler",
    runtime: "nodejs20.x",
    environment,
    tags,
    ...(vpcConfig ? { vpcConfig } : {}),
  };
  return {
    urn: FN_URN,
    custom: true,
    id: "hkex-sftp-probe-3f9a2b1",
    type: AWS_TYPES.lambdaFunction,
    inputs,
    outputs: {
      ...inputs,
      arn: "arn:aws:lambda:ap-east-1:123456789012:function:hkex-sftp-probe-3f9a2b1",
      name: "hkex-sftp-probe-3f9a2b1",
      tagsAll: tags,
      vpcConfig: vpcConfig ? { ipv6AllowedForDualStack: false, vpcId: "vpc-0a1b2c3d4e5f60789", ...vpcConfig } : null,
    },
    parent: "urn:pulumi:prod::hkex-sftp-readiness::hkex:network:SftpAccess::hkex-sftp",
    provider: `urn:pulumi:prod::hkex-sftp-readiness::pulumi:providers:aws::default_7_48_0::${UNKNOWN}`,
    propertyDependencies: change.propertyDependencies ?? { vpcConfig: [SG_URN], environment: [], tags: [] },
  };
}

/** `pulumi stack export` of the happy-path network and `extra` resources. */
function stackExport(network: readonly StackResource[], ...extra: Record<string, unknown>[]): StackResource[] {
  const doc = {
    version: 3,
    deployment: {
      manifest: { time: "2025-02-20T10:11:02+08:00", magic: "0b1a", version: "v3.248.0" },
      resources: [
        ...network.map((r) => ({
          urn: r.urn,
          custom: true,
          id: r.type === AWS_TYPES.securityGroup ? SG_ID : `${r.name}-id`,
          type: r.type,
          inputs: r.inputs,
          outputs: { ...r.inputs, ...r.outputs },
        })),
        ...extra,
      ],
    },
  };
  return loadStateDocument(JSON.parse(JSON.stringify(doc))).resources;
}

async function messages(stack: StackResource[], config: PackConfig = {}): Promise<string[]> {
  const report = await runPackOffline(stack, config, [lambdaProbePlacement]);
  return report.violations.map((v) => v.message);
}

const CONFIG: PackConfig = { [lambdaProbePlacement.name]: { clientSubnetIds: CLIENT_SUBNETS } };

describe(lambdaProbePlacement.name, () => {
  it("passes a probe in the client subnets with the HKEX group, and the whole pack passes that stack", async () => {
    const stack = stackExport(goodStack(), probeEntry());
    expect(await messages(stack, CONFIG)).toEqual([]);
    expect(await messages(stack)).toEqual([]);
    expect((await runPackOffline(stack, CONFIG)).verdict).toBe("pass");
    expect(hkexPolicies).toContain(lambdaProbePlacement);
  });

  it("fails a probe in no subnet", async () => {
    expect(await messages(stackExport(goodStack(), probeEntry({ vpcConfig: null })), CONFIG)).toEqual([
      "Lambda function hkex-sftp-probe is an HKEX VPC probe but sits in no subnet (vpcConfig.subnetIds is empty); put it in the client subnets with the HKEX security group, or it tests AWS's network instead of the clients' path.",
    ]);
  });

  it("fails a probe whose groups do not carry the HKEX rules", async () => {
    const stack = stackExport(
      goodStack(),
      probeEntry({ vpcConfig: { securityGroupIds: ["sg-0ffee0ffee0ffee01"], subnetIds: CLIENT_SUBNETS }, propertyDependencies: {} }),
    );
    expect(await messages(stack, CONFIG)).toEqual([
      `Lambda function hkex-sftp-probe is an HKEX VPC probe but none of its security groups (sg-0ffee0ffee0ffee01) carries the HKEX egress rules; attach the HKEX group (${SG_ID}) so the probe tests the clients' rules.`,
    ]);
  });

  it("fails a probe in a subnet the clients do not use, naming it", async () => {
    const stack = stackExport(
      goodStack(),
      probeEntry({ vpcConfig: { securityGroupIds: [SG_ID], subnetIds: [CLIENT_SUBNETS[0], "subnet-0eeeeeeeeeeeeeee1"] } }),
    );
    expect(await messages(stack, CONFIG)).toEqual([
      `Lambda function hkex-sftp-probe is an HKEX VPC probe in subnet-0eeeeeeeeeeeeeee1, which is not a client subnet (${CLIENT_SUBNETS.join(", ")}); move it to the subnets the SFTP clients use.`,
    ]);
    // Without the setting any subnet is accepted.
    expect(await messages(stack)).toEqual([]);
  });

  it("knows a probe by its key-secret variable alone, and leaves other functions alone", async () => {
    const untagged = probeEntry({ vpcConfig: null, tags: { team: "ops" } });
    const other = {
      ...probeEntry({ vpcConfig: null, tags: {}, variables: { LOG_LEVEL: "info" } }),
      urn: urnOf(AWS_TYPES.lambdaFunction, "report-mailer"),
    };
    const [probe, mailer] = stackExport([], untagged, other);
    expect([
      isProbeFunction({ type: probe!.type, props: probe!.outputs }),
      isProbeFunction({ type: mailer!.type, props: mailer!.outputs }),
    ]).toEqual([true, false]);
    expect(await messages(stackExport(goodStack(), untagged, other))).toEqual([
      expect.stringMatching(/^Lambda function hkex-sftp-probe is an HKEX VPC probe but sits in no subnet/),
    ]);
  });

  it("accepts an existing HKEX group the stack adds rules to", async () => {
    const EXISTING = "sg-0a9b8c7d6e5f40312";
    const network = goodStack()
      .filter((r) => r.type !== AWS_TYPES.securityGroup)
      .map((r) => (r.type === AWS_TYPES.securityGroupEgressRule ? { ...r, inputs: { ...r.inputs, securityGroupId: EXISTING } } : r));
    const probe = probeEntry({
      vpcConfig: { securityGroupIds: ["sg-0d5e6f7a8b9c0d1e2", EXISTING], subnetIds: CLIENT_SUBNETS },
      propertyDependencies: {},
    });
    expect(await messages(stackExport(network, probe), CONFIG)).toEqual([]);
    const elsewhere = probeEntry({
      vpcConfig: { securityGroupIds: ["sg-0d5e6f7a8b9c0d1e2"], subnetIds: CLIENT_SUBNETS },
      propertyDependencies: {},
    });
    expect(await messages(stackExport(network, elsewhere), CONFIG)).toEqual([
      `Lambda function hkex-sftp-probe is an HKEX VPC probe but none of its security groups (sg-0d5e6f7a8b9c0d1e2) carries the HKEX egress rules; attach the HKEX group (${EXISTING}) so the probe tests the clients' rules.`,
    ]);
  });

  it("in a preview, follows the group's dependency while its id is unknown", async () => {
    const pending = { securityGroupIds: UNKNOWN, subnetIds: CLIENT_SUBNETS };
    expect(await messages(stackExport(goodStack(), probeEntry({ vpcConfig: pending })), CONFIG)).toEqual([]);
    const other = urnOf(AWS_TYPES.securityGroup, "app-sg");
    const appGroup = {
      urn: other,
      custom: true,
      type: AWS_TYPES.securityGroup,
      inputs: { vpcId: "vpc-0a1b2c3d4e5f60789" },
      outputs: { id: UNKNOWN },
    };
    const probe = probeEntry({ vpcConfig: pending, propertyDependencies: { vpcConfig: [other] } });
    expect(await messages(stackExport(goodStack(), appGroup, probe), CONFIG)).toEqual([
      "Lambda function hkex-sftp-probe is an HKEX VPC probe but none of its security groups (not known yet) carries the HKEX egress rules; attach the HKEX group (sg-0c4f5e6a7b8d9e0f1) so the probe tests the clients' rules.",
    ]);
  });

  it("waives a finding only with a written reason", async () => {
    const report = await runPackOffline(
      stackExport(goodStack(), probeEntry({ vpcConfig: null })),
      {
        [lambdaProbePlacement.name]: { exceptions: [{ match: "hkex-sftp-probe", reason: "being moved into the VPC in change CHG-1234" }] },
      },
      [lambdaProbePlacement],
    );
    expect(report.violations).toEqual([]);
    expect(report.exceptions.map((e) => e.reason)).toEqual(["being moved into the VPC in change CHG-1234"]);
  });
});
