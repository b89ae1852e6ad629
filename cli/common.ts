/** Shared plumbing of the check, session, trust and demo commands. */
import { decryptionText } from "../checks/evidence/text";
import { keyDecryptionOf, type UserKey } from "../checks/keys";

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
