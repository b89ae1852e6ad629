/**
 * The CP's SSH login key. Format problems are bad input (exit 2); a key that
 * cannot be decrypted is reported later as an `auth` failure so that the
 * network phases before it still produce evidence.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { utils, type ParsedKey } from "ssh2";
import type { Config } from "./config";
import { InputError } from "../core/errors";
import { MAX_KEY_BYTES, unreadableInput } from "../core/inputFile";
import { fingerprint } from "./knownHosts";

export const SUPPORTED_KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"];

export interface KeyProblem {
  readonly code: "passphrase-missing" | "passphrase-wrong";
  readonly message: string;
}

export interface UserKey {
  /** "secret": held in memory only, read from a secret store (the VPC probe). */
  readonly source: "file" | "agent" | "secret";
  readonly path?: string;
  /** Private key bytes, held in memory only and never printed. */
  readonly privateKey?: Buffer;
  readonly passphrase?: string;
  readonly agentSocket?: string;
  readonly type?: string;
  /** SHA256 fingerprint of the public key, when it can be known without the passphrase. */
  readonly fingerprint?: string;
  readonly problem?: KeyProblem;
  readonly warnings: readonly string[];
}

const PUBLIC_KEY_START =
  /^\s*(ssh-(ed25519|rsa|dss)|ecdsa-sha2-|sk-|-----BEGIN (RSA |EC )?PUBLIC KEY-----|---- BEGIN SSH2 PUBLIC KEY ----)/;

function firstKey(k: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  return Array.isArray(k) ? (k[0] ?? new Error("no key found")) : k;
}

/** Fingerprint from a neighbouring .pub file, for encrypted keys we cannot open. */
function publicFingerprint(path: string): { type: string; fingerprint: string } | undefined {
  const pub = `${path}.pub`;
  if (!existsSync(pub) || unreadableInput(pub, MAX_KEY_BYTES)) return undefined;
  const k = firstKey(utils.parseKey(readFileSync(pub)));
  if (k instanceof Error) return undefined;
  return { type: k.type, fingerprint: fingerprint(k.getPublicSSH() as Buffer) };
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

function parsePrivateKey(
  data: Buffer,
  passphrase: string | undefined,
  how: {
    field: string;
    where: string;
    path?: string;
    agentSocket?: string;
    warnings: string[];
    missing: string;
    wrong: string;
  },
): UserKey {
  const { field, where, path, warnings } = how;
  const source = path ? ("file" as const) : ("secret" as const);
  const parsed = firstKey(utils.parseKey(data, passphrase));
  if (parsed instanceof Error) {
    const msg = parsed.message;
    const known = path ? publicFingerprint(path) : undefined;
    if (/no passphrase given/i.test(msg)) {
      return { source, path, ...known, problem: { code: "passphrase-missing", message: how.missing }, warnings };
    }
    if (/bad passphrase|decrypt/i.test(msg)) {
      return { source, path, ...known, problem: { code: "passphrase-wrong", message: how.wrong }, warnings };
    }
    throw new InputError({
      path: field,
      message: `${where} is not a supported private key (${msg}); use an OpenSSH or PEM ed25519, ecdsa or rsa key`,
    });
  }
  if (parsed.getPrivatePEM() === null) {
    throw new InputError({ path: field, message: `${where} holds no private key; give the private key, not the .pub` });
  }
  if (!SUPPORTED_KEY_TYPES.includes(parsed.type)) {
    throw new InputError({ path: field, message: `${where} is a ${parsed.type} key; supported: ed25519, ecdsa, rsa` });
  }
  return {
    source,
    path,
    privateKey: data,
    passphrase,
    agentSocket: how.agentSocket,
    type: parsed.type,
    fingerprint: fingerprint(parsed.getPublicSSH() as Buffer),
    warnings,
  };
}
