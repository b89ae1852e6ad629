/**
 * `hkex-ready plan`: the program under mocks plus the whole pack, through
 * the command module and through the compiled CLI as CI runs it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readStackConfigFile, run, stackNameOf } from "../../cli/commands/plan";
import { InputError } from "../../core/errors";
import { captureStdout } from "../support/stdout";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("reading a stack config file", () => {
  it("passes values on as Pulumi does: namespaced keys, structured values as JSON", () => {
    expect(readStackConfigFile("test/fixtures/stacks/Pulumi.primary-only.yaml")).toEqual({
      "aws:region": "ap-east-1",
      "hkex-sftp-readiness:vpcId": "vpc-0a1b2c3d4e5f60789",
      "hkex-sftp-readiness:networkAclIds": '["acl-0a1b2c3d4e5f60789"]',
      "hkex-sftp-readiness:routeTableIds": '["rtb-0a1b2c3d4e5f60789"]',
      "hkex-sftp-readiness:routeTarget": '{"transitGatewayId":"tgw-0a1b2c3d4e5f60789"}',
      "hkex-sftp-readiness:sites": '{"primary":{"hosts":["10.151.14.141","10.151.14.142"],"range":"10.151.14.0/24"}}',
    });
    expect(stackNameOf("deploy/Pulumi.prod.yaml")).toBe("prod");
  });

  it("refuses secrets it cannot decrypt and files that are not stack config", () => {
    const dir = mkdtempSync(join(tmpdir(), "hkex-plan-"));
    writeFileSync(join(dir, "Pulumi.s.yaml"), "config:\n  vpcId:\n    secure: AAABAxyz\n");
    expect(() => readStackConfigFile(join(dir, "Pulumi.s.yaml"))).toThrow(
      `${join(dir, "Pulumi.s.yaml")}: hkex-sftp-readiness:vpcId: is a secret; offline plans cannot decrypt it, give the plain value in a copy of the file`,
    );
    writeFileSync(join(dir, "Pulumi.l.yaml"), "- a\n- b\n");
    expect(() => readStackConfigFile(join(dir, "Pulumi.l.yaml"))).toThrow("must be a YAML mapping");
  });
});

describe("plan (command module)", () => {
  it("lists 4 egress rules, the NACL rules and routes for both ranges, then passes the pack", async () => {
    const out = captureStdout();
    expect(await run({ stackConfig: "Pulumi.example.yaml" })).toBe(0);
    const lines = out.text().split("\n");
    expect(lines.filter((l) => l.startsWith("sg egress "))).toHaveLength(4);
    expect(lines.filter((l) => /^nacl (egress|ingress) #20[01] /.test(l))).toHaveLength(4);
    expect(lines.filter((l) => l.startsWith("route "))).toHaveLength(4);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^sg egress +secondary +10\.152\.14\.142\/32 +tcp\/18801 +hkex-sftp-sg \(new\) +hkex-sftp-egress-secondary-10-152-14-142$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^nacl ingress #201 +secondary +10\.152\.14\.0\/24 +tcp\/1024-65535 +acl-0a1b2c3d4e5f60789 /),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^route +primary +10\.151\.14\.0\/24 +- +rtb-0b1c2d3e4f5a60789 via tgw-0a1b2c3d4e5f60789 /),
    );
    // A separate section: one path trace per client placement and endpoint, from the planned resources.
    expect(lines).toContain("Paths toward HKEX (TCP from each client placement, hop by hop, as AWS would forward it):");
    expect(lines.filter((l) => /^ {4}ASSUMED {2}(primary|secondary) /.test(l))).toHaveLength(8);
    expect(lines).toContain(
      "      sg-00000000000000001 with acl-0a1b2c3d4e5f60789 + rtb-0a1b2c3d4e5f60789 → sg-00000000000000001 egress rule hkex-sftp-egress-primary-10-151-14-141 allows tcp/18801 to 10.151.14.141/32 → [assumed] acl-0a1b2c3d4e5f60789 #200 allow → [assumed] rtb-0a1b2c3d4e5f60789 10.151.14.0/24 via tgw-0a1b2c3d4e5f60789 → [assumed] return acl-0a1b2c3d4e5f60789 #200 allow",
    );
    // The group attached to nothing, the existing ACL and route tables: advisories, not a silent pass.
    expect(lines).toContain("Verdict: PASS (0 mandatory, 4 advisory violation(s))");
  });

  it("prints one JSON object with the resources, violations and verdict", async () => {
    const out = captureStdout();
    expect(await run({ stackConfig: "test/fixtures/stacks/Pulumi.primary-only.yaml", json: true })).toBe(1);
    const report = JSON.parse(out.text());
    expect(report.verdict).toBe("fail");
    expect(
      report.resources.filter((r: { kind: string }) => r.kind === "sg egress").map((r: { destination: string }) => r.destination),
    ).toEqual(["10.151.14.141/32", "10.151.14.142/32"]);
    expect(
      report.violations
        .filter((v: { enforcementLevel: string }) => v.enforcementLevel === "mandatory")
        .map((v: { policy: string }) => v.policy),
    ).toEqual(["ec2-hkex-both-sites-covered", "ec2-hkex-both-sites-covered"]);
    // The same traces as the text, the broken ones with the hop where they break.
    const broken = report.paths.filter((p: { status: string }) => p.status === "broken");
    expect(broken.map((p: { endpoint: string; brokenAt: string }) => [p.endpoint, p.brokenAt])).toEqual([
      ["secondary 10.152.14.141:18801", "security-group"],
      ["secondary 10.152.14.142:18801", "security-group"],
    ]);
    expect(broken[0].trace).toBe(
      "sg-00000000000000001 with acl-0a1b2c3d4e5f60789 + rtb-0a1b2c3d4e5f60789 → [broken] sg-00000000000000001: no egress rule allows tcp/18801 to 10.152.14.141",
    );
  });

  it("throws an InputError listing every config problem before running the program", async () => {
    const error = await run({ stackConfig: "test/fixtures/stacks/Pulumi.broken.yaml" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems.map((p) => p.path)).toEqual([
      "hkex-sftp-readiness:routeTarget",
      "hkex-sftp-readiness:vpcId",
      "hkex-sftp-readiness:routeTableIds",
      "hkex-sftp-readiness:sites.primary.port",
      "hkex-sftp-readiness:sites.primary.range",
      "hkex-sftp-readiness:sites.primary.hosts[0]",
    ]);
  });
});

describe("the compiled CLI, as CI runs it", () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ["bin/hkex-ready.js", ...args], { encoding: "utf8", env: { ...process.env, HKEX_POLICY_PACK_CONFIG: "" } });

  it("is built (scripts/test.sh runs tsc before vitest)", () => {
    expect(existsSync("dist/cli/commands/plan.js")).toBe(true);
  });

  it("plan on the example stack exits 0", () => {
    const r = cli("plan", "--stack-config", "Pulumi.example.yaml");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n").filter((l) => l.startsWith("sg egress "))).toHaveLength(4);
  });

  it("plan on a primary-only stack exits 1 and names both secondary hosts", () => {
    const r = cli("plan", "--stack-config", "test/fixtures/stacks/Pulumi.primary-only.yaml");
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("    BROKEN at the security-group hop  secondary 10.152.14.141:18801\n");
    expect(r.stdout).toContain("    BROKEN at the security-group hop  secondary 10.152.14.142:18801\n");
    // Two violations of one policy (one per secondary host), its fix said once per policy.
    expect(r.stdout.match(/\[mandatory\] ec2-hkex-both-sites-covered:/g)).toHaveLength(2);
    expect(r.stdout.match(/^ +fix: /gm)).toHaveLength(2);
  });

  it("plan on broken config exits 2 with each problem on stderr", () => {
    const r = cli("plan", "--stack-config", "test/fixtures/stacks/Pulumi.broken.yaml");
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")).toEqual([
      "hkex-ready: test/fixtures/stacks/Pulumi.broken.yaml: hkex-sftp-readiness:routeTarget: give exactly one of transitGatewayId, vpnGatewayId, networkInterfaceId, vpcPeeringConnectionId; got transitGatewayId and vpnGatewayId",
      "hkex-ready: test/fixtures/stacks/Pulumi.broken.yaml: hkex-sftp-readiness:vpcId: give exactly one of vpcId (a new security group in that VPC) or securityGroupId (an existing group); got both",
      "hkex-ready: test/fixtures/stacks/Pulumi.broken.yaml: hkex-sftp-readiness:routeTableIds: lists rtb-0a1b2c3d4e5f60789 more than once",
      "hkex-ready: test/fixtures/stacks/Pulumi.broken.yaml: hkex-sftp-readiness:sites.primary.port: 70000 is out of range 1-65535",
      "hkex-ready: test/fixtures/stacks/Pulumi.broken.yaml: hkex-sftp-readiness:sites.primary.range: 10.151.0.0/16 is broader than maxPrefixLength /24",
      'hkex-ready: test/fixtures/stacks/Pulumi.broken.yaml: hkex-sftp-readiness:sites.primary.hosts[0]: "10.151.14.300" is not an IPv4 address',
      "",
    ]);
  });

  it("policy --state behaves the same on exported state", () => {
    expect(cli("policy", "--state", "test/fixtures/state/export-example.json").status).toBe(0);
    const r = cli("policy", "--state", "test/fixtures/state/export-primary-only.json", "--json");
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).violations[0].message).toContain(
      "secondary 10.152.14.141:18801 is not reachable: sg-0160a22ead5aa334b: no egress rule allows tcp/18801 to 10.152.14.141",
    );
  });
});
