/** Shared plumbing of the check, session, trust and demo commands. */
import { join, resolve } from "node:path";
import { ConfigError, loadConfig, type Config, type FileFields } from "../checks/config";
import { InputError } from "../core/errors";
import { MAX_TEXT_INPUT_BYTES, unreadableInput } from "../core/inputFile";
import { loadUserKey, type UserKey } from "../checks/keys";
import { loadKnownHosts, nothingPinnedWarning, type KnownHostEntry } from "../checks/knownHosts";
import type { PhaseEvent } from "../checks/probe";
import { reportJson, writeFileAtomic, type Report } from "../checks/report";
import { renderReport } from "../checks/evidence/text";
import { renderTap } from "../checks/evidence/tap";
import { readHostName } from "../checks/switchover";

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
      readHostName(fields.sshConfig.file, fields.sshConfig.alias);
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

export function exitCodeForSignal(sig: string | undefined, verdict: Report["verdict"]): number {
  if (sig === "SIGINT") return 130;
  if (sig === "SIGTERM") return 143;
  return verdict === "pass" ? 0 : 1;
}

/** Plain progress lines on stderr: one per finished phase. */
export function plainProgress(enabled: boolean): ((e: PhaseEvent) => void) | undefined {
  if (!enabled) return undefined;
  return (e) => {
    if (e.kind !== "end") return;
    const r = e.result;
    const tail = r.status === "pass" ? `${r.ms} ms` : `${r.status}${r.cause ? `: ${r.cause}` : ""}`;
    process.stderr.write(`  ${e.target.site} ${e.target.host}:${e.target.port} ${r.name} ${tail}\n`);
  };
}

export interface OutputOptions {
  readonly json?: boolean;
  readonly format?: "text" | "tap";
  readonly reportDir?: string;
  readonly junit?: string;
}

/**
 * Writes report.json (and companions) and prints the result. When the report
 * folder cannot be written (disk full, not a folder, read-only), the result
 * is still printed, then the problem is raised as an InputError naming
 * --report-dir: exit code 2 and one clear line, not an internal error.
 */
export async function emit(report: Report, opts: OutputOptions, extraFiles: Record<string, string> = {}): Promise<string[]> {
  const written: string[] = [];
  let unwritten: InputError | undefined;
  if (opts.reportDir) {
    const files: [string, string][] = [["report.json", reportJson(report)], ...Object.entries(extraFiles)];
    for (const [name, content] of files) {
      const p = join(opts.reportDir, name);
      try {
        writeFileAtomic(p, content);
        written.push(p);
      } catch (err) {
        unwritten = new InputError({
          path: "--report-dir",
          message: `cannot write ${p}: ${localWriteReason(err)}; the report is only on stdout`,
        });
        break;
      }
    }
  }
  if (opts.json) process.stdout.write(reportJson(report));
  else if (opts.format === "tap") process.stdout.write(renderTap(report));
  else process.stdout.write(renderReport(report));
  if (unwritten) throw unwritten;
  return written;
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
