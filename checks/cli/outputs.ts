/**
 * Output formats beyond report.json and the text summary: the progress
 * display, companion files in the report folder, and extra files named by flags.
 */
import type { PhaseEvent } from "../probe";
import type { Report } from "../report";
import { InputError } from "../errors";

export interface ProgressOptions {
  readonly json?: boolean;
  readonly progress?: boolean;
}

export interface Progress {
  readonly onEvent?: (e: PhaseEvent) => void;
  done(): void;
}

export function progressFor(opts: ProgressOptions, plain: (enabled: boolean) => ((e: PhaseEvent) => void) | undefined): Progress {
  return { onEvent: plain(!opts.json), done: () => undefined };
}

/** Files written next to report.json. */
export function companionFiles(_report: Report, _opts: object): Record<string, string> {
  return {};
}

export async function extraOutputs(_report: Report, _opts: object): Promise<void> {}

/** The weather decision for `session --weather`, or undefined when no warning is given. */
export function weatherFor(opts: { weather?: string; issuedAt?: string }, _date: string): undefined {
  if (opts.weather !== undefined || opts.issuedAt !== undefined) {
    throw new InputError({ path: "--weather", message: "weather rules are not available in this build" });
  }
  return undefined;
}
