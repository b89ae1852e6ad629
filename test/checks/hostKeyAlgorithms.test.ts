import { createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { utils } from "ssh2";
import { describe, expect, it } from "vitest";
import { HOST_KEY_ALGORITHMS, knownHostsKeyType, orderHostKeyAlgorithms, pinnedKeyTypes } from "../../checks/hostKeyAlgorithms";
import { generateEd25519KeyPair } from "../../checks/keygen";
import { nothingPinnedWarning, parseKnownHosts } from "../../checks/knownHosts";

const ed25519 = generateEd25519KeyPair().public.split(" ").slice(0, 2).join(" ");
const ecdsa384 = utils.generateKeyPairSync("ecdsa", { bits: 384 }).public.split(" ").slice(0, 2).join(" ");
const rsa = utils.generateKeyPairSync("rsa", { bits: 1024 }).public.split(" ").slice(0, 2).join(" ");
const HOST = "10.152.14.141";
const PORT = 18801;
const AT = `[${HOST}]:${PORT}`;

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
}

const order = (text: string) => orderHostKeyAlgorithms(parseKnownHosts(text), HOST, PORT);

describe("host key algorithms in OpenSSH's order", () => {
  it("maps algorithms to the key type known_hosts records", () => {
    expect(["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "rsa-sha2-512-cert-v01@openssh.com"].map(knownHostsKeyType)).toEqual([
      "ssh-rsa",
      "ssh-rsa",
      "ssh-rsa",
      "ssh-rsa",
    ]);
    expect(knownHostsKeyType("ecdsa-sha2-nistp384-cert-v01@openssh.com")).toBe("ecdsa-sha2-nistp384");
    expect(knownHostsKeyType("sk-ssh-ed25519-cert-v01@openssh.com")).toBe("sk-ssh-ed25519@openssh.com");
    expect(knownHostsKeyType("webauthn-sk-ecdsa-sha2-nistp256@openssh.com")).toBe("sk-ecdsa-sha2-nistp256@openssh.com");
  });

  it("offers the default order when nothing, or the most preferred type, is pinned", () => {
    expect(order("")).toEqual(HOST_KEY_ALGORITHMS);
    expect(order(`${AT} ${rsa}\n${AT} ${ed25519}\n`)).toEqual(HOST_KEY_ALGORITHMS);
  });

  it("puts an RSA pin's three algorithms first, then the rest in their order", () => {
    expect(order(`${AT} ${rsa}\n`)).toEqual([
      "rsa-sha2-512",
      "rsa-sha2-256",
      "ssh-rsa",
      "ssh-ed25519",
      "ecdsa-sha2-nistp256",
      "ecdsa-sha2-nistp384",
      "ecdsa-sha2-nistp521",
    ]);
  });

  it("tells ECDSA curves apart and reads hashed and wildcard entries", () => {
    expect(order(`${hashed(AT)} ${ecdsa384}\n`).slice(0, 2)).toEqual(["ecdsa-sha2-nistp384", "ssh-ed25519"]);
    expect(order(`[10.152.14.*]:${PORT} ${ecdsa384}\n`)[0]).toBe("ecdsa-sha2-nistp384");
  });

  it("ignores pins for another port or host, negated ones, @revoked lines and revoked pins", () => {
    expect(order(`${HOST} ${rsa}\n[10.152.14.142]:${PORT} ${rsa}\n`)).toEqual(HOST_KEY_ALGORITHMS);
    expect(order(`[10.152.14.*]:${PORT},!${AT} ${rsa}\n`)).toEqual(HOST_KEY_ALGORITHMS);
    expect(order(`@revoked ${AT} ${rsa}\n`)).toEqual(HOST_KEY_ALGORITHMS);
    expect([...pinnedKeyTypes(parseKnownHosts(`@revoked * ${rsa}\n${AT} ${rsa}\n${AT} ${ecdsa384}\n`), HOST, PORT)]).toEqual([
      "ecdsa-sha2-nistp384",
    ]);
  });

  it("puts certificate algorithms first when an @cert-authority line applies to the host", () => {
    const preferred = ["ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519", "rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-512"];
    const entries = parseKnownHosts(`@cert-authority [10.152.14.*]:${PORT} ${ed25519}\n`);
    expect(orderHostKeyAlgorithms(entries, HOST, PORT, preferred)).toEqual([
      "ssh-ed25519-cert-v01@openssh.com",
      "rsa-sha2-512-cert-v01@openssh.com",
      "ssh-ed25519",
      "rsa-sha2-512",
    ]);
    // An authority is not a pinned key: with the kit's list (no certificates) nothing moves.
    expect(orderHostKeyAlgorithms(entries, HOST, PORT)).toEqual(HOST_KEY_ALGORITHMS);
  });
});

describe("nothing pinned", () => {
  it("says whether the known_hosts file is missing or empty, naming its resolved path", () => {
    const dir = mkdtempSync(join(tmpdir(), "kh-warn-"));
    const file = join(dir, "known_hosts");
    expect(existsSync(file)).toBe(false);
    expect(nothingPinnedWarning(file)).toMatch(
      new RegExp(`^knownHostsFile: ${file} does not exist; every host key will be reported as unknown`),
    );
    writeFileSync(file, "# nothing yet\n");
    expect(nothingPinnedWarning(file)).toMatch(new RegExp(`^knownHostsFile: ${file} has no pinned keys;`));
  });
});
