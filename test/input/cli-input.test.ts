/**
 * Bad input through the compiled CLI: each gets a message naming the key or
 * the value, exit code 2, no stack trace, nothing on stdout, and nothing is
 * contacted (every config points at a loopback listener that counts
 * connections). A group/other-readable key is a warning, as OpenSSH gives.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { startSimulator, type RunningSimulator } from "../../checks/simulator";
import { hkDate } from "../../core/time";
import { newUserKey, tempDir, type TestKey } from "../support/facility";
import { cli, cliSync, writeConfig, type CliResult } from "../support/cli";

const REPO = join(__dirname, "..", "..");

/** Exit 2, each expected text on stderr, no stack trace, nothing on stdout. */
function expectInputError(r: CliResult, ...expected: (string | RegExp)[]): void {
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: "" });
  for (const e of expected) {
    if (typeof e === "string") expect(r.stderr).toContain(e);
    else expect(r.stderr).toMatch(e);
  }
  expect(r.stderr).not.toMatch(/internal error|\n\s+at |Error:/);
  // Every line is ours (commander adds its usage hint after a bad flag).
  for (const line of r.stderr.trim().split("\n")) expect(line).toMatch(/^(hkex-ready:( |$)|\(run with --help for usage\)$)/);
}

describe("bad input: config, keys, known_hosts, client config", () => {
  const dir = tempDir("bad-input");
  let key: TestKey;
  let listener: Server;
  let connections = 0;
  let port = 0;

  beforeAll(async () => {
    key = newUserKey(dir);
    writeFileSync(join(dir, "known_hosts"), "");
    listener = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", () => r()));
    port = (listener.address() as AddressInfo).port;
  });
  afterAll(async () => {
    // Bad input is refused before anything is contacted.
    expect(connections).toBe(0);
    await new Promise((r) => listener.close(r));
  });

  let n = 0;
  /** A good config with `fields` changed (undefined deletes a key); returns its path. */
  function config(fields: Record<string, unknown> = {}): string {
    const base: Record<string, unknown> = {
      user: "CP0001",
      identityFile: key.privatePath,
      knownHostsFile: "./known_hosts",
      files: ["TP001"],
      sites: { primary: { hosts: [`127.0.0.1:${port}`] }, secondary: { hosts: [`127.0.0.2:${port}`] } },
      timeouts: { connectMs: 200, handshakeMs: 200, operationMs: 200, transferMs: 200 },
    };
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) delete base[k];
      else base[k] = v;
    }
    return writeConfig(dir, base, `c${++n}.yaml`);
  }
  function raw(text: string): string {
    const path = join(dir, `raw${++n}.yaml`);
    writeFileSync(path, text);
    return path;
  }
  const check = (cfg: string, ...extra: string[]) => cliSync(["check", "--config", cfg, ...extra]);

  it("malformed YAML: the line and column", () => {
    const cfg = raw("user: CP0001\nfiles: [TP001\nknownHostsFile: k\n");
    expectInputError(check(cfg), new RegExp(`^hkex-ready: ${cfg}: line \\d+, column \\d+: malformed YAML: `, "m"));
    const dup = raw("user: CP0001\nuser: CP0002\n");
    expectInputError(check(dup), /malformed YAML: Map keys must be unique/);
    expectInputError(check(raw("- just\n- a list\n")), ": the config must be a YAML mapping of keys to values");
    expectInputError(check(raw("\u0000\u0001binary")), /malformed YAML|must be a YAML mapping/);
    // Found by the property test: an alias without its anchor used to escape as an internal error.
    expectInputError(check(raw("user: *nope\nfiles: [TP001]\n")), "yaml: malformed YAML: Unresolved alias");
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      ...Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(", ")}]`,
      ),
    ].join("\n");
    expectInputError(check(raw(`${bomb}\n`)), /yaml: malformed YAML: .*alias/i);
  });

  it("unknown keys, at any depth: each named", () => {
    const cfg = config({ StrictHostKeyChecking: "no", timeouts: { connectMS: 100 }, sites: { tertiary: { hosts: ["127.0.0.1"] } } });
    expectInputError(
      check(cfg),
      `${cfg}: StrictHostKeyChecking: unknown key`,
      `${cfg}: timeouts.connectMS: unknown key`,
      `${cfg}: sites.tertiary: unknown key`,
    );
  });

  it("wrong types: the key and what it got", () => {
    const cfg = config({ files: "TP001", agent: "yes", timeouts: { connectMs: "5s" }, user: 1234 });
    expectInputError(
      check(cfg),
      `${cfg}: files: must be array, got string "TP001"`,
      `${cfg}: agent: must be boolean, got string "yes"`,
      `${cfg}: timeouts.connectMs: must be number, got string "5s"`,
      `${cfg}: user: must be string, got number 1234`,
    );
    expectInputError(check(config({ user: undefined })), `user: is required`);
  });

  it("an IP that is not an IP, a port out of range, an empty site", () => {
    const cfg = config({
      sites: {
        primary: { hosts: ["hkex.example", "10.151.14.256", "10.151.14.141:0", "10.151.14.142:65536"], port: 70000 },
        secondary: { hosts: [] },
      },
    });
    expectInputError(
      check(cfg),
      `sites.primary.hosts[0]: "hkex.example" is not an IP address`,
      `sites.primary.hosts[1]: "10.151.14.256" is not an IP address`,
      `sites.primary.port: must be 1-65535`,
      `sites.secondary.hosts: must list at least one host`,
    );
    expectInputError(
      check(config({ sites: { primary: { hosts: ["10.151.14.141:0", "10.151.14.142:65536"] } } })),
      `sites.primary.hosts[0]: "10.151.14.141:0" has a port out of range (1-65535)`,
      `sites.primary.hosts[1]: "10.151.14.142:65536" has a port out of range (1-65535)`,
    );
    expectInputError(check(config({ sites: { primary: {} } })), "sites.primary.hosts: is required");
  });

  it("a config file that is missing, a folder, or a FIFO (which must not hang)", () => {
    expectInputError(check(join(dir, "nope.yaml")), `--config: cannot read ${join(dir, "nope.yaml")}: ENOENT`);
    expectInputError(check(dir), `--config: cannot read ${dir}: EISDIR`);
    const fifo = join(dir, "config.fifo");
    execFileSync("mkfifo", [fifo]);
    expectInputError(check(fifo), `--config: ${fifo} is not a regular file`);
  });

  describe("the key file", () => {
    it("missing, a folder, a FIFO or a device: identityFile named, never a hang", () => {
      expectInputError(check(config({ identityFile: "./no-such-key" })), `identityFile: ${join(dir, "no-such-key")} does not exist`);
      expectInputError(check(config({ identityFile: "." })), `identityFile: ${dir} cannot be read (EISDIR)`);
      const fifo = join(dir, "key.fifo");
      execFileSync("mkfifo", [fifo]);
      expectInputError(check(config({ identityFile: fifo })), `identityFile: ${fifo} is not a regular file`);
      expectInputError(check(config({ identityFile: "/dev/zero" })), "identityFile: /dev/zero is not a regular file");
    });

    it("not readable by the user running the check: identityFile, permission denied", () => {
      const locked = join(dir, "locked-key");
      copyFileSync(key.privatePath, locked);
      chmodSync(locked, 0o000);
      const cfg = config({ identityFile: locked });
      // As root, file modes do not stop reads (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): run the CLI as root
      // without those two capabilities (util-linux setpriv), so the mode applies as it does to an operator
      // account, while the checkout stays readable wherever it was cloned (a 0700 temporary folder included).
      const asRoot = process.getuid?.() === 0;
      const r = asRoot
        ? (() => {
            try {
              const argv = ["--bounding-set=-dac_override,-dac_read_search", process.execPath, join(REPO, "bin", "hkex-ready.js")];
              const stdout = execFileSync("setpriv", [...argv, "check", "--config", cfg], { encoding: "utf8", stdio: "pipe" });
              return { code: 0, signal: null, stdout, stderr: "" };
            } catch (err) {
              const e = err as { status: number; stdout: string; stderr: string };
              return { code: e.status, signal: null, stdout: e.stdout, stderr: e.stderr };
            }
          })()
        : check(cfg);
      expectInputError(r, `identityFile: ${locked} is not readable (permission denied)`);
    });

    it("a public key where the private key belongs", () => {
      expectInputError(
        check(config({ identityFile: `${key.privatePath}.pub` })),
        `identityFile: ${key.privatePath}.pub is a public key; give the private key`,
      );
    });

    it("unsupported keys: DSA (as OpenSSH refuses it), a PKCS#8 key of a type SSH does not use, plain junk", () => {
      const ed448 = join(dir, "ed448.pem");
      execFileSync("openssl", ["genpkey", "-algorithm", "ed448", "-out", ed448], { stdio: "ignore" });
      chmodSync(ed448, 0o600);
      expectInputError(
        check(config({ identityFile: ed448 })),
        new RegExp(
          `identityFile: ${ed448} is not a supported private key \\(a ed448 key\\); use an ed25519, ecdsa or rsa key in the OpenSSH, PEM or PKCS#8 format`,
        ),
      );
      const dsa = join(dir, "id_dsa");
      execFileSync("ssh-keygen", ["-q", "-t", "dsa", "-N", "", "-f", dsa], { stdio: "ignore" });
      expectInputError(
        check(config({ identityFile: dsa })),
        `identityFile: ${dsa} is a DSA (ssh-dss) key, which OpenSSH no longer logs in with (disabled by default since 7.0, removed in 10.0); use an ed25519, ecdsa or rsa key`,
      );
      const dsaPkcs8 = join(dir, "id_dsa_pkcs8");
      execFileSync(
        "openssl",
        ["genpkey", "-genparam", "-algorithm", "dsa", "-pkeyopt", "dsa_paramgen_bits:1024", "-out", `${dsaPkcs8}.param`],
        { stdio: "ignore" },
      );
      execFileSync("openssl", ["genpkey", "-paramfile", `${dsaPkcs8}.param`, "-out", dsaPkcs8], { stdio: "ignore" });
      chmodSync(dsaPkcs8, 0o600);
      expectInputError(check(config({ identityFile: dsaPkcs8 })), `identityFile: ${dsaPkcs8} is a DSA (ssh-dss) key`);
      const junk = join(dir, "junk-key");
      writeFileSync(junk, "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n", { mode: 0o600 });
      expectInputError(check(config({ identityFile: junk })), `identityFile: ${junk} is not a supported private key`);
    });
  });

  it("a malformed known_hosts line: the file and line named; a FIFO does not hang", () => {
    const blob = key.publicLine.split(" ")[1];
    writeFileSync(join(dir, "kh-bad"), `# pinned\n[127.0.0.1]:${port} ssh-ed25519 ${blob}\n127.0.0.2 ssh-ed25519\n`);
    expectInputError(
      check(config({ knownHostsFile: "./kh-bad" })),
      "knownHostsFile:3: expected: host-patterns key-type base64-key [comment]",
    );
    // Found by the property test: a negated hashed pattern that is not |1|salt|hash crashed the host-key check.
    writeFileSync(join(dir, "kh-negated"), `!|,[127.0.0.1]:${port} ssh-ed25519 ${blob}\n`);
    expectInputError(
      check(config({ knownHostsFile: "./kh-negated" })),
      "knownHostsFile:1: malformed hashed host entry (expected |1|salt|hash)",
    );
    const fifo = join(dir, "kh.fifo");
    execFileSync("mkfifo", [fifo]);
    expectInputError(check(config({ knownHostsFile: fifo })), `knownHostsFile: ${fifo} is not a regular file`);
  });

  it("an sshConfig alias that is not in the file, a missing file, a FIFO", () => {
    writeFileSync(join(dir, "ssh_config"), "Host hkex-rr\n  HostName 10.151.14.141\n");
    expectInputError(
      check(config({ sshConfig: { file: "./ssh_config", alias: "hkex-other" } })),
      `sshConfig.alias: "hkex-other" is not a Host in ${join(dir, "ssh_config")}`,
    );
    expectInputError(
      check(config({ sshConfig: { file: "./no_ssh_config", alias: "hkex-rr" } })),
      `sshConfig.file: cannot read ${join(dir, "no_ssh_config")}: ENOENT`,
    );
    const fifo = join(dir, "ssh_config.fifo");
    execFileSync("mkfifo", [fifo]);
    expectInputError(check(config({ sshConfig: { file: fifo, alias: "hkex-rr" } })), `sshConfig.file: ${fifo} is not a regular file`);
  });

  it("an sshConfig whose winning HostName is not in the alias's own Host block: exit 2, naming the file and line", () => {
    const file = join(dir, "ssh_config_wildcard_first");
    writeFileSync(file, "Host hkex-*\n  HostName 10.151.14.142\n\nHost hkex-rr\n  HostName 10.151.14.141\n");
    expectInputError(
      check(config({ sshConfig: { file: "./ssh_config_wildcard_first", alias: "hkex-rr" } })),
      `sshConfig.file: ${file}:2 sets the HostName of hkex-rr (10.151.14.142) before its own Host block at ${file}:4 does`,
    );
  });

  it("every problem at once, across config, key and known_hosts", () => {
    writeFileSync(join(dir, "kh-junk"), "junk\n");
    const cfg = config({
      identityFile: `${key.privatePath}.pub`,
      knownHostsFile: "./kh-junk",
      sshConfig: { file: "./ssh_config", alias: "nope" },
    });
    expectInputError(check(cfg), "identityFile: ", "knownHostsFile:1: ", "sshConfig.alias: ");
  });

  it("bad flags: site, part, date, weather", () => {
    expectInputError(check(config(), "--site", "tertiary"), /--site.*tertiary/);
    expectInputError(cliSync(["session", "--config", config(), "--report-dir", dir, "--part", "3"]), /--part.*3/);
    expectInputError(
      cliSync(["session", "--config", config(), "--report-dir", dir, "--date", "30/11/2024"]),
      `--date: "30/11/2024" is not a date in yyyy-mm-dd form`,
    );
  });
});

describe("bad dates: exit 2 naming the key, and nothing switched, downloaded or written", () => {
  const dir = tempDir("bad-dates");
  let key: TestKey;
  let listener: Server;
  let connections = 0;
  let port = 0;
  const sshConfig = () => join(dir, "ssh_config");
  const downloads = join(dir, "downloads");
  const reports = join(dir, "reports");

  beforeAll(async () => {
    key = newUserKey(dir);
    writeFileSync(join(dir, "known_hosts"), "");
    listener = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", () => r()));
    port = (listener.address() as AddressInfo).port;
    writeFileSync(sshConfig(), `Host hkex-rr\n  HostName 127.0.0.1\n  Port ${port}\n  User CP0001\n`);
    mkdirSync(join(downloads, "earlier"), { recursive: true });
    writeFileSync(join(downloads, "earlier", "TP001"), "yesterday's report\n");
    mkdirSync(reports, { recursive: true });
    writeFileSync(join(reports, "notes.txt"), "kept\n");
  });
  afterAll(async () => {
    expect(connections).toBe(0);
    await new Promise((r) => listener.close(r));
  });

  /** Every file below the folders a session touches, with its bytes, and the folders' own listings. */
  function snapshot(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const folder of [downloads, reports]) {
      for (const f of readdirSync(folder, { recursive: true }).map(String).sort()) {
        const path = join(folder, f);
        out[path] = statSync(path).isFile() ? readFileSync(path, "latin1") : "(folder)";
      }
    }
    out[sshConfig()] = readFileSync(sshConfig(), "latin1");
    return out;
  }

  let n = 0;
  function config(fields: Record<string, unknown> = {}): string {
    return writeConfig(
      dir,
      {
        user: "CP0001",
        identityFile: key.privatePath,
        knownHostsFile: "./known_hosts",
        files: ["TP001"],
        downloadDir: "./downloads",
        sshConfig: { file: "./ssh_config", alias: "hkex-rr" },
        sites: { primary: { hosts: [`127.0.0.1:${port}`] }, secondary: { hosts: [`127.0.0.2:${port}`] } },
        timeouts: { connectMs: 200, handshakeMs: 200, operationMs: 200, transferMs: 200 },
        ...fields,
      },
      `c${++n}.yaml`,
    );
  }
  const session = (cfg: string, ...extra: string[]) =>
    cliSync(["session", "--config", cfg, "--report-dir", reports, "--no-progress", ...extra]);

  it("--date that is not on the calendar, in every form of the session command", () => {
    const before = snapshot();
    const cases: [string, string][] = [
      ["2024-11-31", "November 2024 has 30 days"],
      ["2024-02-30", "February 2024 has 29 days"],
      ["2024-13-01", "there is no month 13"],
    ];
    const forms = [[], ["--part", "2", "--rehearsal"], ["--weather", "signal8", "--issued-at", "08:00", "--rehearsal"]];
    for (const [date, why] of cases) {
      for (const extra of forms) {
        expectInputError(session(config(), "--date", date, ...extra), `hkex-ready: --date: "${date}" is not a calendar date (${why})`);
        expect(snapshot()).toEqual(before);
      }
    }
  }, 120_000);

  it("--date that is a real day but not today: exit 2 naming both dates, unless --rehearsal", () => {
    const before = snapshot();
    const today = hkDate();
    expectInputError(
      session(config(), "--date", "2024-11-30", "--part", "1"),
      `hkex-ready: --date: 2024-11-30 is not today (${today} in Hong Kong)`,
      "add --rehearsal",
    );
    expect(snapshot()).toEqual(before);
  });

  it("sessionDays with a date or a time that is not real: exit 2 naming the key, for session and schedule", () => {
    const before = snapshot();
    const day = (date: string, part2Start = "15:00") => ({
      date,
      registrationDeadline: "2024-11-20",
      circular: "PT/OEC/SEOCH/999/2024",
      parts: [
        { start: "12:00", end: "14:00" },
        { start: part2Start, end: "17:00" },
      ],
    });
    const bad = config({ sessionDays: [day("2024-11-30"), day("2024-11-31", "25:00")] });
    for (const r of [session(bad, "--date", hkDate()), cliSync(["schedule", "--config", bad])]) {
      expectInputError(
        r,
        `sessionDays[1].date: "2024-11-31" is not a calendar date (November 2024 has 30 days)`,
        `sessionDays[1].parts[1].start: "25:00" is not a Hong Kong time in HH:MM form`,
      );
    }
    expect(snapshot()).toEqual(before);
  });

  it("schedule --now with a day that is not on the calendar", () => {
    expectInputError(
      cliSync(["schedule", "--now", "2024-02-30T12:00"]),
      `--now: "2024-02-30" is not a calendar date (February 2024 has 29 days)`,
    );
  });
});

describe("a group/other-readable key: a warning, as OpenSSH gives, and the check runs", () => {
  const dir = tempDir("loose-key");
  let sim: RunningSimulator;
  let key: TestKey;

  beforeAll(async () => {
    key = newUserKey(dir);
    sim = await startSimulator({ authorizedKeys: [key.publicLine], user: "CP0001", port: 0 });
    writeFileSync(join(dir, "known_hosts"), sim.knownHosts());
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("mode 0644: warns naming identityFile and the mode, exit 0", async () => {
    chmodSync(key.privatePath, 0o644);
    const sites = sim.configSites();
    const cfg = writeConfig(dir, {
      user: "CP0001",
      identityFile: key.privatePath,
      knownHostsFile: "./known_hosts",
      files: ["TP001"],
      sites: { primary: { hosts: [sites.primary.hosts[0]] }, secondary: { hosts: [sites.secondary.hosts[0]] } },
    });
    // Asynchronously: the simulator runs in this process.
    const r = await cli(["check", "--config", cfg, "--site", "primary"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `hkex-ready: warning: identityFile: ${key.privatePath} is readable by group or others (mode 0644); OpenSSH would refuse it: chmod 600 ${key.privatePath}`,
    );
    expect(r.stdout).toMatch(/^hkex-ready check: PASS/m);
    expect(r.stdout).toContain(`warning: identityFile: ${key.privatePath} is readable by group or others`);
  });
});

describe("bad input for plan and policy", () => {
  const dir = tempDir("bad-infra-input");
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const plan = (file: string) => cliSync(["plan", "--stack-config", file], { HKEX_POLICY_PACK_CONFIG: "" });
  const policy = (file: string) => cliSync(["policy", "--state", file], { HKEX_POLICY_PACK_CONFIG: "" });

  it("plan: malformed YAML, not a mapping, wrong types, unknown site, a secret, a missing file", () => {
    const bad = write("Pulumi.bad.yaml", "config:\n  hkex-sftp-readiness:vpcId: [unclosed\n");
    expectInputError(plan(bad), `${bad}: is not valid YAML`);
    expectInputError(plan(write("Pulumi.list.yaml", "- a\n- b\n")), "must be a YAML mapping");
    expectInputError(plan(write("Pulumi.cfg.yaml", "config: [a, b]\n")), "config: must be a mapping of config keys");
    expectInputError(
      plan(write("Pulumi.json.yaml", stringify({ config: { "hkex-sftp-readiness:routeTableIds": "rtb-not-a-list" } }))),
      "hkex-sftp-readiness:routeTableIds: is not valid JSON",
    );
    const types = write(
      "Pulumi.types.yaml",
      stringify({
        config: {
          "hkex-sftp-readiness:vpcId": "vpc-0a1b2c3d4e5f60789",
          "hkex-sftp-readiness:routeTableIds": ["rtb-0a1b2c3d4e5f60789"],
          "hkex-sftp-readiness:routeTarget": 42,
          "hkex-sftp-readiness:sites": { tertiary: {} },
          "hkex-sftp-readiness:colour": "blue",
        },
      }),
    );
    expectInputError(
      plan(types),
      `${types}: hkex-sftp-readiness:routeTarget: `,
      `${types}: hkex-sftp-readiness:sites.tertiary: is not a known setting`,
      `${types}: hkex-sftp-readiness:colour: is not a known config key`,
    );
    expectInputError(
      plan(write("Pulumi.secret.yaml", "config:\n  hkex-sftp-readiness:vpcId:\n    secure: AAABAD\n")),
      "hkex-sftp-readiness:vpcId: is a secret",
    );
    expectInputError(plan(join(dir, "Pulumi.none.yaml")), `--stack-config: cannot read ${join(dir, "Pulumi.none.yaml")}`);
  }, 300_000);

  it("policy: a state file that is not a Pulumi export or preview", () => {
    expectInputError(policy(write("not-json.json", "deployment: yes\n")), "is not JSON");
    const notExport = write("not-export.json", JSON.stringify({ hello: "world", resources: 3 }));
    expectInputError(policy(notExport), notExport);
    expectInputError(policy(write("array.json", "[1, 2, 3]")), /array\.json/);
    expectInputError(policy(write("empty.json", "")), "is not JSON");
    const wrongVersion = write("v2.json", JSON.stringify({ version: 2, deployment: { resources: [] } }));
    expectInputError(policy(wrongVersion), wrongVersion);
    expectInputError(policy(join(dir, "missing.json")), `--state: cannot read ${join(dir, "missing.json")}`);
    mkdirSync(join(dir, "a-folder"));
    expectInputError(policy(join(dir, "a-folder")), "--state: cannot read");
    expect(readFileSync(notExport, "utf8")).toContain("hello");
  });

  it("plan, policy and the pack config refuse a FIFO instead of hanging on it", () => {
    const fifo = join(dir, "stack.fifo");
    execFileSync("mkfifo", [fifo]);
    expectInputError(plan(fifo), `--stack-config: ${fifo} is not a regular file`);
    expectInputError(policy(fifo), `--state: ${fifo} is not a regular file`);
    const pack = cliSync([
      "policy",
      "--state",
      join(REPO, "test", "fixtures", "state", readdirSync(join(REPO, "test", "fixtures", "state"))[0]!),
      "--policy-pack-config",
      fifo,
    ]);
    expectInputError(pack, `${fifo}: ${fifo} is not a regular file`);
  });
});
