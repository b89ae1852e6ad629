import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { utils } from "ssh2";
import { describe, expect, it } from "vitest";
import { InputError } from "../../core/errors";
import { loadUserKey } from "../../checks/keys";

const dir = mkdtempSync(join(tmpdir(), "keys-"));

function keygen(name: string, args: string[]): string {
  const path = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-f", path, ...args]);
  return path;
}

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).message;
  }
  throw new Error("expected an InputError");
}

describe("user key", () => {
  it("loads an unencrypted ed25519 key and fingerprints it like ssh-keygen", () => {
    const path = keygen("plain", ["-t", "ed25519", "-N", ""]);
    const key = loadUserKey({ identityFile: path, agent: false });
    const expected = execFileSync("ssh-keygen", ["-l", "-f", `${path}.pub`])
      .toString()
      .split(" ")[1];
    expect(key.fingerprint).toBe(expected);
    expect(key.type).toBe("ssh-ed25519");
    expect(key.problem).toBeUndefined();
    expect(key.warnings).toEqual([]);
  });

  it("loads PEM rsa and OpenSSH ecdsa keys", () => {
    expect(loadUserKey({ identityFile: keygen("rsa", ["-t", "rsa", "-b", "2048", "-m", "PEM", "-N", ""]), agent: false }).type).toBe(
      "ssh-rsa",
    );
    expect(loadUserKey({ identityFile: keygen("ecdsa", ["-t", "ecdsa", "-N", ""]), agent: false }).type).toBe("ecdsa-sha2-nistp256");
  });

  it("decrypts with the passphrase from the named environment variable", () => {
    const path = keygen("enc", ["-t", "ed25519", "-N", "s3cret-pass"]);
    const ok = loadUserKey(
      { identityFile: path, agent: false, passphraseEnv: "HKEX_KEY_PASSPHRASE" },
      { HKEX_KEY_PASSPHRASE: "s3cret-pass" },
    );
    expect(ok.problem).toBeUndefined();
    const missing = loadUserKey({ identityFile: path, agent: false, passphraseEnv: "HKEX_KEY_PASSPHRASE" }, {});
    expect(missing.problem?.code).toBe("passphrase-missing");
    expect(missing.problem?.message).toContain("HKEX_KEY_PASSPHRASE");
    // The fingerprint is still known from the .pub beside the key.
    expect(missing.fingerprint).toBe(ok.fingerprint);
    const wrong = loadUserKey({ identityFile: path, agent: false, passphraseEnv: "P" }, { P: "nope" });
    expect(wrong.problem?.code).toBe("passphrase-wrong");
    expect(JSON.stringify(wrong)).not.toContain("nope");
  });

  it("warns about a key readable by group or others", () => {
    const path = keygen("loose", ["-t", "ed25519", "-N", ""]);
    chmodSync(path, 0o644);
    expect(loadUserKey({ identityFile: path, agent: false }).warnings[0]).toMatch(/readable by group or others \(mode 0644\).*chmod 600/);
  });

  it("rejects a missing file, a public key and an unsupported format, naming identityFile", () => {
    expect(problem(() => loadUserKey({ identityFile: join(dir, "nope"), agent: false }))).toMatch(/^identityFile: .*nope does not exist$/);
    const pub = `${keygen("forpub", ["-t", "ed25519", "-N", ""])}.pub`;
    expect(problem(() => loadUserKey({ identityFile: pub, agent: false }))).toMatch(
      /^identityFile: .* is a public key; give the private key/,
    );
    const junk = join(dir, "junk");
    writeFileSync(junk, "hello, not a key\n", { mode: 0o600 });
    expect(problem(() => loadUserKey({ identityFile: junk, agent: false }))).toMatch(/^identityFile: .* is not a supported private key/);
    expect(problem(() => loadUserKey({ identityFile: dir, agent: false }))).toMatch(/^identityFile: .* cannot be read \(EISDIR\)/);
  });

  it("loads an RSA key that ssh2 generated", () => {
    const k = utils.generateKeyPairSync("rsa", { bits: 1024 });
    const path = join(dir, "gen");
    writeFileSync(path, k.private, { mode: 0o600 });
    expect(loadUserKey({ identityFile: path, agent: false }).type).toBe("ssh-rsa");
  });
});

describe("throwaway key pairs", () => {
  it("always parse back, although ssh2's generator is wrong about once in 256 calls", async () => {
    const { generateEd25519KeyPair } = await import("../../checks/keygen.js");
    for (let i = 0; i < 600; i++) {
      const pair = generateEd25519KeyPair("probe");
      expect(utils.parseKey(pair.public)).not.toBeInstanceOf(Error);
      expect(utils.parseKey(pair.private)).not.toBeInstanceOf(Error);
    }
  });
});
