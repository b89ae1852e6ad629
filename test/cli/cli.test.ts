/** The compiled `hkex-ready` command: exit codes, JSON, messages (npm test builds dist/ first). */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMAIL_TEMPLATE } from "../../catalogue";
import { fillDate, REHEARSAL_SUBJECT_PREFIX } from "../../checks/email";
import type { Report } from "../../checks/report";
import { startSimulator, type RunningSimulator } from "../../checks/simulator";
import { hkDate } from "../../core/time";
import { cli, writeConfig } from "../support/cli";
import { newUserKey, tempDir, type TestKey } from "../support/facility";

describe("hkex-ready", () => {
  const dir = tempDir("cli");
  let key: TestKey;
  let sim: RunningSimulator;
  let config: string;

  beforeAll(async () => {
    key = newUserKey(dir);
    sim = await startSimulator({ authorizedKeys: [key.publicLine], user: "CP0001", port: 0 });
    writeFileSync(join(dir, "known_hosts"), sim.knownHosts());
    const sites = sim.configSites();
    config = writeConfig(dir, {
      user: "CP0001",
      identityFile: key.privatePath,
      knownHostsFile: "./known_hosts",
      files: ["TP001", "TP002"],
      downloadDir: "./downloads",
      sites: { primary: { hosts: sites.primary.hosts }, secondary: { hosts: sites.secondary.hosts } },
      timeouts: { connectMs: 1000, handshakeMs: 3000, operationMs: 3000, transferMs: 10000 },
    });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("prints its version", async () => {
    const r = await cli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")).version);
  });

  it("does not load @pulumi/* for the operations commands", async () => {
    const script = `
      const { main } = require(${JSON.stringify(join(__dirname, "..", "..", "dist", "cli", "main.js"))});
      main(["node", "hkex-ready", "check", "--config", ${JSON.stringify("CONFIG")}, "--json"]).then((code) => {
        const pulumi = Object.keys(require.cache).filter((k) => k.includes("@pulumi"));
        process.stderr.write("PULUMI_MODULES=" + pulumi.length + " CODE=" + code + "\\n");
      });`;
    const r = await new Promise<string>((resolve) =>
      execFile(process.execPath, ["-e", script.replace("CONFIG", config)], { env: { ...process.env, CI: "true" } }, (_e, _o, stderr) =>
        resolve(stderr),
      ),
    );
    expect(r).toContain("PULUMI_MODULES=0 CODE=0");
  });

  it("exits 2 on a missing flag and on an unknown command", async () => {
    const missing = await cli(["check"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--config");
    expect((await cli(["frobnicate"])).code).toBe(2);
    expect((await cli(["check", "--config", config, "--site", "tertiary"])).code).toBe(2);
  });

  it("exits 2 with every config problem as key: message, and no stack trace", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "user: CP0001\nidentityFile: ./nope\nknownHostsFile: ./known_hosts\nfiles: [TP001]\nsites:\n  primary: { hosts: [10.151.14.999] }\ncolour: blue\n",
    );
    const r = await cli(["check", "--config", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`hkex-ready: ${bad}: colour: unknown key`);
    expect(r.stderr).toContain(`hkex-ready: ${bad}: sites.primary.hosts[0]: "10.151.14.999" is not an IP address`);
    // The file a key names is checked in the same round, not after the schema is fixed.
    expect(r.stderr).toContain(`hkex-ready: ${bad}: identityFile: ${join(dir, "nope")} does not exist`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe("");
  });

  it("checks both sites and prints the report as JSON", async () => {
    const r = await cli(["check", "--config", config, "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.verdict).toBe("pass");
    expect(report.kind).toBe("check");
    expect(report.endpoints).toHaveLength(4);
    expect(report.sites.map((s) => `${s.site}:${s.status}`)).toEqual(["primary:pass", "secondary:pass"]);
    expect(report.endpoints[0]!.phases.map((p) => p.name)).toEqual([
      "tcp",
      "banner",
      "hostkey",
      "auth",
      "sftp",
      "list",
      "download",
      "logout",
    ]);
    expect(report.downloads).toEqual([]);
  });

  it("exits 1 and names endpoint, phase and cause when a host fails", async () => {
    await sim.setFault("10.152.14.142", "reject-auth");
    try {
      const r = await cli(["check", "--config", config, "--site", "secondary", "--download", "--report-dir", join(dir, "out")]);
      expect(r.code).toBe(1);
      const bad = sim.endpoints.find((e) => e.host === "10.152.14.142")!;
      expect(r.stdout).toContain(`secondary ${bad.bindHost}:${bad.port}  FAIL`);
      expect(r.stdout).toMatch(/✗ auth: server rejected publickey login for user "CP0001"/);
      expect(r.stdout).toMatch(/secondary degraded 1\/2/);
      const saved = JSON.parse(readFileSync(join(dir, "out", "report.json"), "utf8")) as Report;
      expect(saved.verdict).toBe("fail");
      expect(saved.downloads.map((d) => d.file)).toEqual(["TP001", "TP002"]);
    } finally {
      await sim.setFault("10.152.14.142", "none");
    }
  });

  it("exits 2 naming the flag when --junit or --prometheus cannot be written, after printing the result", async () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    const r = await cli(["check", "--config", config, "--junit", join(file, "j.xml"), "--prometheus", join(file, "x.prom")]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^hkex-ready check: PASS/);
    for (const [flag, name] of [
      ["--junit", "j.xml"],
      ["--prometheus", "x.prom"],
    ]) {
      expect(r.stderr).toContain(`hkex-ready: ${flag}: cannot write ${join(file, name!)}: `);
    }
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it("runs the demo: four simulated endpoints, both parts passed, the success e-mail as a rehearsal's draft not to send", async () => {
    const out = tempDir("demo");
    const r = await cli(["demo", "--report-dir", out, "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(new Set(report.endpoints.map((e) => `${e.host}:${e.port}`)).size).toBe(4);
    expect(report.session!.parts.map((p) => `${p.part}:${p.status}`)).toEqual(["precheck:pass", "1:pass", "2:pass"]);
    const email = readFileSync(join(out, "confirmation-email.txt"), "utf8");
    expect(email).toContain(`Subject: ${REHEARSAL_SUBJECT_PREFIX}${EMAIL_TEMPLATE.subject}`);
    expect(email).toContain(fillDate(EMAIL_TEMPLATE.completed, hkDate()));
    expect(report.session!.rehearsal).toBe(true);
    expect(report.session!.rehearsalReason).toMatch(/simulator/);
    expect(readFileSync(join(out, "confirmation.eml"), "utf8")).toMatch(/^X-Unsent: 1\r?$/m);
    // The throwaway private key never reaches the output.
    const secret = readFileSync(join(out, "sandbox", "id_ed25519"), "utf8");
    const keyBody = secret
      .split("\n")
      .filter((l) => l && !l.startsWith("-----"))
      .join("");
    for (const text of [r.stdout, r.stderr, readFileSync(join(out, "report.json"), "utf8"), email])
      expect(text).not.toContain(keyBody.slice(0, 40));
  });

  it("runs the demo with a fault: exit 1 and the did-NOT-complete e-mail with the reason", async () => {
    const out = tempDir("demo-fault");
    const r = await cli(["demo", "--report-dir", out, "--fault", "10.152.14.141=file-missing", "--fault", "10.152.14.142=down"]);
    expect(r.code).toBe(1);
    const email = readFileSync(join(out, "confirmation-email.txt"), "utf8");
    expect(email).toContain(fillDate(EMAIL_TEMPLATE.notCompleted, hkDate()));
    expect(email).toMatch(/- Part 1 \(Secondary Data Centre\): no endpoint completed login, download and logout/);
    expect(email).toMatch(/- Part 1 secondary 127\.0\.(152\.141|0\.1):\d+ list: "TP002" not found/);
    // (The demo falls back to 127.0.0.1 when another run holds the aliases' port.)
    expect(email).toMatch(/- Part 1 secondary 127\.0\.(152\.142|0\.1):\d+ tcp: connection refused/);
  });

  it("rejects an unknown fault name with exit 2", async () => {
    const r = await cli(["demo", "--report-dir", tempDir("demo-bad"), "--fault", "10.152.14.141=gremlins"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gremlins/);
  });
});
