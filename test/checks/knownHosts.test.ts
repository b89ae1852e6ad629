import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InputError } from "../../core/errors";
import { entryMatches, fingerprint, knownHostsLine, parseKnownHosts, verifyHostKey } from "../../checks/knownHosts";
import { generateEd25519KeyPair } from "../../checks/keygen";

function newKeyBlob(): { line: string; blob: Buffer } {
  const pair = generateEd25519KeyPair();
  const [type, b64] = pair.public.split(" ");
  return { line: `${type} ${b64}`, blob: Buffer.from(b64!, "base64") };
}

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
}

describe("known_hosts", () => {
  const a = newKeyBlob();
  const b = newKeyBlob();

  it("matches [host]:port entries, not the bare host", () => {
    const entries = parseKnownHosts(`[10.151.14.141]:18801 ${a.line}\n`);
    expect(verifyHostKey(entries, "10.151.14.141", 18801, a.blob).status).toBe("match");
    expect(verifyHostKey(entries, "10.151.14.141", 22, a.blob).status).toBe("unknown");
    expect(verifyHostKey(entries, "10.151.14.142", 18801, a.blob).status).toBe("unknown");
  });

  it("reports a mismatch with both fingerprints", () => {
    const entries = parseKnownHosts(`[10.152.14.141]:18801 ${a.line}\n`);
    const v = verifyHostKey(entries, "10.152.14.141", 18801, b.blob);
    expect(v).toEqual({ status: "mismatch", fingerprint: fingerprint(b.blob), expected: [fingerprint(a.blob)] });
  });

  it("matches hashed entries", () => {
    const entries = parseKnownHosts(`${hashed("[10.152.14.142]:18801")} ${a.line}\n`);
    expect(verifyHostKey(entries, "10.152.14.142", 18801, a.blob).status).toBe("match");
    expect(verifyHostKey(entries, "10.152.14.141", 18801, a.blob).status).toBe("unknown");
  });

  it("honours wildcards, negation, comma lists and @revoked", () => {
    const entries = parseKnownHosts([`[10.151.14.*]:18801,!10.151.14.142 ${a.line}`, `@revoked * ${b.line}`, "# comment", ""].join("\n"));
    expect(entryMatches(entries[0]!, "10.151.14.141", 18801)).toBe(true);
    expect(verifyHostKey(entries, "10.151.14.141", 18801, b.blob).status).toBe("revoked");
    const neg = parseKnownHosts(`[10.151.14.141]:18801,![10.151.14.141]:18801 ${a.line}`);
    expect(entryMatches(neg[0]!, "10.151.14.141", 18801)).toBe(false);
  });

  it("writes lines it can read back", () => {
    const line = knownHostsLine("127.0.151.141", 18801, a.blob);
    expect(line.startsWith("[127.0.151.141]:18801 ssh-ed25519 ")).toBe(true);
    expect(verifyHostKey(parseKnownHosts(line), "127.0.151.141", 18801, a.blob).status).toBe("match");
  });

  it("names the line of every malformed entry", () => {
    try {
      parseKnownHosts(
        [
          `[h]:1 ${a.line}`,
          "justonefield",
          "host ssh-ed25519 !!!notbase64",
          `host ssh-rsa ${a.line.split(" ")[1]}`,
          `@bogus host ${a.line}`,
          "|1|x host2 ssh-ed25519 AAAA",
        ].join("\n"),
      );
      throw new Error("expected an error");
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
        "knownHostsFile:2: expected: host-patterns key-type base64-key [comment]",
        "knownHostsFile:3: the key is not valid base64",
        "knownHostsFile:4: the key data does not hold a ssh-rsa key",
        'knownHostsFile:5: unknown marker "@bogus"',
        'knownHostsFile:6: unknown key type "host2"',
      ]);
    }
  });

  it("computes OpenSSH-style SHA256 fingerprints", () => {
    expect(fingerprint(a.blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
