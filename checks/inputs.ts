/**
 * Everything a run needs from its config, loaded and validated before any
 * connection is made: the config, the login key (decrypted once), the pinned
 * host keys and, for a session, that the ssh_config switchover is possible.
 * Problems of every file are reported together, each naming its key.
 */
import { resolve } from "node:path";
import { SITE_NAMES } from "../catalogue";
import { InputError } from "../core/errors";
import { MAX_TEXT_INPUT_BYTES, unreadableInput } from "../core/inputFile";
import { ConfigError, loadConfig, type Config, type FileFields } from "./config";
import { loadUserKey, type UserKey } from "./keys";
import { loadKnownHosts, nothingPinnedWarning, type KnownHostEntry } from "./knownHosts";
import { switchTarget } from "./session";
import { checkSwitchable } from "./switchover";

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
