/**
 * Which host key algorithms the kit offers, in which order: OpenSSH's rule.
 *
 * A server that holds ed25519, ECDSA and RSA host keys presents whichever the
 * client lists first. When known_hosts pins only one type for the host (say
 * RSA, as `ssh-keyscan -t rsa` writes it), offering another type first would
 * make the server present a key that is not pinned, and the kit would cry
 * "mismatch" where `ssh` connects quietly. OpenSSH avoids that in
 * sshconnect2.c `order_hostkeyalgs()` (ssh_kex2, when HostKeyAlgorithms is not
 * set explicitly):
 *
 * 1. If a plain key of the type of the most preferred algorithm is pinned for
 *    the host, the list is used verbatim.
 * 2. Otherwise the algorithms are split, keeping their order, into those whose
 *    key type is pinned for the host (and every certificate algorithm when an
 *    @cert-authority line applies to the host), then all the others.
 *
 * "Pinned for the host" means a known_hosts line whose host field matches
 * host:port (hostfile.c load_hostkeys; matching as in knownHosts.ts: plain,
 * hashed, [host]:port, wildcards, negation) and has no marker: @revoked lines
 * never count, and a pin whose key is itself @revoked does not count either
 * (hostfile.c check_hostkeys_by_key_or_type). known_hosts names an RSA key
 * `ssh-rsa` whatever signature is used, so rsa-sha2-512, rsa-sha2-256 and
 * ssh-rsa all belong to it (sshkey_type_plain).
 */
import { entryMatches, type KnownHostEntry } from "./knownHosts";

/**
 * The kit's host key algorithms, most preferred first: OpenSSH's default
 * (myproposal.h KEX_DEFAULT_PK_ALG) without the certificate and security-key
 * algorithms ssh2 cannot verify, then ssh-rsa (RSA with SHA-1), which ssh2
 * still offers and which older servers may need.
 */
export const HOST_KEY_ALGORITHMS: readonly string[] = Object.freeze([
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
  "ssh-rsa",
]);

const CERT_SUFFIX = "-cert-v01@openssh.com";

function isCertificateAlgorithm(algorithm: string): boolean {
  return algorithm.endsWith(CERT_SUFFIX);
}

/**
 * The key type known_hosts records for keys used with this algorithm
 * (OpenSSH's sshkey_type_plain of sshkey_type_from_name): RSA signature
 * variants are `ssh-rsa`, a certificate algorithm is its key's plain type.
 */
export function knownHostsKeyType(algorithm: string): string {
  let name = isCertificateAlgorithm(algorithm) ? algorithm.slice(0, -CERT_SUFFIX.length) : algorithm;
  // Certificate names drop the "@openssh.com" of the security-key types they certify.
  if (name.startsWith("sk-") && !name.endsWith("@openssh.com")) name = `${name}@openssh.com`;
  if (name === "rsa-sha2-512" || name === "rsa-sha2-256") return "ssh-rsa";
  if (name.startsWith("webauthn-sk-ecdsa-sha2-nistp256")) return "sk-ecdsa-sha2-nistp256@openssh.com";
  return name;
}

/** The key types pinned for host:port, as OpenSSH counts them (see the file comment). */
export function pinnedKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): Set<string> {
  const forHost = entries.filter((e) => entryMatches(e, host, port));
  const revoked = (e: KnownHostEntry) => forHost.some((r) => r.marker === "revoked" && r.keyBlob.equals(e.keyBlob));
  const types = new Set<string>();
  const seen = new Set<string>();
  for (const e of forHost) {
    if (e.marker !== undefined || seen.has(e.keyType)) continue;
    // Only the first pin of a type is looked at, and it must not be revoked.
    seen.add(e.keyType);
    if (!revoked(e)) types.add(e.keyType);
  }
  return types;
}

/**
 * The host key algorithms to offer to host:port, ordered as OpenSSH's
 * order_hostkeyalgs() would order `preferred` for the same known_hosts.
 */
export function orderHostKeyAlgorithms(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  preferred: readonly string[] = HOST_KEY_ALGORITHMS,
): string[] {
  const pinned = pinnedKeyTypes(entries, host, port);
  const best = preferred[0];
  if (best !== undefined && pinned.has(knownHostsKeyType(best))) return [...preferred];
  const hasAuthority = entries.some((e) => e.marker === "cert-authority" && entryMatches(e, host, port));
  const first: string[] = [];
  const last: string[] = [];
  for (const algorithm of preferred) {
    if ((isCertificateAlgorithm(algorithm) && hasAuthority) || pinned.has(knownHostsKeyType(algorithm))) first.push(algorithm);
    else last.push(algorithm);
  }
  return [...first, ...last];
}
