/** Shared plumbing of the check, session, trust and demo commands. */
import { resolve } from "node:path";
import { ConfigError, loadConfig, type Config, type FileFields } from "../checks/config";
import { InputError } from "../core/errors";
import { MAX_TEXT_INPUT_BYTES, unreadableInput } from "../core/inputFile";
import { decryptionText } from "../checks/evidence/text";
import { keyDecryptionOf, loadUserKey, type UserKey } from "../checks/keys";
import { loadKnownHosts, nothingPinnedWarning, type KnownHostEntry } from "../checks/knownHosts";
import { switchTarget } from "../checks/session";
import { checkSwitchable } from "../checks/switchover";
import { SITE_NAMES } from "../catalogue";

export interface Loaded {
  readonly config: Config;
  readonly key: UserKey;
  readonly knownHosts: readonly KnownHostEntry[];
  readonly warnings: string[];
}

/** Loads and validates everything before any connection is made. */
export function loadAll(configFile: string): Loaded {
  let config: Config | undefined;
  let fields: Partial<FileFields>;
  const problems: InputError[] = [];
  try {
    config = loadConfig(configFile);
    fields = config;
  } catch (err) {
    // Keys with problems are reported together with those of the files the config names.
    if (!(err instanceof ConfigError)) throw err;
    problems.push(err);
    fields = err.fileFields;
  }
  let key: UserKey | undefined;
  let knownHosts: KnownHostEntry[] = [];
  if (fields.identityFile || (fields.agent && !problems.length)) {
    try {
      key = loadUserKey({ identityFile: fields.identityFile, passphraseEnv: fields.passphraseEnv, agent: fields.agent ?? false });
    } catch (err) {
      if (err instanceof InputError) problems.push(err);
      else throw err;
    }
  }
  if (fields.knownHostsFile) {
    try {
      knownHosts = loadKnownHosts(fields.knownHostsFile);
    } catch (err) {
      if (err instanceof InputError) problems.push(err);
      else throw err;
    }
  }
  if (fields.sshConfig) {
    try {
      const refused = unreadableInput(fields.sshConfig.file, MAX_TEXT_INPUT_BYTES);
      if (refused) throw new InputError({ path: "sshConfig.file", message: refused });
      // Whatever the session will point the alias at (each site's first endpoint) must be possible now.
      const targets = config ? SITE_NAMES.map((site) => switchTarget(config!, site)) : [];
      checkSwitchable(fields.sshConfig.file, fields.sshConfig.alias, targets);
    } catch (err) {
      if (err instanceof InputError) problems.push(err);
      else throw err;
    }
  }
  if (problems.length > 0 || !config)
    throw new InputError(
      problems.flatMap((p) => p.problems),
      config?.file ?? resolve(configFile),
    );
  const warnings = [...key!.warnings];
  if (knownHosts.length === 0) warnings.push(nothingPinnedWarning(config.knownHostsFile));
  return { config, key: key!, knownHosts, warnings };
}

/** What happened before any endpoint was contacted, shown first by the progress display: the key's one decryption. */
export function preludeOf(key: UserKey): string[] {
  const record = keyDecryptionOf(key);
  return record ? [`user ${decryptionText(record)}`] : [];
}

/** Aborts on SIGINT/SIGTERM so downloads clean up and the report says "interrupted". */
export function interruptSignal(): { signal: AbortSignal; dispose(): void; interrupted(): string | undefined } {
  const ac = new AbortController();
  let which: string | undefined;
  const handler = (sig: NodeJS.Signals) => {
    which = sig;
    ac.abort(sig);
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return {
    signal: ac.signal,
    interrupted: () => which,
    dispose: () => {
      process.removeListener("SIGINT", handler);
      process.removeListener("SIGTERM", handler);
    },
  };
}

/** Why a local file could not be written, in words an operator can act on. */
export function localWriteReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      return `${code} (disk full)`;
    case "EROFS":
      return `${code} (read-only file system)`;
    case "EACCES":
    case "EPERM":
      return `${code} (permission denied)`;
    case "ENOTDIR":
      return `${code} (part of the path is a file, not a folder)`;
    default:
      return code ?? (err as Error).message;
  }
}

export function printWarnings(warnings: readonly string[], quiet: boolean): void {
  if (quiet) return;
  for (const w of warnings) process.stderr.write(`hkex-ready: warning: ${w}\n`);
}
