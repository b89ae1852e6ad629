/**
 * Host keys of the simulated endpoints, and the forms an operator pins them
 * in: the OpenSSH public key line, the SHA256 fingerprint (as `ssh-keygen -l`
 * prints it) and known_hosts lines (named as checks/hostKeyNames.ts names them).
 */
import { utils, type ParsedKey } from "ssh2";
import { knownHostsLine as pinningLine } from "../hostKeyNames";
import { fingerprint } from "../knownHosts";
import { generateEd25519KeyPair } from "../keygen";

export function parseOneKey(text: string | Buffer, what: string): ParsedKey {
  const parsed = utils.parseKey(text);
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (key === undefined) throw new Error(`${what}: no key found`);
  if (key instanceof Error) throw new Error(`${what}: ${key.message}`);
  return key;
}

function asParsed(key: string | Buffer | ParsedKey): ParsedKey {
  return typeof key === "string" || Buffer.isBuffer(key) ? parseOneKey(key, "key") : key;
}

/** A new ed25519 private key in OpenSSH format. */
export function generateHostKey(comment = "hkex-sftp-simulator"): string {
  return generateEd25519KeyPair(comment).private;
}

/** "ssh-ed25519 AAAA…" for a private or public key. */
export function publicKeyLine(key: string | Buffer | ParsedKey, comment?: string): string {
  const k = asParsed(key);
  const line = `${k.type} ${k.getPublicSSH().toString("base64")}`;
  return comment ? `${line} ${comment}` : line;
}

/** "SHA256:…" of the public key blob, base64 without padding, like `ssh-keygen -l`. */
export function fingerprintOf(key: string | Buffer | ParsedKey): string {
  return fingerprint(asParsed(key).getPublicSSH() as Buffer);
}

/** "[127.0.151.141]:18801 ssh-ed25519 AAAA…" */
export function knownHostsLine(host: string, port: number, key: string | Buffer | ParsedKey): string {
  return pinningLine(host, port, asParsed(key).getPublicSSH() as Buffer);
}
