/** `hkex-ready session`: the connectivity session, whole or one part at a time. */
import { join } from "node:path";
import { EVIDENCE_FILES, type OutputRequest } from "../../checks/evidence/formats";
import { runSession, type WeatherDecision } from "../../checks/session";
import { decideWeather, isWeatherWarning, parseIssuedAt, WEATHER_WARNINGS } from "../../checks/weather";
import { InputError } from "../../core/errors";
import { hkDate } from "../../core/time";
import { interruptSignal, loadAll, printWarnings } from "../common";
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
}

/** The weather decision for `session --weather W --issued-at HH:MM`, or undefined when no warning is given. */
export function weatherFor(
  opts: { weather?: string; issuedAt?: string },
  date: string,
  now: Date = new Date(),
): WeatherDecision | undefined {
  if (opts.weather === undefined && opts.issuedAt === undefined) return undefined;
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
  return decideWeather(opts.weather, parseIssuedAt(opts.issuedAt), date, now);
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
  const progress = createProgress(opts, plainProgress, sessionPlan(loaded.config, part));
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
    const written = await writeOutputs(report, "session", opts, { part: opts.part, email: loaded.config.email, smtp: loaded.config.smtp });
    if (!opts.json) {
      // With --format tap, stdout is TAP only.
      const out = opts.format === "tap" ? process.stderr : process.stdout;
      out.write(`evidence: ${written.join(", ")}\n`);
      const emailText = join(opts.reportDir, EVIDENCE_FILES.confirmationText);
      if (written.includes(emailText)) {
        out.write(`send ${emailText} to HKEX today (${report.session?.completed ? "successfully completed" : "did NOT complete"})\n`);
      }
    }
    return exitCodeForSignal(stop.interrupted(), report.verdict);
  } finally {
    stop.dispose();
  }
}
