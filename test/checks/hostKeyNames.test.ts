/** The one place known_hosts names are made: the checks, `trust` and the simulator agree on every line. */
import { utils } from "ssh2";
import { describe, expect, it } from "vitest";
import { blobKeyType, hostKeyName, knownHostsLine } from "../../checks/hostKeyNames";
import { generateEd25519KeyPair } from "../../checks/keygen";
import { parseKnownHosts, verifyHostKey } from "../../checks/knownHosts";
import { knownHostsLine as simulatorLine } from "../../checks/simulator/keys";

const pair = generateEd25519KeyPair();
const blob = (utils.parseKey(pair.public) as { getPublicSSH(): Buffer }).getPublicSSH();

describe("known_hosts names", () => {
  it("are bare on port 22 and [host]:port elsewhere, as OpenSSH writes them", () => {
    expect(hostKeyName("127.0.151.141", 22)).toBe("127.0.151.141");
    expect(hostKeyName("127.0.151.141", 18801)).toBe("[127.0.151.141]:18801");
    expect(hostKeyName("::1", 2222)).toBe("[::1]:2222");
  });

  it("a line pins the key it was made from, for that host and port only", () => {
    const line = knownHostsLine("127.0.151.141", 18801, blob);
    expect(line).toBe(`[127.0.151.141]:18801 ssh-ed25519 ${blob.toString("base64")}`);
    const entries = parseKnownHosts(line);
    expect(verifyHostKey(entries, "127.0.151.141", 18801, blob).status).toBe("match");
    expect(verifyHostKey(entries, "127.0.151.141", 18802, blob).status).toBe("unknown");
  });

  it("the simulator writes the same line for its host keys", () => {
    expect(simulatorLine("127.0.152.142", 18801, pair.private)).toBe(knownHostsLine("127.0.152.142", 18801, blob));
  });

  it("reads the key type from the blob, and nothing from a blob too short to hold one", () => {
    expect(blobKeyType(blob)).toBe("ssh-ed25519");
    expect(blobKeyType(Buffer.from([0, 0, 0]))).toBeUndefined();
    expect(blobKeyType(Buffer.from([0, 0, 0, 9, 65]))).toBeUndefined();
  });
});
