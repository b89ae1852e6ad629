/**
 * The exit codes of `hkex-ready` (README, "Exit codes"). Commands return one of
 * these; only bin/hkex-ready.js hands it to process.exit.
 */
import type { Report } from "../checks/report";

export const EXIT = Object.freeze({
  ok: 0,
  /** A check, session or policy failed. */
  failed: 1,
  /** Bad input: config, flags, files; or an output that could not be written. */
  usage: 2,
  /** A bug: printed with its stack. */
  internal: 3,
  /** 128 + the signal number, as shells report a process ended by SIGINT or SIGTERM. */
  sigint: 130,
  sigterm: 143,
});

/** A run's exit code: interrupted by a signal, else by its verdict. */
export function exitCodeForSignal(sig: string | undefined, verdict: Report["verdict"]): number {
  if (sig === "SIGINT") return EXIT.sigint;
  if (sig === "SIGTERM") return EXIT.sigterm;
  return verdict === "pass" ? EXIT.ok : EXIT.failed;
}
