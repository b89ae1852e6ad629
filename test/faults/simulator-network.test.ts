/**
 * The faults the simulator's switches do not cover on their own (an unknown
 * host key, a key needing a passphrase), exact fingerprints on a changed key,
 * and the readiness check's site verdicts through the compiled CLI.
 * (test/checks/probe-simulator-faults.test.ts has one test per fault switch.)
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadUserKey } from "../../checks/keys";
import type { Report } from "../../checks/report";
import { runSites } from "../../checks/run";
import { startSimulator, type RunningSimulator } from "../../checks/simulator";
import { contextFor, makeConfig, newUserKey, tempDir, type TestKey } from "../support/facility";
import { cli, firstFailure, temporaryFiles, withinTimeout, writeConfig } from "../support/cli";

const TIMEOUTS = { connectMs: 400, handshakeMs: 1500, operationMs: 1500, transferMs: 3000 };

describe("simulator: host keys, passphrases and site verdicts", () => {
  const dir = tempDir("sim-network");
  let key: TestKey;
  let encrypted: string;
  let sim: RunningSimulator;

  beforeAll(async () => {
    key = newUserKey(dir);
    encrypted = join(dir, "id_encrypted");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-a", "2", "-N", "pass phrase", "-f", encrypted]);
    sim = await startSimulator({
      authorizedKeys: [key.publicLine, readFileSync(`${encrypted}.pub`, "utf8").trim()],
      user: "CP0001",
      port: 0,
    });
  });
  afterAll(async () => {
    await sim?.close();
  });

  let n = 0;
  function context(knownHosts: string, extra: Record<string, unknown> = {}) {
    const sites = sim.configSites();
    const config = makeConfig(dir, {
      identityFile: key.privatePath,
      downloadDir: `./dl-${++n}`,
      knownHostsFile: `./known_hosts-${n}`,
      sites: { primary: { hosts: [sites.primary.hosts[0]] }, secondary: sites.secondary },
      timeouts: TIMEOUTS,
      ...extra,
    });
    return contextFor(config, knownHosts);
  }

  it("unknown host key: hostkey-unknown with the presented fingerprint, nothing after it runs", async () => {
    const ep = sim.endpoints[0]!;
    // Pinned for the other primary host and for port 22 only: neither applies to this host:port.
    const other = sim.endpoints[1]!;
    const pins = `${sim
      .knownHosts()
      .split("\n")
      .find((l) =>
        l.startsWith(`[${other.bindHost}]:${other.port} `),
      )}\n${ep.bindHost} ${sim.knownHosts().split("\n")[0]!.split(" ").slice(1).join(" ")}\n`;
    const ctx = context(pins);
    const run = await runSites(ctx, ["primary"], { download: true });
    const e = run.endpoints[0]!;
    const f = firstFailure(e.phases)!;
    expect(f).toMatchObject({ name: "hostkey", code: "hostkey-unknown", timeoutMs: TIMEOUTS.handshakeMs });
    expect(f.cause).toBe(
      `host key unknown: ${ep.bindHost}:${ep.port} presented ssh-ed25519 ${sim.hostKeyFingerprints.primary}, which is not pinned in knownHostsFile ${ctx.config.knownHostsFile} (verify it with HKEX, then run hkex-ready trust)`,
    );
    expect(e.hostKey).toEqual({ type: "ssh-ed25519", fingerprint: sim.hostKeyFingerprints.primary, status: "unknown" });
    expect(e.phases.filter((p) => p.status === "skip").map((p) => p.name)).toEqual(["auth", "sftp", "list", "download", "logout"]);
    expect(run.downloads).toEqual([]);
    expect(existsSync(ctx.config.downloadDir)).toBe(false);
  });

  it("changed host key: both fingerprints in the cause and the report, nothing downloaded", async () => {
    const ep = sim.endpoints[0]!;
    await sim.setFault(ep.host, "hostkey-changed");
    try {
      const ctx = context(sim.knownHosts());
      const run = await runSites(ctx, ["primary"], { download: true });
      const e = run.endpoints[0]!;
      const presented = e.hostKey!.fingerprint;
      expect(presented).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(presented).not.toBe(sim.hostKeyFingerprints.primary);
      expect(e.hostKey).toEqual({
        type: "ssh-ed25519",
        fingerprint: presented,
        status: "mismatch",
        expected: [sim.hostKeyFingerprints.primary],
      });
      expect(firstFailure(e.phases)!.cause).toBe(
        `host key mismatch: ${ep.bindHost}:${ep.port} presented ${presented}, pinned ${sim.hostKeyFingerprints.primary}; do not trust it, call the DCASS hotline`,
      );
      expect(run.downloads).toEqual([]);
      expect(existsSync(ctx.config.downloadDir)).toBe(false);
    } finally {
      await sim.setFault(ep.host, "none");
    }
  });

  it("a key needing a passphrase: passphrase-missing, passphrase-wrong, and a pass with the right one", async () => {
    const base = { identityFile: encrypted, passphraseEnv: "SIM_PASSPHRASE" };
    const attempt = async (env: NodeJS.ProcessEnv) => {
      const ctx = context(sim.knownHosts(), base);
      return runSites({ ...ctx, key: loadUserKey(ctx.config, env) }, ["primary"], { download: true });
    };
    const missing = firstFailure((await attempt({})).endpoints[0]!.phases)!;
    expect(missing).toMatchObject({ name: "auth", code: "passphrase-missing" });
    expect(missing.cause).toBe(
      "cannot log in: the key is encrypted and the environment variable SIM_PASSPHRASE (passphraseEnv) is not set",
    );
    expect(withinTimeout(missing)).toBe(true);
    const wrong = firstFailure((await attempt({ SIM_PASSPHRASE: "pass phrasf" })).endpoints[0]!.phases)!;
    expect(wrong).toMatchObject({ name: "auth", code: "passphrase-wrong" });
    expect(wrong.cause).toBe("cannot log in: the passphrase in SIM_PASSPHRASE does not decrypt the key");
    const right = await attempt({ SIM_PASSPHRASE: "pass phrase" });
    expect(right.endpoints[0]!.verdict).toBe("pass");
    expect(right.downloads.map((d) => d.file)).toEqual(["TP001", "TP002"]);
  });

  describe("the readiness check (compiled CLI)", () => {
    function writeCliConfig(name: string): string {
      const sites = sim.configSites();
      return writeConfig(
        dir,
        {
          user: "CP0001",
          identityFile: key.privatePath,
          knownHostsFile: `./known_hosts-cli`,
          files: ["TP001"],
          downloadDir: `./dl-${name}`,
          sites: { primary: { hosts: sites.primary.hosts }, secondary: { hosts: sites.secondary.hosts } },
          timeouts: TIMEOUTS,
        },
        `${name}.yaml`,
      );
    }
    beforeAll(() => {
      contextFor(makeConfig(dir, { identityFile: key.privatePath, knownHostsFile: "./known_hosts-cli" }), sim.knownHosts());
    });

    it("one host down: the site is degraded, the other host still downloads, exit 1", async () => {
      const down = sim.endpoints.find((e) => e.host === "10.152.14.142")!;
      await sim.setFault(down.host, "down");
      try {
        const config = writeCliConfig("one-down");
        const r = await cli(["check", "--config", config, "--site", "secondary", "--download", "--json"]);
        expect(r.code).toBe(1);
        const report = JSON.parse(r.stdout) as Report;
        expect(report.sites).toEqual([{ site: "secondary", status: "degraded", endpoints: 2, passed: 1 }]);
        expect(report.verdict).toBe("fail");
        const bad = report.endpoints.find((e) => e.port === down.port)!;
        expect(firstFailure(bad.phases)).toMatchObject({ name: "tcp", code: "refused" });
        expect(report.downloads.map((d) => `${d.port}:${d.file}`)).toEqual([
          `${sim.endpoints.find((e) => e.host === "10.152.14.141")!.port}:TP001`,
        ]);
        const text = await cli(["check", "--config", config, "--site", "secondary"]);
        expect(text.code).toBe(1);
        expect(text.stdout).toMatch(/^hkex-ready check: FAIL {2}\(secondary degraded 1\/2\)$/m);
        expect(temporaryFiles(join(dir, "dl-one-down"))).toEqual([]);
      } finally {
        await sim.setFault(down.host, "none");
      }
    });

    it("the whole site down: the site failed (0/2), the other site unaffected, exit 1", async () => {
      await Promise.all([sim.setFault("10.152.14.141", "down"), sim.setFault("10.152.14.142", "down")]);
      try {
        const r = await cli(["check", "--config", writeCliConfig("site-down"), "--json"]);
        expect(r.code).toBe(1);
        const report = JSON.parse(r.stdout) as Report;
        expect(report.sites).toEqual([
          { site: "primary", status: "pass", endpoints: 2, passed: 2 },
          { site: "secondary", status: "fail", endpoints: 2, passed: 0 },
        ]);
        expect(report.endpoints.filter((e) => e.site === "secondary").map((e) => firstFailure(e.phases)?.code)).toEqual([
          "refused",
          "refused",
        ]);
      } finally {
        await Promise.all([sim.setFault("10.152.14.141", "none"), sim.setFault("10.152.14.142", "none")]);
      }
    });
  });
});
