/**
 * The offline runner: enforcement levels and settings from pack config,
 * waivers with their reasons, and the same policies as the Pulumi analyzer
 * would call them during a preview, with unknown values.
 */
import type { ResourceValidation } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { InputError } from "../../core/errors";
import { readStackConfigFile } from "../../cli/commands/plan";
import { AWS_TYPES } from "../../infra/awsTypes";
import { runUnderMocks } from "../../infra/mockRuntime";
import type { StackResource } from "../../infra/stackResource";
import { policyResources, runPackOffline } from "../../policies/offline";
import { hkexBothSitesCovered, hkexPolicies, sgHkexPortProtocol, sgNoOpenEgress } from "../../policies/policies";
import { SG_ID, changed, egressRule, goodStack, securityGroup, without } from "./stack";

// The SDK's own proxy, which throws on reading a value unknown during preview.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { unknownCheckingProxy, unknownStringValue } = require("@pulumi/policy/proxy") as {
  unknownCheckingProxy<T extends object>(o: T): T;
  unknownStringValue: string;
};

const P141 = "hkex-sftp-egress-10-151-14-141-32";

describe("pack config", () => {
  it("sets levels per policy and for all, and disables policies", async () => {
    const broken = changed(goodStack(), P141, { ipProtocol: "-1" });
    const advisory = await runPackOffline(broken, { [sgHkexPortProtocol.name]: "advisory" });
    expect(advisory.violations.map((v) => [v.policy, v.enforcementLevel])).toEqual([[sgHkexPortProtocol.name, "advisory"]]);
    expect(advisory.verdict).toBe("pass");

    const all = await runPackOffline(broken, { all: "advisory", [sgHkexPortProtocol.name]: { enforcementLevel: "mandatory" } });
    expect(all.policies.map((p) => p.enforcementLevel)).toEqual([
      "mandatory",
      "advisory",
      "advisory",
      "advisory",
      "advisory",
      "advisory",
      "advisory",
    ]);
    expect(all.verdict).toBe("fail");

    const disabled = await runPackOffline(broken, { [sgHkexPortProtocol.name]: "disabled" });
    expect(disabled.violations).toEqual([]);
  });

  it("rejects unknown policies, bad levels and settings outside the schema, all at once", async () => {
    const error = await runPackOffline(goodStack(), {
      "no-such-policy": "mandatory",
      [sgHkexPortProtocol.name]: "strict" as never,
      "ec2-hkex-narrow-prefixes": { maxPrefixLength: 40, colour: "red" },
      [hkexBothSitesCovered.name]: { exceptions: [{ match: "10.152.14.141", reason: " " }] },
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems).toEqual([
      { path: "no-such-policy", message: "is not a policy of this pack" },
      { path: sgHkexPortProtocol.name, message: "enforcement level must be one of advisory, mandatory, remediate, disabled" },
      { path: "ec2-hkex-narrow-prefixes.maxPrefixLength", message: "must be at most 32" },
      { path: "ec2-hkex-narrow-prefixes.colour", message: "is not a setting of this policy" },
      { path: `${hkexBothSitesCovered.name}.exceptions[0].reason`, message: "must match \\S" },
    ]);
  });
});

describe("exceptions", () => {
  it("waive a resource finding only with a reason, and the reason is reported", async () => {
    const stack = [...goodStack(), egressRule("0.0.0.0/0", { fromPort: 443, toPort: 443 }, "proxy-out")];
    const reason = "Outbound proxy on 443 until CHG-1234 moves it to its own group (2024-12-31).";
    const report = await runPackOffline(stack, {
      [sgNoOpenEgress.name]: { exceptions: [{ match: "proxy-out", reason }] },
    });
    expect(report.violations.map((v) => v.policy)).toEqual([sgHkexPortProtocol.name, "ec2-hkex-narrow-prefixes"]);
    expect(report.exceptions).toEqual([
      {
        policy: sgNoOpenEgress.name,
        message: `Security group ${SG_ID} carries HKEX egress rules and also allows egress to 0.0.0.0/0 (proxy-out); remove that rule so the group reaches only the HKEX endpoints.`,
        reason,
        urn: stack.at(-1)?.urn,
      },
    ]);
  });

  it("waive single endpoints of the coverage check", async () => {
    const stack = without(goodStack(), "10-152-14-142");
    const reason = "Secondary host .142 is not in service for our membership, per HKEX e-mail of 2024-10-30.";
    const report = await runPackOffline(stack, { [hkexBothSitesCovered.name]: { exceptions: [{ match: "10.152.14.142", reason }] } });
    expect(report.violations).toEqual([]);
    expect(report.exceptions.map((e) => [e.message, e.reason])).toEqual([
      ["Security-group egress does not cover 1 of 4 HKEX endpoints: secondary 10.152.14.142:18801; add a TCP egress rule to each.", reason],
    ]);
  });
});

describe("during a preview, with values still unknown", () => {
  const noop = () => undefined;
  const base = {
    urn: "urn:x",
    name: "r",
    opts: {} as never,
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    notApplicable: (() => {
      throw new Error("n/a");
    }) as never,
  };

  it("a resource policy reads what is known and skips what is not", () => {
    const reported: string[] = [];
    const validate = sgHkexPortProtocol.validateResource as ResourceValidation;
    void validate(
      {
        ...base,
        type: AWS_TYPES.securityGroupEgressRule,
        props: unknownCheckingProxy({
          securityGroupId: unknownStringValue,
          cidrIpv4: "10.151.14.141/32",
          ipProtocol: "-1",
          description: unknownStringValue,
        }),
        getConfig: () => ({}) as never,
      },
      (m) => reported.push(m),
    );
    expect(reported).toEqual([
      "Security-group egress to 10.151.14.141/32 allows all protocols; egress toward HKEX must allow only TCP port 18801.",
    ]);
  });

  it("a stack policy finds a new group's rules through property dependencies", async () => {
    const groupUrn = securityGroup().urn;
    const stack: StackResource[] = goodStack().map((r) => {
      if (r.type === AWS_TYPES.securityGroup) return { ...r, outputs: { arn: unknownStringValue } };
      if (r.type === AWS_TYPES.securityGroupEgressRule)
        return {
          ...r,
          inputs: { ...r.inputs, securityGroupId: unknownStringValue },
          propertyDependencies: { securityGroupId: [groupUrn] },
        };
      return r;
    });
    stack.push({
      ...egressRule("0.0.0.0/0", { securityGroupId: unknownStringValue }, "open"),
      propertyDependencies: { securityGroupId: [groupUrn] },
    });
    const resources = policyResources(stack).map((r) => ({ ...r, props: unknownCheckingProxy(r.props) }));
    const reported: string[] = [];
    await sgNoOpenEgress.validateStack(
      { resources, stackTags: new Map(), getConfig: () => ({}) as never, notApplicable: noop as never },
      (m) => reported.push(m),
    );
    expect(reported).toEqual([
      "Security group hkex-sftp-sg carries HKEX egress rules and also allows egress to 0.0.0.0/0 (open); remove that rule so the group reaches only the HKEX endpoints.",
    ]);
  });
});

describe("whole pack on the program's own plans", () => {
  it("passes the example stack", async () => {
    const run = await runUnderMocks(readStackConfigFile("Pulumi.example.yaml"), "example");
    const report = await runPackOffline(run.resources);
    expect(report.violations).toEqual([]);
    expect(report.policies.map((p) => p.name)).toEqual(hkexPolicies.map((p) => p.name));
  });

  it("fails the primary-only stack, naming both secondary hosts", async () => {
    const run = await runUnderMocks(readStackConfigFile("test/fixtures/stacks/Pulumi.primary-only.yaml"), "primary-only");
    const report = await runPackOffline(run.resources);
    expect(report.verdict).toBe("fail");
    expect(report.violations.map((v) => v.message)).toEqual([
      "Security-group egress does not cover 2 of 4 HKEX endpoints: secondary 10.152.14.141:18801, secondary 10.152.14.142:18801; add a TCP egress rule to each.",
      "Route table rtb-0a1b2c3d4e5f60789 has no route to 2 of 4 HKEX endpoints: secondary 10.152.14.141:18801, secondary 10.152.14.142:18801; add a route to each.",
    ]);
  });

  it("passes the existing-group stack with /32 routes", async () => {
    const run = await runUnderMocks(readStackConfigFile("test/fixtures/stacks/Pulumi.existing-sg.yaml"), "existing-sg");
    expect((await runPackOffline(run.resources)).violations).toEqual([]);
  });
});
