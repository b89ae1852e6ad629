/**
 * User keys in every format ssh-keygen writes, each logging into the real
 * OpenSSH sshd through the kit, and OpenSSH's own sftp on the same files for
 * comparison; and an expensive encrypted key decrypted once per run, not once
 * per endpoint inside the handshake timer.
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadUserKey, type UserKey } from "../../checks/keys";
import { parseKnownHosts } from "../../checks/knownHosts";
import type { Report } from "../../checks/report";
import { runSites } from "../../checks/run";
import { cli, cliFromModules, phaseStatuses, writeConfig } from "../support/cli";
import { makeConfig, tempDir } from "../support/facility";
import { startOpenSsh, type OpenSshServer } from "../support/sshd";

const PASS = "correct horse battery";
/** Generating twenty keys, or decrypting one made with many KDF rounds, takes long on a busy machine. */
const SLOW_MS = 120_000;
const dir = tempDir("keys-openssh");

interface KeyCase {
  readonly name: string;
  readonly path: string;
  readonly passphrase?: string;
  /** The first line of the file, as the tool wrote it. */
  readonly header: string;
}

function sshKeygen(name: string, args: readonly string[], passphrase?: string): KeyCase {
  const path = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-N", passphrase ?? "", "-C", name, "-f", path, ...args]);
  return { name, path, passphrase, header: readFileSync(path, "utf8").split("\n")[0]! };
}

/** An ed25519 PKCS#8 key as OpenSSL (and ssh-keygen -m PKCS8 since OpenSSH 9.6) writes it. */
function pkcs8Ed25519(name: string, passphrase?: string): KeyCase {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const path = join(dir, name);
  const pem = privateKey.export({
    type: "pkcs8",
    format: "pem",
    ...(passphrase ? { cipher: "aes-256-cbc", passphrase } : {}),
  }) as string;
  writeFileSync(path, pem, { mode: 0o600 });
  const raw = publicKey.export({ format: "jwk" }).x!;
  const blob = Buffer.concat([lengthPrefixed(Buffer.from("ssh-ed25519")), lengthPrefixed(Buffer.from(raw, "base64url"))]);
  writeFileSync(`${path}.pub`, `ssh-ed25519 ${blob.toString("base64")} ${name}\n`);
  return { name, path, passphrase, header: pem.split("\n")[0]! };
}

function lengthPrefixed(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

function opensshVersion(): [number, number] {
  const out = spawnSync("ssh", ["-V"], { encoding: "utf8" });
  const m = /OpenSSH_(\d+)\.(\d+)/.exec(`${out.stdout}${out.stderr}`)!;
  return [Number(m[1]), Number(m[2])];
}

/** OpenSSH's sftp with this key, the pinned known_hosts and nothing else; the passphrase through SSH_ASKPASS. */
function opensshSftp(key: KeyCase, server: OpenSshServer, knownHosts: string): Promise<{ ok: boolean; stderr: string }> {
  const askpass = join(dir, "askpass.sh");
  writeFileSync(askpass, '#!/bin/sh\nprintf "%s\\n" "$TEST_KEY_PASSPHRASE"\n', { mode: 0o700 });
  const args = [
    // No -b: sftp would add BatchMode=yes and never ask for a passphrase. Commands come on stdin instead.
    "-F",
    "/dev/null",
    "-i",
    key.path,
    "-P",
    String(server.port),
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "IdentityAgent=none",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    `${server.user}@${server.host}`,
  ];
  const env = {
    PATH: process.env.PATH,
    SSH_ASKPASS: askpass,
    SSH_ASKPASS_REQUIRE: "force",
    DISPLAY: ":0",
    TEST_KEY_PASSPHRASE: key.passphrase ?? "",
  };
  return new Promise((resolve) => {
    const child = execFile("sftp", args, { env, timeout: 20_000 }, (err, _stdout, stderr) => resolve({ ok: !err, stderr }));
    child.stdin!.end("pwd\nquit\n");
  });
}

/** Runs `fn` over `items`, a few at a time (sshd drops unauthenticated connections beyond MaxStartups 10). */
async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

describe("user keys in every ssh-keygen format log into real OpenSSH", () => {
  const keys: KeyCase[] = [];
  let server: OpenSshServer;
  let knownHosts: string;

  beforeAll(async () => {
    for (const passphrase of [undefined, PASS]) {
      const tag = passphrase ? "enc" : "plain";
      keys.push(sshKeygen(`ed25519-openssh-${tag}`, ["-t", "ed25519"], passphrase));
      for (const format of ["RFC4716", "PEM", "PKCS8"]) {
        keys.push(sshKeygen(`ecdsa-${format}-${tag}`, ["-t", "ecdsa", "-m", format], passphrase));
        keys.push(sshKeygen(`rsa-${format}-${tag}`, ["-t", "rsa", "-b", "2048", "-m", format], passphrase));
      }
      keys.push(sshKeygen(`ecdsa384-PEM-${tag}`, ["-t", "ecdsa", "-b", "384", "-m", "PEM"], passphrase));
      keys.push(sshKeygen(`ecdsa521-PKCS8-${tag}`, ["-t", "ecdsa", "-b", "521", "-m", "PKCS8"], passphrase));
      keys.push(pkcs8Ed25519(`ed25519-PKCS8-${tag}`, passphrase));
    }
    server = await startOpenSsh({
      bindHost: "127.0.151.141",
      authorizedKeys: keys.map((k) => readFileSync(`${k.path}.pub`, "utf8").trim()),
      files: { TP001: Buffer.from("report") },
    });
    knownHosts = join(dir, "known_hosts");
    writeFileSync(knownHosts, `${server.knownHostsLine}\n`);
  }, SLOW_MS);
  afterAll(async () => {
    await server?.stop();
  });

  it("writes the formats the test relies on (ssh-keygen keeps ed25519 in its own format whatever -m says)", () => {
    const header = (name: string) => keys.find((k) => k.name === name)!.header;
    expect(header("ecdsa-PEM-plain")).toBe("-----BEGIN EC PRIVATE KEY-----");
    expect(header("rsa-PEM-enc")).toBe("-----BEGIN RSA PRIVATE KEY-----");
    expect(header("rsa-PKCS8-plain")).toBe("-----BEGIN PRIVATE KEY-----");
    expect(header("ecdsa-PKCS8-enc")).toBe("-----BEGIN ENCRYPTED PRIVATE KEY-----");
    expect(header("ed25519-PKCS8-enc")).toBe("-----BEGIN ENCRYPTED PRIVATE KEY-----");
    const edPem = sshKeygen("ed25519-asked-for-PEM", ["-t", "ed25519", "-m", "PEM"]);
    const [major, minor] = opensshVersion();
    // ssh-keygen writes ed25519 as PKCS#8 only from OpenSSH 9.6 on; before, it silently keeps its own format.
    expect(edPem.header).toBe(
      major > 9 || (major === 9 && minor >= 6) ? "-----BEGIN PRIVATE KEY-----" : "-----BEGIN OPENSSH PRIVATE KEY-----",
    );
  });

  it(
    "each one passes auth, decrypted with the passphrase from passphraseEnv",
    async () => {
      const config = makeConfig(dir, {
        identityFile: keys[0]!.path,
        user: server.user,
        remoteDir: server.remoteDir,
        files: ["TP001"],
        sites: { primary: { hosts: [`${server.host}:${server.port}`] }, secondary: { hosts: ["127.0.152.141:1"] } },
      });
      const ctx = { config, knownHosts: parseKnownHosts(readFileSync(knownHosts, "utf8")) };
      // Loaded one after the other: a decryption blocks the event loop, and would hold up another key's probe.
      const loaded = keys.map((k) => ({
        k,
        key: loadUserKey(
          { identityFile: k.path, agent: false, passphraseEnv: "HKEX_KEY_PASSPHRASE" },
          k.passphrase ? { HKEX_KEY_PASSPHRASE: k.passphrase } : {},
        ),
      }));
      for (const { k, key } of loaded) {
        expect(key.problem, k.name).toBeUndefined();
        expect(key.fingerprint, k.name).toBe(execFileSync("ssh-keygen", ["-l", "-f", `${k.path}.pub`], { encoding: "utf8" }).split(" ")[1]);
        expect(key.decryptMs === undefined, k.name).toBe(k.passphrase === undefined);
      }
      await inBatches(loaded, 4, async ({ k, key }) => {
        const run = await runSites({ ...ctx, key }, ["primary"], { download: false });
        const phases = phaseStatuses(run.endpoints[0]!.phases);
        expect(phases, k.name).toEqual([
          "tcp:pass",
          "banner:pass",
          "hostkey:pass",
          "auth:pass",
          "sftp:pass",
          "list:pass",
          "download:skip",
          "logout:pass",
        ]);
      });
    },
    SLOW_MS,
  );

  it(
    "OpenSSH's sftp logs in with the same files (ed25519 PKCS#8 only from OpenSSH 9.6 on)",
    async () => {
      const [major, minor] = opensshVersion();
      const readsEd25519Pkcs8 = major > 9 || (major === 9 && minor >= 6);
      const results = await inBatches(keys, 4, (k) => opensshSftp(k, server, knownHosts));
      keys.forEach((k, i) => {
        const expected = k.name.startsWith("ed25519-PKCS8") ? readsEd25519Pkcs8 : true;
        expect(results[i]!.ok, `${k.name}: ${results[i]!.stderr}`).toBe(expected);
      });
    },
    SLOW_MS,
  );

  it("a wrong or missing passphrase is an auth problem, never a crash or a secret in the output", () => {
    for (const name of ["rsa-PKCS8-enc", "ecdsa-PKCS8-enc", "ed25519-PKCS8-enc", "rsa-PEM-enc"]) {
      const k = keys.find((x) => x.name === name)!;
      const wrong = loadUserKey({ identityFile: k.path, agent: false, passphraseEnv: "P" }, { P: "not the passphrase" });
      expect(wrong.problem?.code, name).toBe("passphrase-wrong");
      const missing = loadUserKey({ identityFile: k.path, agent: false, passphraseEnv: "P" }, {});
      expect(missing.problem?.code, name).toBe("passphrase-missing");
      // The fingerprint still comes from the .pub beside the key.
      expect(missing.fingerprint, name).toMatch(/^SHA256:/);
      expect(JSON.stringify(wrong)).not.toContain("not the passphrase");
    }
  });

  it("the decrypted key never prints", () => {
    const k = keys.find((x) => x.name === "ed25519-openssh-plain")!;
    const key = loadUserKey({ identityFile: k.path, agent: false });
    const pem = key.decrypted!.parsed.getPrivatePEM();
    const body = pem.split("\n")[1]!;
    expect(JSON.stringify(key)).toContain('"decrypted":"[private key]"');
    expect(JSON.stringify(key)).not.toContain(body);
    expect(inspect(key, { depth: 5 })).not.toContain(body);
  });
});

describe("an encrypted key with many KDF rounds is decrypted once per run", () => {
  const aliases = ["127.0.151.141", "127.0.151.142", "127.0.152.141", "127.0.152.142"];
  let servers: OpenSshServer[] = [];
  let keyPath: string;
  let key: UserKey;

  beforeAll(async () => {
    // 128 bcrypt rounds: seconds of CPU in JavaScript, as with a CP's carefully made key.
    keyPath = sshKeygen("id_ed25519_rounds", ["-t", "ed25519", "-a", "128"], PASS).path;
    chmodSync(keyPath, 0o600);
    const pub = readFileSync(`${keyPath}.pub`, "utf8").trim();
    servers = await Promise.all(
      aliases.map((bindHost) => startOpenSsh({ bindHost, authorizedKeys: [pub], files: { TP001: Buffer.from("report") } })),
    );
    key = loadUserKey({ identityFile: keyPath, agent: false, passphraseEnv: "K" }, { K: PASS });
  }, SLOW_MS);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it("records how long decrypting took", () => {
    expect(key.problem).toBeUndefined();
    expect(key.decryptMs).toBeGreaterThan(0);
  });

  it(
    "logs into four endpoints with handshake timeouts shorter than one decryption, and runs the KDF once",
    async () => {
      // Shorter than one decryption: a decryption inside any handshake would time it out.
      const handshakeMs = Math.max(400, Math.round(key.decryptMs! * 0.6));
      writeFileSync(join(dir, "known_hosts-4"), servers.map((s) => s.knownHostsLine).join("\n"));
      const config = writeConfig(dir, {
        user: servers[0]!.user,
        identityFile: keyPath,
        passphraseEnv: "HKEX_KEY_PASSPHRASE",
        knownHostsFile: "./known_hosts-4",
        // Each sshd starts its sessions in its own served folder.
        remoteDir: ".",
        files: ["TP001"],
        sites: {
          primary: { hosts: servers.slice(0, 2).map((s) => `${s.host}:${s.port}`) },
          secondary: { hosts: servers.slice(2).map((s) => `${s.host}:${s.port}`) },
        },
        timeouts: { connectMs: 2000, handshakeMs, operationMs: 4000, transferMs: 10000 },
      });
      const countFile = join(dir, "kdf-count");
      // From the compiled modules: the preload counts calls into node_modules' bcrypt-pbkdf, which the bundle does not use.
      const r = await cliFromModules(["check", "--config", config, "--site", "all", "--json"], {
        HKEX_KEY_PASSPHRASE: PASS,
        NODE_OPTIONS: `--require ${join(__dirname, "..", "support", "countKdf.cjs")}`,
        KDF_COUNT_FILE: countFile,
      });
      const report = JSON.parse(r.stdout) as Report;
      for (const e of report.endpoints) {
        expect(e.phases.find((p) => p.name === "hostkey")?.status, `${e.host} ${JSON.stringify(e.phases)}`).toBe("pass");
        expect(e.phases.find((p) => p.name === "auth")?.status, e.host).toBe("pass");
      }
      expect(report.endpoints).toHaveLength(4);
      expect(readFileSync(countFile, "utf8")).toBe("1");
      // The decryption is its own step in the report, outside every phase's time.
      expect(report.keyDecryption).toMatchObject({ status: "decrypted" });
      expect(report.keyDecryption!.ms).toBeGreaterThan(0);

      const text = await cli(["check", "--config", config, "--site", "primary", "--no-progress"], { HKEX_KEY_PASSPHRASE: PASS });
      expect(text.code).toBe(0);
      const said = /^ {2}user key decrypted in (\d+(?:\.\d s| ms)), once, before any endpoint was contacted \(outside the phase timers\)$/m;
      expect(text.stdout).toMatch(said);
      // Shown first, before the first phase line of the progress.
      expect(text.stderr.trimStart()).toMatch(/^user key decrypted in /);
    },
    SLOW_MS,
  );
});
