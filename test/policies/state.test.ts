/**
 * `hkex-ready policy --state`: the pack on `pulumi stack export` (deployment
 * v3) and `pulumi preview --json` documents.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { run } from "../../cli/commands/policy";
import { InputError } from "../../core/errors";
import { AWS_TYPES } from "../../infra/awsTypes";
import { loadStateDocument } from "../../policies/state";
import { captureStdout } from "../support/stdout";

const FIXTURES = "test/fixtures/state";
const fixture = (name: string) => join(FIXTURES, name);

afterEach(() => {
  vi.restoreAllMocks();
});

describe("loadStateDocument", () => {
  it("reads a stack export, skipping resources pending deletion", () => {
    const doc = {
      version: 3,
      deployment: {
        manifest: { time: "2024-11-12T10:11:02+08:00", magic: "x", version: "v3.140.0" },
        resources: [
          { urn: "urn:pulumi:prod::p::pulumi:pulumi:Stack::p-prod", custom: false, type: "pulumi:pulumi:Stack" },
          {
            urn: "urn:pulumi:prod::p::aws:ec2/route:Route::old",
            custom: true,
            id: "r-1",
            type: "aws:ec2/route:Route",
            inputs: { destinationCidrBlock: "10.0.0.0/8" },
            outputs: {},
            delete: true,
          },
          {
            urn: "urn:pulumi:prod::p::aws:ec2/route:Route::new",
            custom: true,
            id: "r-2",
            type: "aws:ec2/route:Route",
            inputs: { routeTableId: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", plaintext: '"rtb-1"' } },
            outputs: { routeTableId: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "AAAA" } },
            propertyDependencies: { routeTableId: ["urn:pulumi:prod::p::aws:ec2/routeTable:RouteTable::t"] },
          },
        ],
      },
    };
    const state = loadStateDocument(doc);
    expect(state.format).toBe("stack-export");
    expect(state.resources.map((r) => r.name)).toEqual(["p-prod", "new"]);
    expect(state.resources[1]).toMatchObject({
      inputs: { routeTableId: "rtb-1" },
      outputs: { routeTableId: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" },
      propertyDependencies: { routeTableId: ["urn:pulumi:prod::p::aws:ec2/routeTable:RouteTable::t"] },
    });
  });

  it("reads preview JSON, leaving out what the update deletes", () => {
    const state = loadStateDocument(JSON.parse(readFileSync(fixture("preview-example.json"), "utf8")));
    expect(state.format).toBe("preview-json");
    expect(state.resources.some((r) => r.name === "hkex-sftp-egress-legacy-any")).toBe(false);
    expect(state.resources.filter((r) => r.type === AWS_TYPES.securityGroupEgressRule)).toHaveLength(4);
  });

  it("names what is wrong with a document it cannot read", () => {
    const problems = (doc: unknown) => {
      try {
        loadStateDocument(doc, "state.json");
      } catch (err) {
        expect(err).toBeInstanceOf(InputError);
        return (err as InputError).message;
      }
      throw new Error("expected a rejection");
    };
    expect(problems({ version: 2, deployment: { resources: [] } })).toBe(
      "state.json: version: is 2; only deployment format version 3 is read",
    );
    expect(problems({ version: 3, deployment: { resources: [{ urn: "x" }] } })).toBe(
      "state.json: deployment.resources[0].urn: must be a Pulumi URN\nstate.json: deployment.resources[0].type: must be a resource type token",
    );
    expect(problems([])).toBe(
      "state.json: is neither `pulumi stack export` output (version 3, deployment.resources) nor `pulumi preview --json` output (steps)",
    );
  });
});

describe("policy --state", () => {
  it("passes the exported example stack, whose group reads its rules back inline", async () => {
    const out = captureStdout();
    expect(await run({ state: fixture("export-example.json") })).toBe(0);
    expect(out.text()).toContain(`Read 24 resources from ${fixture("export-example.json")} (stack export)`);
    expect(out.text()).toContain("Verdict: PASS (0 mandatory, 0 advisory violation(s))");
  });

  it("fails an exported primary-only stack and names the secondary hosts", async () => {
    const out = captureStdout();
    expect(await run({ state: fixture("export-primary-only.json") })).toBe(1);
    expect(out.text()).toContain(
      "[mandatory] ec2-hkex-both-sites-covered: Security-group egress does not cover 2 of 4 HKEX endpoints: secondary 10.152.14.141:18801, secondary 10.152.14.142:18801; add a TCP egress rule to each.",
    );
    expect(out.text()).toContain("Verdict: FAIL (2 mandatory, 0 advisory violation(s))");
  });

  it("catches drift: egress opened to everything on the live group", async () => {
    const out = captureStdout();
    expect(await run({ state: fixture("export-drift-open-egress.json"), json: true })).toBe(1);
    const report = JSON.parse(out.text());
    expect(report.format).toBe("stack-export");
    expect(report.verdict).toBe("fail");
    expect(report.violations.map((v: { policy: string; message: string }) => `${v.policy}: ${v.message}`)).toEqual([
      "ec2-security-group-hkex-no-open-egress: Security group sg-0160a22ead5aa334b carries HKEX egress rules and also allows egress to 0.0.0.0/0 (inline in hkex-sftp-sg); remove that rule so the group reaches only the HKEX endpoints.",
      "ec2-security-group-no-mixed-rules: Security group sg-0160a22ead5aa334b has 1 inline rule(s) and 4 separate rule resource(s); move the inline rules to separate rule resources.",
    ]);
  });

  it("passes the preview of the example stack, where new ids are still unknown", async () => {
    captureStdout();
    expect(await run({ state: fixture("preview-example.json") })).toBe(0);
  });

  it("applies a pack config file and shows the reason of each waiver", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hkex-policy-"));
    const config = join(dir, "policy-config.json");
    writeFileSync(
      config,
      JSON.stringify({
        "ec2-hkex-both-sites-covered": {
          exceptions: [
            { match: "10.152.14.141", reason: "Secondary not contracted until Q1 (ticket NET-42)." },
            { match: "10.152.14.142", reason: "Secondary not contracted until Q1 (ticket NET-42)." },
          ],
        },
      }),
    );
    const out = captureStdout();
    expect(await run({ state: fixture("export-primary-only.json"), policyPackConfig: config })).toBe(0);
    expect(out.text()).toContain("Waived by pack config:\n");
    expect(out.text()).toContain(
      "  ec2-hkex-both-sites-covered: Route table rtb-0a1b2c3d4e5f60789 has no route to 1 of 4 HKEX endpoints: secondary 10.152.14.142:18801; add a route to each.\n      reason: Secondary not contracted until Q1 (ticket NET-42).\n",
    );
  });

  it("turns unreadable input into an InputError (exit code 2 at the CLI entry)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hkex-policy-"));
    writeFileSync(join(dir, "bad.json"), "{ not json");
    await expect(run({ state: join(dir, "bad.json") })).rejects.toThrow(InputError);
    await expect(run({ state: join(dir, "missing.json") })).rejects.toThrow(/^--state: cannot read/);
  });
});
