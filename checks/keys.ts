/**
 * The CP's SSH login key. Format problems are bad input (exit 2); a key that
 * cannot be decrypted is reported later as an `auth` failure so that the
 * network phases before it still produce evidence.
 *
 * The key is decrypted once, here, before any endpoint is contacted: an
 * OpenSSH key's bcrypt KDF (`ssh-keygen -a N`) costs seconds in JavaScript and
 * blocks the event loop, so decrypting it per connection inside a phase timer
 * would time the handshake out. The probe hands ssh2 the parsed key.
 *
 * Formats are those OpenSSH's ssh(1) logs in with: the OpenSSH format
 * (ssh-keygen's default), PEM (`-m PEM`: PKCS#1 RSA, SEC1 EC, encrypted with
 * Proc-Type/DEK-Info) and PKCS#8 (`-m PKCS8`: "BEGIN PRIVATE KEY" and
 * "BEGIN ENCRYPTED PRIVATE KEY"; OpenSSH reads ed25519 PKCS#8 since 9.6).
 * ssh2 cannot read PKCS#8, so Node's crypto opens it and hands ssh2 the same
 * key as PEM (RSA, ECDSA) or in the OpenSSH format (ed25519).
 */
import { createPrivateKey, randomBytes, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { inspect } from "node:util";
import { utils, type ParsedKey } from "ssh2";
import type { Config } from "./config";
import { InputError } from "../core/errors";
import { MAX_KEY_BYTES, unreadableInput } from "../core/inputFile";
import { fingerprint } from "./knownHosts";
import type { KeyDecryptionRecord } from "./records";

const SUPPORTED_KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"];

export interface KeyProblem {
  readonly code: "passphrase-missing" | "passphrase-wrong";
  readonly message: string;
}

/** The file's format, as ssh-keygen's -m names them ("openssh" is its default, RFC4716 for private keys). */
export type KeyFormat = "openssh" | "pem" | "pkcs8" | "putty";

/**
 * A private key, decrypted and parsed once. Its material never prints: it
 * serialises and inspects as "[private key]".
 */
export class DecryptedKey {
  readonly #parsed: ParsedKey;
  constructor(parsed: ParsedKey) {
    this.#parsed = parsed;
  }
  /** For ssh2's publickey authentication, which uses a ParsedKey as it is (ssh2 client.js: parseKey returns it unchanged). */
  get parsed(): ParsedKey {
    return this.#parsed;
  }
  toJSON(): string {
    return "[private key]";
  }
  [inspect.custom](): string {
    return "[private key]";
  }
}

export interface UserKey {
  /** "secret": held in memory only, read from a secret store (the VPC probe). */
  readonly source: "file" | "agent" | "secret";
  readonly path?: string;
  readonly format?: KeyFormat;
  /** The key, decrypted once when loaded; absent for the agent and when it cannot be decrypted (see `problem`). */
  readonly decrypted?: DecryptedKey;
  /** How long decrypting took, in ms, when the key was encrypted (a KDF with many rounds takes seconds), also when the passphrase was wrong. */
  readonly decryptMs?: number;
  readonly agentSocket?: string;
  readonly type?: string;
  /** SHA256 fingerprint of the public key, when it can be known without the passphrase. */
  readonly fingerprint?: string;
  readonly problem?: KeyProblem;
  readonly warnings: readonly string[];
}

const PUBLIC_KEY_START =
  /^\s*(ssh-(ed25519|rsa|dss)|ecdsa-sha2-|sk-|-----BEGIN (RSA |EC )?PUBLIC KEY-----|---- BEGIN SSH2 PUBLIC KEY ----)/;
const PKCS8 = /-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/;
const OPENSSH = /-----BEGIN OPENSSH PRIVATE KEY-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END OPENSSH PRIVATE KEY-----/;
const OPENSSH_MAGIC = Buffer.from("openssh-key-v1\0", "latin1");

function firstKey(k: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  return Array.isArray(k) ? (k[0] ?? new Error("no key found")) : k;
}

/** The format and whether the key is encrypted, read from its armour and header alone (no KDF is run). */
function describeKeyFile(text: string): { format: KeyFormat | undefined; encrypted: boolean } {
  const pkcs8 = PKCS8.exec(text);
  if (pkcs8) return { format: "pkcs8", encrypted: pkcs8[1] !== undefined };
  const openssh = OPENSSH.exec(text);
  if (openssh) {
    // PROTOCOL.key: "openssh-key-v1\0", then string ciphername ("none" when not encrypted).
    const blob = Buffer.from(openssh[1]!.replace(/\s+/g, ""), "base64");
    if (!blob.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC) || blob.length < OPENSSH_MAGIC.length + 4) {
      return { format: "openssh", encrypted: false };
    }
    const len = blob.readUInt32BE(OPENSSH_MAGIC.length);
    const cipher = blob.subarray(OPENSSH_MAGIC.length + 4, OPENSSH_MAGIC.length + 4 + len).toString("latin1");
    return { format: "openssh", encrypted: cipher !== "none" };
  }
  if (/-----BEGIN (RSA|EC|DSA) PRIVATE KEY-----/.test(text)) return { format: "pem", encrypted: /Proc-Type:\s*4,ENCRYPTED/.test(text) };
  if (/^PuTTY-User-Key-File-/m.test(text)) return { format: "putty", encrypted: !/^Encryption:\s*none\s*$/m.test(text) };
  return { format: undefined, encrypted: false };
}

/** An SSH wire-format string (RFC 4251 section 5). */
function sshString(data: Buffer | string): Buffer {
  const body = Buffer.from(data);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** An unencrypted ed25519 key in the OpenSSH format (PROTOCOL.key), the one ed25519 format ssh2 reads. */
function openSshEd25519(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" });
  const seed = Buffer.from(jwk.d!, "base64url");
  const pub = Buffer.from(jwk.x!, "base64url");
  const check = randomBytes(4);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(1);
  let secret = Buffer.concat([
    check,
    check,
    sshString("ssh-ed25519"),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(""),
  ]);
  const padding = Buffer.from(Array.from({ length: (8 - (secret.length % 8)) % 8 }, (_, i) => i + 1));
  secret = Buffer.concat([secret, padding]);
  const blob = Buffer.concat([
    OPENSSH_MAGIC,
    sshString("none"),
    sshString("none"),
    sshString(""),
    count,
    sshString(Buffer.concat([sshString("ssh-ed25519"), sshString(pub)])),
    sshString(secret),
  ]);
  const lines = blob.toString("base64").match(/.{1,70}/g)!;
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

const EC_CURVES = ["prime256v1", "secp384r1", "secp521r1"];

/**
 * A PKCS#8 key opened with Node's crypto and handed to ssh2 in a format it
 * reads; or the reason it cannot be used.
 */
function parsePkcs8(text: string, passphrase: string | undefined): ParsedKey | Error | "bad-passphrase" {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: "pem", ...(passphrase !== undefined ? { passphrase } : {}) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_OSSL_BAD_DECRYPT") return "bad-passphrase";
    return new Error((err as Error).message);
  }
  switch (key.asymmetricKeyType) {
    case "rsa":
      return firstKey(utils.parseKey(key.export({ type: "pkcs1", format: "pem" }) as string));
    case "ec": {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (!curve || !EC_CURVES.includes(curve)) return new Error(`an EC key on curve ${curve ?? "(unknown)"}, which SSH does not use`);
      return firstKey(utils.parseKey(key.export({ type: "sec1", format: "pem" }) as string));
    }
    case "ed25519":
      return firstKey(utils.parseKey(openSshEd25519(key)));
    case "dsa":
      return new Error("dsa");
    default:
      return new Error(`a ${key.asymmetricKeyType ?? "unknown"} key`);
  }
}

/** Fingerprint from a neighbouring .pub file, for encrypted keys we cannot open. */
function publicFingerprint(path: string): { type: string; fingerprint: string } | undefined {
  const pub = `${path}.pub`;
  if (!existsSync(pub) || unreadableInput(pub, MAX_KEY_BYTES)) return undefined;
  const k = firstKey(utils.parseKey(readFileSync(pub)));
  if (k instanceof Error) return undefined;
  return { type: k.type, fingerprint: fingerprint(k.getPublicSSH() as Buffer) };
}

/** OpenSSH 7.0 disabled ssh-dss keys by default and 10.0 removed DSA: the kit refuses them as ssh(1) does. */
function dsaRefusal(field: string, where: string): InputError {
  return new InputError({
    path: field,
    message: `${where} is a DSA (ssh-dss) key, which OpenSSH no longer logs in with (disabled by default since 7.0, removed in 10.0); use an ed25519, ecdsa or rsa key`,
  });
}

export function loadUserKey(config: Pick<Config, "identityFile" | "passphraseEnv" | "agent">, env = process.env): UserKey {
  if (config.agent && !config.identityFile) {
    return { source: "agent", agentSocket: env.SSH_AUTH_SOCK, warnings: [] };
  }
  const path = config.identityFile!;
  const refused = unreadableInput(path, MAX_KEY_BYTES);
  if (refused) throw new InputError({ path: "identityFile", message: refused });
  let data: Buffer;
  try {
    if (statSync(path).isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    data = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "does not exist" : code === "EACCES" ? "is not readable (permission denied)" : `cannot be read (${code})`;
    throw new InputError({ path: "identityFile", message: `${path} ${why}` });
  }
  const text = data.toString("latin1");
  if (PUBLIC_KEY_START.test(text)) {
    throw new InputError({
      path: "identityFile",
      message: `${path} is a public key; give the private key (usually the same name without .pub)`,
    });
  }
  const warnings: string[] = [];
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    warnings.push(
      `identityFile: ${path} is readable by group or others (mode ${mode.toString(8).padStart(4, "0")}); OpenSSH would refuse it: chmod 600 ${path}`,
    );
  }
  const passphrase = config.passphraseEnv ? env[config.passphraseEnv] : undefined;
  return parsePrivateKey(data, passphrase, {
    field: "identityFile",
    where: path,
    path,
    agentSocket: config.agent ? env.SSH_AUTH_SOCK : undefined,
    warnings,
    missing: config.passphraseEnv
      ? `the key is encrypted and the environment variable ${config.passphraseEnv} (passphraseEnv) is not set`
      : "the key is encrypted and no passphraseEnv is configured",
    wrong: `the passphrase in ${config.passphraseEnv ?? "passphraseEnv"} does not decrypt the key`,
  });
}

/**
 * A private key held in memory, as the VPC probe reads it from a secret: the
 * same checks as a key file, with no file. `where` names the secret in
 * messages; the key's bytes never appear in one.
 */
export function userKeyFromBytes(data: Buffer, opts: { field: string; where: string; passphrase?: string }): UserKey {
  if (PUBLIC_KEY_START.test(data.toString("latin1"))) {
    throw new InputError({ path: opts.field, message: `${opts.where} holds a public key; it must hold the private key` });
  }
  return parsePrivateKey(data, opts.passphrase, {
    field: opts.field,
    where: opts.where,
    warnings: [],
    missing: `the key in ${opts.where} is encrypted and no passphrase was given with it`,
    wrong: `the passphrase given with ${opts.where} does not decrypt the key`,
  });
}

interface KeySource {
  /** The config key or field named in messages. */
  readonly field: string;
  /** The file path or the secret's name, for messages. */
  readonly where: string;
  /** Set for a key file (its .pub may give the fingerprint of a key that cannot be decrypted). */
  readonly path?: string;
  readonly agentSocket?: string;
  readonly warnings: string[];
  /** What to say when the key is encrypted and no passphrase was given, or the one given is wrong. */
  readonly missing: string;
  readonly wrong: string;
}

/** The one decryption of the run (an encrypted key's KDF runs here and nowhere else), and the checks OpenSSH makes of the key. */
function parsePrivateKey(data: Buffer, passphrase: string | undefined, how: KeySource): UserKey {
  const { field, where, path, warnings } = how;
  const source = path ? ("file" as const) : ("secret" as const);
  const text = data.toString("latin1");
  const { format, encrypted } = describeKeyFile(text);
  const undecrypted = (problem: KeyProblem, decryptMs?: number): UserKey => ({
    source,
    path,
    format,
    ...(path ? publicFingerprint(path) : {}),
    problem,
    ...(decryptMs !== undefined ? { decryptMs } : {}),
    warnings,
  });
  const missingPassphrase = () => undecrypted({ code: "passphrase-missing", message: how.missing });
  // A wrong passphrase costs the KDF's time too: it is reported with the decryption's duration.
  const wrongPassphrase = (ms?: number) => undecrypted({ code: "passphrase-wrong", message: how.wrong }, ms);
  if (encrypted && passphrase === undefined) return missingPassphrase();
  const started = performance.now();
  const usedPassphrase = encrypted ? passphrase : undefined;
  const parsed = format === "pkcs8" ? parsePkcs8(text, usedPassphrase) : firstKey(utils.parseKey(data, usedPassphrase));
  const decryptMs = encrypted ? Math.round(performance.now() - started) : undefined;
  if (parsed === "bad-passphrase") return wrongPassphrase(decryptMs);
  if (parsed instanceof Error) {
    const msg = parsed.message;
    if (msg === "dsa") throw dsaRefusal(field, where);
    if (/no passphrase given/i.test(msg)) return missingPassphrase();
    if (encrypted && /bad passphrase|decrypt/i.test(msg)) return wrongPassphrase(decryptMs);
    throw new InputError({
      path: field,
      message: `${where} is not a supported private key (${msg}); use an ed25519, ecdsa or rsa key in the OpenSSH, PEM or PKCS#8 format`,
    });
  }
  if (!parsed.isPrivateKey() || parsed.getPrivatePEM() === null) {
    throw new InputError({ path: field, message: `${where} holds no private key; give the private key, not the .pub` });
  }
  if (parsed.type === "ssh-dss") throw dsaRefusal(field, where);
  if (!SUPPORTED_KEY_TYPES.includes(parsed.type)) {
    throw new InputError({ path: field, message: `${where} is a ${parsed.type} key; supported: ed25519, ecdsa, rsa` });
  }
  return {
    source,
    path,
    format,
    decrypted: new DecryptedKey(parsed),
    ...(decryptMs !== undefined ? { decryptMs } : {}),
    agentSocket: how.agentSocket,
    type: parsed.type,
    fingerprint: fingerprint(parsed.getPublicSSH() as Buffer),
    warnings,
  };
}

/** The key's one decryption as the report records it; undefined for a key that was not encrypted (or not tried). */
export function keyDecryptionOf(key: UserKey): KeyDecryptionRecord | undefined {
  if (key.decryptMs === undefined) return undefined;
  return { ms: key.decryptMs, status: key.decrypted ? "decrypted" : "wrong-passphrase" };
}
