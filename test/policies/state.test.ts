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
    // The group is attached to nothing in the stack and the ACL and tables are existing ones: said, never passed silently.
    expect(out.text()).toContain("Verdict: PASS (0 mandatory, 4 advisory violation(s))");
    expect(out.text()).toContain(
      "    ASSUMED  secondary 10.152.14.142:18801\n      sg-0160a22ead5aa334b with acl-0a1b2c3d4e5f60789 + rtb-0b1c2d3e4f5a60789 → sg-0160a22ead5aa334b egress rule hkex-sftp-egress-secondary-10-152-14-142 allows tcp/18801 to 10.152.14.142/32 → [assumed] acl-0a1b2c3d4e5f60789 #201 allow → [assumed] rtb-0b1c2d3e4f5a60789 10.152.14.0/24 via tgw-0a1b2c3d4e5f60789 → [assumed] return acl-0a1b2c3d4e5f60789 #201 allow\n",
    );
  });

  it("fails an exported primary-only stack and names the secondary hosts", async () => {
    const out = captureStdout();
    expect(await run({ state: fixture("export-primary-only.json") })).toBe(1);
    expect(out.text()).toContain(
      "[mandatory] ec2-hkex-both-sites-covered: From sg-0160a22ead5aa334b with acl-0a1b2c3d4e5f60789 + rtb-0a1b2c3d4e5f60789, secondary 10.152.14.141:18801 is not reachable: sg-0160a22ead5aa334b: no egress rule allows tcp/18801 to 10.152.14.141.",
    );
    // The trace shows the hop where the path breaks.
    expect(out.text()).toContain(
      "    BROKEN at the security-group hop  secondary 10.152.14.142:18801\n      sg-0160a22ead5aa334b with acl-0a1b2c3d4e5f60789 + rtb-0a1b2c3d4e5f60789 → [broken] sg-0160a22ead5aa334b: no egress rule allows tcp/18801 to 10.152.14.142\n",
    );
    expect(out.text()).toContain("Verdict: FAIL (2 mandatory, 3 advisory violation(s))");
  });

  it("catches drift: egress opened to everything on the live group", async () => {
    const out = captureStdout();
    expect(await run({ state: fixture("export-drift-open-egress.json"), json: true })).toBe(1);
    const report = JSON.parse(out.text());
    expect(report.format).toBe("stack-export");
    expect(report.verdict).toBe("fail");
    const mandatory = report.violations.filter((v: { enforcementLevel: string }) => v.enforcementLevel === "mandatory");
    expect(mandatory.map((v: { policy: string }) => v.policy)).toEqual(Array(4).fill("ec2-security-group-hkex-tcp-18801-only"));
    expect(mandatory[0].message).toBe(
      "From sg-0160a22ead5aa334b with acl-0a1b2c3d4e5f60789 + rtb-0a1b2c3d4e5f60789, sg-0160a22ead5aa334b egress rule read back from AWS (all traffic to 0.0.0.0/0) lets icmp, tcp/0-18800, tcp/18802-65535, udp/all ports, other protocols through to 10.151.14.0/24 (acl-0a1b2c3d4e5f60789: no visible rule decides; rtb-0a1b2c3d4e5f60789 10.151.14.0/24 via tgw-0a1b2c3d4e5f60789); only TCP 18801 may reach HKEX. Narrow the rule, or deny the rest toward 10.151.14.0/24 in the network ACL.",
    );
    // --json carries the same path traces as the text.
    expect(report.paths).toHaveLength(8);
    expect(report.paths[0]).toMatchObject({
      scope: "sg-0160a22ead5aa334b with acl-0a1b2c3d4e5f60789 + rtb-0a1b2c3d4e5f60789",
      endpoint: "primary 10.151.14.141:18801",
      status: "assumed",
      trace:
        "sg-0160a22ead5aa334b with acl-0a1b2c3d4e5f60789 + rtb-0a1b2c3d4e5f60789 → sg-0160a22ead5aa334b egress rule hkex-sftp-egress-primary-10-151-14-141 allows tcp/18801 to 10.151.14.141/32 → [assumed] acl-0a1b2c3d4e5f60789 #200 allow → [assumed] rtb-0a1b2c3d4e5f60789 10.151.14.0/24 via tgw-0a1b2c3d4e5f60789 → [assumed] return acl-0a1b2c3d4e5f60789 #200 allow",
    });
    expect(report.paths[0].hops.map((h: { step: string }) => h.step)).toEqual([
      "source",
      "security-group",
      "nacl-egress",
      "route",
      "nacl-return",
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
      "  ec2-hkex-both-sites-covered: From sg-0160a22ead5aa334b with acl-0a1b2c3d4e5f60789 + rtb-0a1b2c3d4e5f60789, secondary 10.152.14.142:18801 is not reachable: sg-0160a22ead5aa334b: no egress rule allows tcp/18801 to 10.152.14.142. Path: sg-0160a22ead5aa334b with acl-0a1b2c3d4e5f60789 + rtb-0a1b2c3d4e5f60789 → [broken] sg-0160a22ead5aa334b: no egress rule allows tcp/18801 to 10.152.14.142\n      reason: Secondary not contracted until Q1 (ticket NET-42).\n",
    );
  });

  it("fails an endpoint whose Reachability Analyzer analysis in the live state found no path, and prints its explanation codes", async () => {
    const out = captureStdout();
    expect(await run({ state: fixture("export-reachability-no-path.json") })).toBe(1);
    expect(out.text()).toContain(
      "  [mandatory] ec2-reachability-analysis-path-found: Reachability Analyzer found no path from eni-0d8566807b75b2668 to secondary 10.152.14.141:18801 (analysis nia-0d4c6b8a0f2e35794, pathFound: false): explanation codes CANNOT_ROUTE.\n",
    );
    expect(out.text()).toContain("Verdict: FAIL (2 mandatory, 0 advisory violation(s))");
  });

  it("fails a preview whose new NACL rule takes a number an existing rule holds, in text and --json", async () => {
    const file = "test/fixtures/corpus/nacl-number-clash-existing.preview.json";
    const out = captureStdout();
    expect(await run({ state: file, json: true })).toBe(1);
    const report = JSON.parse(out.text());
    expect(report.format).toBe("preview-json");
    expect(report.violations.map((v: { policy: string; message: string }) => `${v.policy}: ${v.message}`)).toEqual([
      "ec2-network-acl-rule-numbers-unique: Network ACL acl-0d4d45891d5fb39fd egress rule #200 is claimed 2 times (edge-sftp-primary-out, an existing rule read back from AWS); AWS keeps one rule per number and direction, so the update fails or one rule replaces the other.",
    ]);
  });

  it("turns unreadable input into an InputError (exit code 2 at the CLI entry)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hkex-policy-"));
    writeFileSync(join(dir, "bad.json"), "{ not json");
    await expect(run({ state: join(dir, "bad.json") })).rejects.toThrow(InputError);
    await expect(run({ state: join(dir, "missing.json") })).rejects.toThrow(/^--state: cannot read/);
  });
});
