/**
 * Passphrases and key material never appear in stdout, stderr, the report,
 * the e-mail or any other evidence file; the report records fingerprints,
 * never keys. Every command that loads the key is run through the compiled
 * CLI with an encrypted key whose passphrase comes from passphraseEnv, and
 * every byte it printed or wrote is searched.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { utils, type ParsedKey } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../checks/report";
import { startSimulator, type RunningSimulator } from "../../checks/simulator";
import { tempDir } from "../support/facility";
import { allFileTexts, cli, mkdirp, writeConfig, type CliResult } from "../support/cli";

const PASSPHRASE = "Tr0ub4dor&3-hkex-secret";
const WRONG = "not-the-passphrase-9f3a";

/** Overlapping windows of a secret text, long enough that a chance match is impossible. */
function windows(text: string, size: number, step: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + size <= text.length; i += step) out.push(text.slice(i, i + size));
  return out;
}

describe("secrets never leave the key file", () => {
  const dir = tempDir("secrets");
  const keyPath = join(dir, "id_ed25519");
  let sim: RunningSimulator;
  let config: string;
  let secrets: string[];
  let publicBlobs: string[];
  const outputs: { what: string; text: string }[] = [];

  beforeAll(async () => {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-a", "4", "-N", PASSPHRASE, "-C", "cp0001@participant", "-f", keyPath]);
    const encryptedBody = readFileSync(keyPath, "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("-----"))
      .join("");
    const parsed = utils.parseKey(readFileSync(keyPath), PASSPHRASE) as ParsedKey;
    const pem = parsed.getPrivatePEM();
    const pemBody = pem
      .split("\n")
      .filter((l) => l && !l.startsWith("-----"))
      .join("");
    // PKCS#8 ed25519: the last 32 bytes are the private seed.
    const seed = Buffer.from(pemBody, "base64").subarray(-32);
    secrets = [
      PASSPHRASE,
      WRONG,
      ...windows(encryptedBody, 20, 10),
      ...windows(pemBody, 20, 8),
      ...windows(seed.toString("hex"), 24, 8),
      ...windows(seed.toString("base64"), 20, 4),
    ];
    const publicLine = readFileSync(`${keyPath}.pub`, "utf8").trim();
    sim = await startSimulator({ authorizedKeys: [publicLine], user: "CP0001", port: 0 });
    writeFileSync(join(dir, "known_hosts"), sim.knownHosts());
    // The report records fingerprints, never the keys themselves (user or host).
    publicBlobs = [
      publicLine.split(" ")[1]!,
      ...sim
        .knownHosts()
        .trim()
        .split("\n")
        .map((l) => l.split(" ")[2]!),
    ].flatMap((b) => windows(b, 24, 12));
    writeFileSync(join(dir, "ssh_config"), `Host hkex-rr\n  HostName ${sim.endpoints[0]!.bindHost}\n`);
    const sites = sim.configSites();
    config = writeConfig(dir, {
      user: "CP0001",
      identityFile: keyPath,
      passphraseEnv: "HKEX_KEY_PASSPHRASE",
      knownHostsFile: "./known_hosts",
      files: ["TP001", "TP002"],
      downloadDir: "./downloads",
      sites: { primary: { hosts: sites.primary.hosts }, secondary: { hosts: sites.secondary.hosts } },
      sshConfig: { file: "./ssh_config", alias: "hkex-rr" },
      email: { from: "ops@participant.example", participant: "ABC Securities (CP0001)" },
    });
  });
  afterAll(async () => {
    await sim?.close();
  });

  /** `passphrase` null: the variable is not set at all. */
  async function run(what: string, args: string[], passphrase: string | null = PASSPHRASE): Promise<CliResult> {
    const env: NodeJS.ProcessEnv = { HKEX_KEY_PASSPHRASE: passphrase ?? undefined };
    const r = await cli(args, env);
    outputs.push({ what: `${what} stdout`, text: r.stdout }, { what: `${what} stderr`, text: r.stderr });
    return r;
  }
  const collect = (what: string, folder: string) => {
    for (const [file, text] of Object.entries(allFileTexts(folder))) outputs.push({ what: `${what}/${file}`, text });
  };

  it("check, session, trust: right passphrase, wrong one, none; every format", async () => {
    const checkDir = mkdirp(join(dir, "check"));
    expect(
      (
        await run("check --json", [
          "check",
          "--config",
          config,
          "--download",
          "--json",
          "--report-dir",
          checkDir,
          "--junit",
          join(checkDir, "extra.xml"),
          "--prometheus",
          join(checkDir, "m.prom"),
        ])
      ).code,
    ).toBe(0);
    collect("check", checkDir);
    expect((await run("check text", ["check", "--config", config, "--download", "--no-progress"])).code).toBe(0);
    expect((await run("check tap", ["check", "--config", config, "--format", "tap"])).code).toBe(0);

    const sessionDir = join(dir, "session");
    const session = await run("session --json", [
      "session",
      "--config",
      config,
      "--report-dir",
      sessionDir,
      "--date",
      "2024-11-30",
      "--rehearsal",
      "--json",
      "--attach",
    ]);
    expect(session.code).toBe(0);
    const part1 = await run("session part 1", [
      "session",
      "--config",
      config,
      "--report-dir",
      join(dir, "parts"),
      "--date",
      "2024-11-30",
      "--rehearsal",
      "--part",
      "1",
      "--no-progress",
    ]);
    const part2 = await run("session part 2", [
      "session",
      "--config",
      config,
      "--report-dir",
      join(dir, "parts"),
      "--date",
      "2024-11-30",
      "--rehearsal",
      "--part",
      "2",
      "--no-progress",
    ]);
    expect([part1.code, part2.code]).toEqual([0, 0]);
    collect("session", sessionDir);
    collect("parts", join(dir, "parts"));
    expect(Object.keys(allFileTexts(sessionDir))).toEqual(
      expect.arrayContaining(["report.json", "confirmation-email.txt", "confirmation.eml"]),
    );

    const wrong = await run("check wrong passphrase", ["check", "--config", config, "--site", "primary", "--json"], WRONG);
    expect(wrong.code).toBe(1);
    expect((JSON.parse(wrong.stdout) as Report).endpoints[0]!.phases.find((p) => p.name === "auth")).toMatchObject({
      status: "fail",
      code: "passphrase-wrong",
    });
    const none = await run("check no passphrase", ["check", "--config", config, "--site", "primary"], null);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain("HKEX_KEY_PASSPHRASE");
    const wrongSession = join(dir, "wrong-session");
    expect(
      (
        await run(
          "session wrong passphrase",
          ["session", "--config", config, "--report-dir", wrongSession, "--date", "2024-11-30", "--rehearsal", "--attach"],
          WRONG,
        )
      ).code,
    ).toBe(1);
    collect("wrong-session", wrongSession);

    expect((await run("trust", ["trust", "--config", config])).code).toBe(0);

    expect(outputs.length).toBeGreaterThan(25);
    // The search can find what it looks for: the key file itself is full of it.
    expect(secrets.filter((s) => readFileSync(keyPath, "utf8").replace(/\n/g, "").includes(s)).length).toBeGreaterThan(10);
    const leaks = outputs.flatMap(({ what, text }) =>
      secrets
        .filter((s) => text.includes(s))
        .map((s) => `${what} contains ${s === PASSPHRASE || s === WRONG ? "a passphrase" : "key material"}`),
    );
    expect(leaks).toEqual([]);
  }, 120_000);

  it("the report records fingerprints of the user and host keys, never the keys", () => {
    const report = JSON.parse(readFileSync(join(dir, "session", "report.json"), "utf8")) as Report;
    for (const e of report.endpoints) {
      expect(e.userKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(e.hostKey!.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(Object.keys(e.hostKey!).sort()).toEqual(["fingerprint", "status", "type"]);
    }
    const files = outputs.filter((o) => !o.what.startsWith("trust"));
    const keys = files.flatMap(({ what, text }) => publicBlobs.filter((b) => text.includes(b)).map(() => what));
    expect([...new Set(keys)]).toEqual([]);
  });
});
