/**
 * The offline runner: enforcement levels and settings from pack config,
 * waivers with their reasons, and the same policies as the Pulumi analyzer
 * would call them during a preview, with unknown values.
 */
import { describe, expect, it } from "vitest";
import { InputError } from "../../core/errors";
import { readStackConfigFile } from "../../cli/commands/plan";
import { AWS_TYPES } from "../../infra/awsTypes";
import { runUnderMocks } from "../../infra/mockRuntime";
import type { StackResource } from "../../infra/stackResource";
import { policyResources, runPackOffline } from "../../policies/offline";
import { hkexBothSitesCovered, hkexPathVerified, hkexPolicies, sgHkexPortProtocol } from "../../policies/policies";
import { changed, egressRule, goodStack, securityGroup } from "./stack";

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
    // Both HKEX ranges get through the ACL.
    expect(advisory.violations.filter((v) => v.policy === sgHkexPortProtocol.name).map((v) => v.enforcementLevel)).toEqual([
      "advisory",
      "advisory",
    ]);
    expect(advisory.verdict).toBe("pass");

    const all = await runPackOffline(broken, { all: "advisory", [sgHkexPortProtocol.name]: { enforcementLevel: "mandatory" } });
    expect(all.policies.map((p) => [p.name, p.enforcementLevel])).toEqual(
      hkexPolicies.map((p) => [p.name, p === sgHkexPortProtocol ? "mandatory" : "advisory"]),
    );
    expect(all.verdict).toBe("fail");

    const disabled = await runPackOffline(broken, { [sgHkexPortProtocol.name]: "disabled" });
    expect(disabled.violations.filter((v) => v.policy === sgHkexPortProtocol.name)).toEqual([]);
  });

  it("rejects unknown policies, bad levels and settings outside the schema, all at once", async () => {
    const error = await runPackOffline(goodStack(), {
      "no-such-policy": "mandatory",
      [sgHkexPortProtocol.name]: "strict" as never,
      [hkexPathVerified.name]: { scope: { subnetIds: ["subnet-A1"], vpc: "vpc-1" }, colour: "red" },
      [hkexBothSitesCovered.name]: { exceptions: [{ match: "10.152.14.141", reason: " " }] },
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems).toEqual([
      { path: "no-such-policy", message: "is not a policy of this pack" },
      { path: `${hkexBothSitesCovered.name}.exceptions[0].reason`, message: "must match \\S" },
      { path: sgHkexPortProtocol.name, message: "enforcement level must be one of advisory, mandatory, remediate, disabled" },
      { path: `${hkexPathVerified.name}.scope.subnetIds[0]`, message: "must match ^subnet-[0-9a-f]+$" },
      { path: `${hkexPathVerified.name}.scope.vpc`, message: "is not allowed" },
      { path: `${hkexPathVerified.name}.colour`, message: "is not a setting of this policy" },
    ]);
  });
});

describe("exceptions", () => {
  it("waive a finding only with a reason, and the reason is reported", async () => {
    const stack = [...goodStack(), egressRule("0.0.0.0/0", { ipProtocol: "-1", fromPort: undefined, toPort: undefined }, "proxy-out")];
    const reason = "Outbound proxy until CHG-1234 moves it to its own group (2024-12-31).";
    const report = await runPackOffline(stack, { [sgHkexPortProtocol.name]: { exceptions: [{ match: "proxy-out", reason }] } });
    expect(report.violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
    // Both ranges, through each of the two route tables.
    expect(report.exceptions.map((e) => [e.policy, e.reason])).toEqual(Array(4).fill([sgHkexPortProtocol.name, reason]));
    expect(report.exceptions[0]?.message).toContain("sg-0c4f5e6a7b8d9e0f1 egress rule proxy-out (all traffic to 0.0.0.0/0) lets icmp");
    expect(report.exceptions[0]?.urn).toBe(stack.at(-1)?.urn);
  });
});

describe("during a preview, with values still unknown", () => {
  const noop = () => undefined;

  it("a stack policy finds a new group's rules through property dependencies", async () => {
    const groupUrn = securityGroup().urn;
    const stack: StackResource[] = goodStack().map((r) => {
      if (r.type === AWS_TYPES.securityGroup) return { ...r, outputs: { arn: unknownStringValue, id: unknownStringValue } };
      if (r.type === AWS_TYPES.securityGroupEgressRule)
        return {
          ...r,
          inputs: { ...r.inputs, securityGroupId: unknownStringValue },
          propertyDependencies: { securityGroupId: [groupUrn] },
        };
      return r;
    });
    stack.push({
      ...egressRule("0.0.0.0/0", { securityGroupId: unknownStringValue, ipProtocol: "udp", fromPort: 53, toPort: 53 }, "dns"),
      propertyDependencies: { securityGroupId: [groupUrn] },
    });
    const resources = policyResources(stack).map((r) => ({ ...r, props: unknownCheckingProxy(r.props) }));
    const reported: string[] = [];
    await sgHkexPortProtocol.validateStack(
      { resources, stackTags: new Map(), getConfig: () => ({}) as never, notApplicable: noop as never },
      (m: string) => reported.push(m),
    );
    expect(reported.map((m) => m.split(" (acl-")[0])).toEqual([
      "From hkex-sftp-sg with acl-0a1b2c3d4e5f60789 + rtb-0a1b2c3d4e5f60789, hkex-sftp-sg egress rule dns (udp/53 to 0.0.0.0/0) lets udp/53 through to 10.151.14.0/24",
      "From hkex-sftp-sg with acl-0a1b2c3d4e5f60789 + rtb-0a1b2c3d4e5f60789, hkex-sftp-sg egress rule dns (udp/53 to 0.0.0.0/0) lets udp/53 through to 10.152.14.0/24",
      "From hkex-sftp-sg with acl-0a1b2c3d4e5f60789 + rtb-0b1c2d3e4f5a60789, hkex-sftp-sg egress rule dns (udp/53 to 0.0.0.0/0) lets udp/53 through to 10.151.14.0/24",
      "From hkex-sftp-sg with acl-0a1b2c3d4e5f60789 + rtb-0b1c2d3e4f5a60789, hkex-sftp-sg egress rule dns (udp/53 to 0.0.0.0/0) lets udp/53 through to 10.152.14.0/24",
    ]);
  });
});

describe("whole pack on the program's own plans", () => {
  it("passes the example stack, with what it could not verify as advisories", async () => {
    const run = await runUnderMocks(readStackConfigFile("Pulumi.example.yaml"), "example");
    const report = await runPackOffline(run.resources);
    expect(report.verdict).toBe("pass");
    expect(report.violations.map((v) => [v.enforcementLevel, v.policy])).toEqual(Array(4).fill(["advisory", hkexPathVerified.name]));
    expect(report.policies.map((p) => p.name)).toEqual(hkexPolicies.map((p) => p.name));
  });

  it("fails the primary-only stack, naming both secondary hosts at the group hop", async () => {
    const run = await runUnderMocks(readStackConfigFile("test/fixtures/stacks/Pulumi.primary-only.yaml"), "primary-only");
    const report = await runPackOffline(run.resources);
    expect(report.verdict).toBe("fail");
    const mandatory = report.violations.filter((v) => v.enforcementLevel === "mandatory");
    expect(mandatory.map((v) => v.policy)).toEqual(Array(2).fill(hkexBothSitesCovered.name));
    expect(mandatory.map((v) => /, (\S+ [\d.]+:18801) is not reachable: (.*?)\. Path/.exec(v.message)?.slice(1))).toEqual([
      ["secondary 10.152.14.141:18801", "sg-00000000000000001: no egress rule allows tcp/18801 to 10.152.14.141"],
      ["secondary 10.152.14.142:18801", "sg-00000000000000001: no egress rule allows tcp/18801 to 10.152.14.142"],
    ]);
  });

  it("passes the existing-group stack with /32 routes", async () => {
    const run = await runUnderMocks(readStackConfigFile("test/fixtures/stacks/Pulumi.existing-sg.yaml"), "existing-sg");
    expect((await runPackOffline(run.resources)).verdict).toBe("pass");
  });
});
