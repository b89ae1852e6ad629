/** `hkex-ready session`: the connectivity session, whole or one part at a time. */
import { join } from "node:path";
import { confirmationText } from "../../checks/email";
import { InputError } from "../../core/errors";
import { runSession } from "../../checks/session";
import { hkDate } from "../../core/time";
import { exitCodeForSignal } from "../exitCodes";
import { emit, interruptSignal, loadAll, plainProgress, printWarnings } from "../common";
import { sessionPlan } from "../progress";
import { companionFiles, extraOutputs, progressFor, weatherFor } from "../outputs";

export interface SessionCommandOptions {
  readonly config: string;
  readonly reportDir: string;
  readonly part?: "1" | "2";
  readonly date?: string;
  readonly weather?: string;
  readonly issuedAt?: string;
  readonly attach?: boolean;
  readonly allowMissingPart1?: boolean;
  readonly json?: boolean;
  readonly format?: "text" | "tap";
  readonly junit?: string;
  readonly progress?: boolean;
}

export async function run(opts: SessionCommandOptions): Promise<number> {
  if (opts.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.date)) {
    throw new InputError({ path: "--date", message: `"${opts.date}" is not a date in yyyy-mm-dd form` });
  }
  const date = opts.date ?? hkDate();
  // Flags first: a bad --weather/--issued-at is a usage error before anything is loaded or contacted.
  const weather = weatherFor(opts, date);
  const loaded = loadAll(opts.config);
  printWarnings(loaded.warnings, false);
  if (weather && !opts.json) process.stderr.write(`hkex-ready: weather: ${weather.reason}\n`);
  const stop = interruptSignal();
  const part = opts.part ? (Number(opts.part) as 1 | 2) : undefined;
  const progress = progressFor(opts, plainProgress, sessionPlan(loaded.config, part));
  try {
    const report = await runSession({
      config: loaded.config,
      key: loaded.key,
      knownHosts: loaded.knownHosts,
      reportDir: opts.reportDir,
      part,
      date,
      warnings: loaded.warnings,
      signal: stop.signal,
      onEvent: progress.onEvent,
      weather,
      allowMissingPart1: opts.allowMissingPart1,
    });
    await progress.done();
    const files: Record<string, string> = { ...companionFiles(report, opts) };
    if (opts.part !== "1" && report.session) files["confirmation-email.txt"] = confirmationText(report.session.email);
    const written = await emit(report, opts, files);
    written.push(
      ...(await extraOutputs(report, {
        reportDir: opts.reportDir,
        junit: opts.junit,
        attach: opts.attach,
        part: opts.part,
        email: loaded.config.email,
        smtp: loaded.config.smtp,
      })),
    );
    if (!opts.json) {
      // With --format tap, stdout is TAP only.
      const out = opts.format === "tap" ? process.stderr : process.stdout;
      out.write(`evidence: ${written.join(", ")}\n`);
      if (files["confirmation-email.txt"]) {
        out.write(
          `send ${join(opts.reportDir, "confirmation-email.txt")} to HKEX today (${report.session?.completed ? "successfully completed" : "did NOT complete"})\n`,
        );
      }
    }
    return exitCodeForSignal(stop.interrupted(), report.verdict);
  } finally {
    stop.dispose();
  }
}
