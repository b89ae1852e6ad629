/**
 * OpenSSH known_hosts: plain and hashed (|1|salt|hash) host fields,
 * [host]:port entries, wildcards, negation, @revoked and @cert-authority
 * markers. No maintained npm library covers hashed entries and markers, so
 * this small parser follows sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT".
 */
import { createHash, createHmac } from "node:crypto";
import { accessSync, appendFileSync, constants, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { InputError, type InputProblem } from "../core/errors";
import { readInputText } from "../core/inputFile";
import { printable } from "../core/text";
import { blobKeyType, hostKeyName } from "./hostKeyNames";

export { blobKeyType, knownHostsLine } from "./hostKeyNames";

export interface KnownHostEntry {
  readonly line: number;
  readonly marker?: "revoked" | "cert-authority";
  readonly hostPatterns: readonly string[];
  readonly keyType: string;
  readonly keyBlob: Buffer;
}

const KEY_TYPES =
  /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com|ssh-ed448|[a-z0-9-]+-cert-v01@openssh\.com)$/;

export function parseKnownHosts(text: string, source = "knownHostsFile"): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const problems: InputProblem[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const parsed = parseKnownHostsLine(line, i + 1);
    if (typeof parsed === "string") problems.push({ path: `${source}:${i + 1}`, message: parsed });
    else entries.push(parsed);
  }
  if (problems.length > 0) throw new InputError(problems);
  return entries;
}

/** One non-blank, non-comment line: its entry, or what is wrong with it. */
function parseKnownHostsLine(line: string, lineNo: number): KnownHostEntry | string {
  const fields = line.split(/\s+/);
  let marker: KnownHostEntry["marker"];
  if (fields[0]?.startsWith("@")) {
    const m = fields.shift()!;
    if (m === "@revoked") marker = "revoked";
    else if (m === "@cert-authority") marker = "cert-authority";
    else return `unknown marker "${printable(m)}"`;
  }
  const [hosts, keyType, b64] = fields;
  if (!hosts || !keyType || !b64) return "expected: host-patterns key-type base64-key [comment]";
  if (!KEY_TYPES.test(keyType)) return `unknown key type "${printable(keyType.slice(0, 40))}"`;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return "the key is not valid base64";
  const keyBlob = Buffer.from(b64, "base64");
  if (blobKeyType(keyBlob) !== keyType) return `the key data does not hold a ${keyType} key`;
  const hostPatterns = hosts.split(",");
  for (const p of hostPatterns) {
    // A negated pattern ("!|1|…") is matched as the hashed entry it negates, so it must be well formed too.
    const bare = p.startsWith("!") ? p.slice(1) : p;
    if (bare.startsWith("|") && !/^\|1\|[A-Za-z0-9+/]+=*\|[A-Za-z0-9+/]+=*$/.test(bare)) {
      return "malformed hashed host entry (expected |1|salt|hash)";
    }
  }
  return { line: lineNo, marker, hostPatterns, keyType, keyBlob };
}

/** `SHA256:<base64 without padding>`, as ssh-keygen -l prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "i");
}

function hashedMatches(pattern: string, name: string): boolean {
  const [, , salt, hash] = pattern.split("|");
  const digest = createHmac("sha1", Buffer.from(salt!, "base64")).update(name).digest("base64");
  return digest === hash;
}

/** Whether an entry's host field matches this host and port. */
export function entryMatches(entry: KnownHostEntry, host: string, port: number): boolean {
  const name = hostKeyName(host, port);
  let matched = false;
  for (const raw of entry.hostPatterns) {
    const negated = raw.startsWith("!");
    const pattern = negated ? raw.slice(1) : raw;
    const hit = pattern.startsWith("|") ? hashedMatches(pattern, name) : globToRegExp(pattern).test(name);
    if (hit && negated) return false;
    if (hit) matched = true;
  }
  return matched;
}

export type HostKeyVerdict =
  | { readonly status: "match"; readonly fingerprint: string; readonly line: number }
  | { readonly status: "unknown"; readonly fingerprint: string }
  | { readonly status: "mismatch"; readonly fingerprint: string; readonly expected: readonly string[] }
  | { readonly status: "revoked"; readonly fingerprint: string; readonly line: number };

export function verifyHostKey(entries: readonly KnownHostEntry[], host: string, port: number, blob: Buffer): HostKeyVerdict {
  const fp = fingerprint(blob);
  const relevant = entries.filter((e) => e.marker !== "cert-authority" && entryMatches(e, host, port));
  const revoked = entries.find((e) => e.marker === "revoked" && e.keyBlob.equals(blob));
  if (revoked) return { status: "revoked", fingerprint: fp, line: revoked.line };
  const pinned = relevant.filter((e) => e.marker === undefined);
  const hit = pinned.find((e) => e.keyBlob.equals(blob));
  if (hit) return { status: "match", fingerprint: fp, line: hit.line };
  if (pinned.length === 0) return { status: "unknown", fingerprint: fp };
  return { status: "mismatch", fingerprint: fp, expected: [...new Set(pinned.map((e) => fingerprint(e.keyBlob)))] };
}

/** The warning when nothing is pinned, naming the file as resolved (any "~" already expanded) and why. */
export function nothingPinnedWarning(file: string): string {
  const why = existsSync(file) ? "has no pinned keys" : "does not exist";
  return `knownHostsFile: ${file} ${why}; every host key will be reported as unknown (run hkex-ready trust after verifying the fingerprints with HKEX)`;
}

export function loadKnownHosts(file: string): KnownHostEntry[] {
  if (!existsSync(file)) return [];
  return parseKnownHosts(readInputText(file, "knownHostsFile"));
}

/** Appends pinned keys (only `hkex-ready trust` calls this). */
/**
 * Makes sure `trust` can write `file`, before any host is contacted: its folder
 * is created when missing, with mode 0700 as ssh creates ~/.ssh (ssh.c,
 * "Could not create directory ... ssh"), or the config's knownHostsFile is
 * named with why it cannot be written. Returns the folder created, if any.
 */
export function prepareKnownHostsFolder(file: string): string | undefined {
  const folder = dirname(file);
  const problem = (message: string) => new InputError({ path: "knownHostsFile", message });
  const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  let created: string | undefined;
  if (!existsSync(folder)) {
    try {
      created = mkdirSync(folder, { recursive: true, mode: 0o700 }) ?? folder;
    } catch (err) {
      throw problem(`cannot create the folder ${folder} for ${file}: ${code(err)}`);
    }
  } else if (!statSync(folder).isDirectory()) {
    throw problem(`${folder} (the folder of ${file}) is a file, not a folder`);
  }
  try {
    accessSync(existsSync(file) ? file : folder, constants.W_OK);
  } catch (err) {
    throw problem(`${existsSync(file) ? file : `the folder ${folder}`} is not writable: ${code(err)}`);
  }
  return created;
}

export function appendKnownHosts(file: string, lines: readonly string[]): void {
  if (lines.length === 0) return;
  const existing = existsSync(file) ? readFileSync(file, "utf8") : "";
  const sep = existing === "" || existing.endsWith("\n") ? "" : "\n";
  appendFileSync(file, `${sep}${lines.join("\n")}\n`, { mode: 0o644 });
}
