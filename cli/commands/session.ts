/** `hkex-ready session`: the connectivity session, whole or one part at a time. */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { SessionDay } from "../../catalogue";
import { EVIDENCE_FILES, type OutputRequest } from "../../checks/evidence/formats";
import { runSession, type WeatherDecision } from "../../checks/session";
import { rehearsalReason } from "../../checks/sessionDays";
import { decideWeather, isWeatherWarning, parseIssuedAt, WEATHER_WARNINGS } from "../../checks/weather";
import { InputError } from "../../core/errors";
import { calendarDateProblem, hkDate } from "../../core/time";
import { interruptSignal, localWriteReason, preludeOf, printWarnings } from "../common";
import { loadAll } from "../../checks/inputs";
import { exitCodeForSignal } from "../exitCodes";
import { writeOutputs } from "../outputs";
import { createProgress, plainProgress, sessionPlan } from "../progress";

/** The output flags (--report-dir, --json, --format, --junit, --attach, --no-progress) come from the format registry. */
export interface SessionCommandOptions extends OutputRequest {
  readonly config: string;
  readonly reportDir: string;
  readonly part?: "1" | "2";
  readonly date?: string;
  readonly weather?: string;
  readonly issuedAt?: string;
  readonly allowMissingPart1?: boolean;
  readonly rehearsal?: boolean;
}

/**
 * The session date: a calendar date, and today's in Hong Kong unless
 * --rehearsal says this is not the real session (a real session's evidence
 * and e-mail carry the day it ran).
 */
export function sessionDate(opts: { date?: string; rehearsal?: boolean }, today: string): string {
  if (opts.date === undefined) return today;
  const problem = calendarDateProblem(opts.date);
  if (problem) throw new InputError({ path: "--date", message: problem });
  if (opts.date !== today && !opts.rehearsal) {
    throw new InputError({
      path: "--date",
      message: `${opts.date} is not today (${today} in Hong Kong): the session runs on its day; to rehearse another day's session, add --rehearsal`,
    });
  }
  return opts.date;
}

/** The weather flags on their own: which go together, and their forms. */
export function checkWeatherFlags(opts: { weather?: string; issuedAt?: string }): void {
  if (opts.weather === undefined && opts.issuedAt === undefined) return;
  if (opts.weather === undefined) {
    throw new InputError({
      path: "--issued-at",
      message: `goes with --weather: say which warning was issued (${WEATHER_WARNINGS.join(", ")})`,
    });
  }
  if (!isWeatherWarning(opts.weather)) {
    throw new InputError({ path: "--weather", message: `"${opts.weather}" is not one of ${WEATHER_WARNINGS.join(", ")}` });
  }
  if (opts.issuedAt === undefined) {
    throw new InputError({
      path: "--weather",
      message: "needs --issued-at HH:MM, the Hong Kong time the warning was issued (before 09:00 means it was in force at 09:00)",
    });
  }
  parseIssuedAt(opts.issuedAt);
}

/** The weather decision for `session --weather W --issued-at HH:MM`, or undefined when no warning is given. */
export function weatherFor(
  opts: { weather?: string; issuedAt?: string },
  date: string,
  now: Date = new Date(),
  days?: readonly SessionDay[],
): WeatherDecision | undefined {
  checkWeatherFlags(opts);
  if (opts.weather === undefined || opts.issuedAt === undefined || !isWeatherWarning(opts.weather)) return undefined;
  return decideWeather(opts.weather, parseIssuedAt(opts.issuedAt), date, now, days);
}

/**
 * The report folder can take the evidence: an existing folder this user may
 * write in, or one that can be created (its nearest existing parent is such a
 * folder). Checked, not created, so that bad input leaves nothing behind.
 */
export function checkReportDir(dir: string): void {
  const full = resolve(dir);
  let existing = full;
  while (!existsSync(existing)) {
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  const problem = (message: string) => new InputError({ path: "--report-dir", message });
  let isFolder: boolean;
  try {
    isFolder = statSync(existing).isDirectory();
  } catch (err) {
    throw problem(`${full}: ${localWriteReason(err)}`);
  }
  if (!isFolder) {
    throw problem(existing === full ? `${full} is a file, not a folder` : `${full} cannot be created: ${existing} is a file, not a folder`);
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw problem(
      existing === full
        ? `${full} is not writable: ${localWriteReason(err)}`
        : `${full} cannot be created in ${existing}: ${localWriteReason(err)}`,
    );
  }
}

export async function run(opts: SessionCommandOptions): Promise<number> {
  // Every input is checked before anything is switched, downloaded or written: flags, then the config and
  // the files it names, then the weather decision on the configured day, the report folder and (in
  // runSession, before its first step) the state of Part 1.
  const date = sessionDate(opts, hkDate());
  checkWeatherFlags(opts);
  const loaded = loadAll(opts.config);
  const weather = weatherFor(opts, date, new Date(), loaded.config.sessionDays);
  checkReportDir(opts.reportDir);
  printWarnings(loaded.warnings, false);
  if (weather && !opts.json) process.stderr.write(`hkex-ready: weather: ${weather.reason}\n`);
  const rehearsal = rehearsalReason(loaded.config.sessionDays, date, Boolean(opts.rehearsal));
  if (rehearsal && !opts.json) process.stderr.write(`hkex-ready: rehearsal: ${rehearsal}; its e-mail is a draft not to send\n`);
  const stop = interruptSignal();
  const part = opts.part ? (Number(opts.part) as 1 | 2) : undefined;
  const progress = createProgress(opts, plainProgress, sessionPlan(loaded.config, part, date), undefined, preludeOf(loaded.key));
  try {
    const report = await runSession({
      config: loaded.config,
      key: loaded.key,
      knownHosts: loaded.knownHosts,
      reportDir: opts.reportDir,
      part,
      date,
      rehearsal: opts.rehearsal,
      warnings: loaded.warnings,
      signal: stop.signal,
      onEvent: progress.onEvent,
      weather,
      allowMissingPart1: opts.allowMissingPart1,
    });
    await progress.done();
    const written = await writeOutputs(report, "session", opts, { part: opts.part, email: loaded.config.email, smtp: loaded.config.smtp });
    if (!opts.json) {
      // With --format tap, stdout is TAP only.
      const out = opts.format === "tap" ? process.stderr : process.stdout;
      out.write(`evidence: ${written.join(", ")}\n`);
      const emailText = join(opts.reportDir, EVIDENCE_FILES.confirmationText);
      if (written.includes(emailText)) {
        out.write(
          report.session?.rehearsal
            ? `rehearsal: do NOT send ${emailText} to HKEX; it is a draft of what the e-mail will say after the real session\n`
            : `send ${emailText} to HKEX today (${report.session?.completed ? "successfully completed" : "did NOT complete"})\n`,
        );
      }
    }
    return exitCodeForSignal(stop.interrupted(), report.verdict);
  } finally {
    stop.dispose();
  }
}
