/**
 * The host-key check cannot be skipped by any config value: unknown keys
 * (StrictHostKeyChecking and the like) are refused by the schema, and no
 * combination of valid settings and known_hosts contents that does not pin
 * the presented key for that host:port lets a probe past `hostkey`. Only
 * `hkex-ready trust` records keys, and it never replaces a pinned one.
 */
import { createHmac, randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { utils } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema, normaliseConfig } from "../../checks/config";
import { InputError } from "../../core/errors";
import { loadKnownHosts } from "../../checks/knownHosts";
import { loadUserKey } from "../../checks/keys";
import type { Report } from "../../checks/report";
import { runSites } from "../../checks/run";
import { startSimulator, type RunningSimulator } from "../../checks/simulator";
import { newUserKey, tempDir, type TestKey } from "../support/facility";
import { cli, writeConfig } from "../support/cli";

const ROOT = join(__dirname, "..", "..");
const CHECKS = join(ROOT, "checks");
const VALID = { user: "CP0001", identityFile: "./id", knownHostsFile: "./known_hosts", files: ["TP001"] };

function sourcesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f));
}

describe("no config value turns the host-key check off", () => {
  it("the schema accepts exactly the documented keys", () => {
    expect(Object.keys(configSchema.shape).sort()).toEqual(
      [
        "agent",
        "downloadDir",
        "email",
        "files",
        "identityFile",
        "knownHostsFile",
        "monitoring",
        "passphraseEnv",
        "remoteDir",
        "sessionDays",
        "sites",
        "smtp",
        "sshConfig",
        "timeouts",
        "user",
      ].sort(),
    );
  });

  it("any extra key, at the top or inside timeouts/sites, is refused by name", () => {
    const tempting = fc.constantFrom(
      "StrictHostKeyChecking",
      "strictHostKeyChecking",
      "hostKeyChecking",
      "insecure",
      "skipHostKeyCheck",
      "trust",
      "trustOnly",
      "acceptNewHostKeys",
      "UserKnownHostsFile",
      "hostVerifier",
      "algorithms",
    );
    const key = fc.oneof(tempting, fc.string({ minLength: 1, maxLength: 12 }));
    const value = fc.oneof(fc.constantFrom("no", "off", false, 0, "accept-new", null, true), fc.jsonValue({ maxDepth: 1 }));
    fc.assert(
      fc.property(key, value, fc.constantFrom("top", "timeouts", "site"), (k, v, where) => {
        fc.pre(where !== "top" || !(k in configSchema.shape));
        fc.pre(where !== "timeouts" || !["connectMs", "handshakeMs", "operationMs", "transferMs"].includes(k));
        fc.pre(where !== "site" || !["hosts", "port"].includes(k));
        const raw =
          where === "top"
            ? { ...VALID, [k]: v }
            : where === "timeouts"
              ? { ...VALID, timeouts: { [k]: v } }
              : { ...VALID, sites: { primary: { hosts: ["10.151.14.141"], [k]: v } } };
        let err: unknown;
        try {
          normaliseConfig(raw, "/etc/hkex/hkex.yaml");
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(InputError);
        const path = where === "top" ? k : where === "timeouts" ? `timeouts.${k}` : `sites.primary.${k}`;
        expect((err as InputError).problems).toContainEqual({ path, message: "unknown key" });
      }),
      { numRuns: 200 },
    );
  });

  it("a knownHostsFile that is a device (/dev/null) is refused, not read as 'nothing pinned yet'", () => {
    expect(() => loadKnownHosts("/dev/null")).toThrow(/knownHostsFile: \/dev\/null is not a regular file/);
  });

  it("only the trust command asks the probe to accept an unpinned key", () => {
    const sources = ["checks", "cli", "core"].flatMap((d) => sourcesBelow(join(ROOT, d)));
    const users = sources.filter((f) => /trustOnly:\s*true/.test(readFileSync(f, "utf8")));
    expect(users.map((f) => f.slice(ROOT.length + 1))).toEqual(["cli/commands/trust.ts"]);
    // The probe's one host-key verifier (the key exchange the banner phase starts, which the hostkey phase waits for)
    // accepts a key only on a match, or for trust (which records it and stops).
    const probeSources = sourcesBelow(join(CHECKS, "probe"));
    const verifiers = probeSources.filter((f) => /hostVerifier/.test(readFileSync(f, "utf8")));
    expect(verifiers.map((f) => f.slice(ROOT.length + 1))).toEqual(["checks/probe/keyExchange.ts"]);
    const hostkey = readFileSync(verifiers[0]!, "utf8");
    expect(hostkey.match(/return true;/g)).toHaveLength(1);
    expect(hostkey).toMatch(
      /const verdictError = hostKeyCause\(verdict, t, type, ctx\.opts\.knownHostsFile\);\s*if \(verdictError\) \{\s*refused\(verdictError\);\s*return false;\s*\}\s*verified\(\);\s*return true;/,
    );
  });
});

describe("against the simulator: valid settings and known_hosts that do not pin this key never pass hostkey", () => {
  const dir = tempDir("hostkey-property");
  let key: TestKey;
  let sim: RunningSimulator;
  const other = utils.generateKeyPairSync("ed25519").public.split(" ").slice(0, 2).join(" ");

  beforeAll(async () => {
    key = newUserKey(dir);
    sim = await startSimulator({ authorizedKeys: [key.publicLine], user: "CP0001", port: 0 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("every run fails hostkey (unknown, mismatch or revoked), and nothing is downloaded", async () => {
    const ep = sim.endpoints[0]!;
    const right = sim.knownHosts().split("\n")[0]!.split(" ").slice(1).join(" ");
    const hashed = (name: string) => {
      const salt = randomBytes(20);
      return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
    };
    const here = `[${ep.bindHost}]:${ep.port}`;
    const knownHosts = fc.constantFrom(
      "",
      "# nothing pinned yet\n",
      `${here} ${other}\n`,
      `* ${other}\n`,
      `${hashed(here)} ${other}\n`,
      `[${ep.bindHost}]:${ep.port + 1} ${right}\n`,
      `${ep.bindHost} ${right}\n`,
      `${hashed(`[${ep.bindHost}]:${ep.port + 1}`)} ${right}\n`,
      `@cert-authority * ${right}\n`,
      `@revoked * ${right}\n${here} ${right}\n`,
      `*,!${here} ${right}\n`,
      // Another loopback address on the same port (127.0.0.2 is never the simulator's own, aliases or fallback).
      `[127.0.0.2]:${ep.port} ${right}\n`,
    );
    const settings = fc.record(
      {
        remoteDir: fc.constantFrom(".", "/", "./"),
        files: fc.constantFrom(["TP001"], ["TP00?"], ["TP001", "TP002"]),
        downloadDir: fc.constantFrom("./dl", "./dl/nested"),
        timeouts: fc.record(
          { connectMs: fc.integer({ min: 300, max: 2000 }), handshakeMs: fc.integer({ min: 1500, max: 4000 }) },
          { requiredKeys: [] },
        ),
        email: fc.constant({ from: "ops@participant.example" }),
        passphraseEnv: fc.constant("UNSET_PASSPHRASE_VARIABLE"),
      },
      { requiredKeys: [] },
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(knownHosts, settings, async (pins, extra) => {
        n++;
        writeFileSync(join(dir, `known_hosts-${n}`), pins);
        const config = normaliseConfig(
          {
            user: "CP0001",
            identityFile: key.privatePath,
            knownHostsFile: `./known_hosts-${n}`,
            sites: { primary: { hosts: [`${ep.bindHost}:${ep.port}`] } },
            files: ["TP001"],
            ...extra,
            downloadDir: `${extra.downloadDir ?? "./dl"}-${n}`,
          },
          join(dir, "hkex.yaml"),
        );
        const run = await runSites(
          { config, key: loadUserKey(config, {}), knownHosts: loadKnownHosts(config.knownHostsFile) },
          ["primary"],
          { download: true },
        );
        const e = run.endpoints[0]!;
        const hostkey = e.phases.find((p) => p.name === "hostkey")!;
        expect(hostkey.status).toBe("fail");
        expect(["hostkey-unknown", "hostkey-mismatch", "hostkey-revoked"]).toContain(hostkey.code);
        expect(e.phases.filter((p) => p.status === "pass").map((p) => p.name)).toEqual(["tcp", "banner"]);
        expect(run.downloads).toEqual([]);
      }),
      { numRuns: 24 },
    );
  });

  it("trust pins what it sees and check then passes; a changed key is never re-pinned by trust", async () => {
    const sites = sim.configSites();
    const config = writeConfig(
      dir,
      {
        user: "CP0001",
        identityFile: key.privatePath,
        knownHostsFile: "./known_hosts-trust",
        files: ["TP001"],
        sites: { primary: { hosts: sites.primary.hosts }, secondary: { hosts: sites.secondary.hosts } },
      },
      "trust.yaml",
    );
    writeFileSync(join(dir, "known_hosts-trust"), "");
    const before = await cli(["check", "--config", config, "--site", "primary", "--json"]);
    expect(before.code).toBe(1);
    expect((JSON.parse(before.stdout) as Report).endpoints.map((e) => e.phases[2]!.code)).toEqual(["hostkey-unknown", "hostkey-unknown"]);

    const trusted = await cli(["trust", "--config", config, "--site", "primary"]);
    expect(trusted.code).toBe(0);
    expect(trusted.stdout).toContain(`recorded ssh-ed25519 ${sim.hostKeyFingerprints.primary}`);
    expect((await cli(["check", "--config", config, "--site", "primary"])).code).toBe(0);

    const pinned = readFileSync(join(dir, "known_hosts-trust"), "utf8");
    await sim.setFault(sim.endpoints[0]!.host, "hostkey-changed");
    try {
      const again = await cli(["trust", "--config", config, "--site", "primary"]);
      expect(again.code).toBe(1);
      expect(again.stdout).toMatch(/NOT recorded: presents SHA256:\S+ but SHA256:\S+ is pinned\. Do not trust it; call the DCASS hotline/);
      expect(readFileSync(join(dir, "known_hosts-trust"), "utf8")).toBe(pinned);
      const check = await cli(["check", "--config", config, "--site", "primary", "--json"]);
      expect(check.code).toBe(1);
      expect((JSON.parse(check.stdout) as Report).endpoints[0]!.phases[2]).toMatchObject({ name: "hostkey", code: "hostkey-mismatch" });
    } finally {
      await sim.setFault(sim.endpoints[0]!.host, "none");
    }
  });
});
