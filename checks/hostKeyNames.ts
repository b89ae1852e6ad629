/**
 * How known_hosts names a host and writes a pinned key, as OpenSSH does
 * (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): the host field is "host" on port
 * 22 and "[host]:port" otherwise; the key is its type and base64 blob. The
 * probe's checks, `hkex-ready trust` and the simulator all name keys here.
 */

/** The name OpenSSH looks up: "host" on port 22, "[host]:port" otherwise. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type named inside an SSH public key blob (its first string, RFC 4253 section 6.6). */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  return blob.subarray(4, 4 + len).toString("latin1");
}

/** "[host]:port ssh-ed25519 AAAA…": the line that pins this key for host and port. */
export function knownHostsLine(host: string, port: number, blob: Buffer): string {
  return `${hostKeyName(host, port)} ${blobKeyType(blob)} ${blob.toString("base64")}`;
}
