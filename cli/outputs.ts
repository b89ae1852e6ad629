/**
 * Output formats beyond report.json and the text summary: the progress
 * display, companion files in the report folder, and extra files named by
 * flags. The formats themselves live in checks/evidence/ (docs/evidence.md).
 */
import { join, resolve } from "node:path";
import type { Config } from "../checks/config";
import { InputError, type InputProblem } from "../core/errors";
import { localWriteReason } from "./common";
import { composeConfirmation, sendEml, smtpLabel, SmtpSettingsError, type EmlAttachment } from "../checks/evidence/eml";
import { renderHtml } from "../checks/evidence/html";
import { renderJunit } from "../checks/evidence/junit";
import { renderPrometheus } from "../checks/evidence/prometheus";
import type { PhaseEvent } from "../checks/probe";
import { createProgress, type Progress, type ProgressGroup } from "./progress";
import { reportJson, writeFileAtomic, type Report } from "../checks/report";
import type { WeatherDecision } from "../checks/session";
import { decideWeather, isWeatherWarning, parseIssuedAt, WEATHER_WARNINGS } from "../checks/weather";

export type { Progress, ProgressGroup } from "./progress";

export interface ProgressOptions {
  readonly json?: boolean;
  readonly progress?: boolean;
}

/**
 * Live task list on a terminal, plain lines otherwise (CI, pipes,
 * --no-progress), nothing with --json. Everything goes to stderr.
 */
export function progressFor(
  opts: ProgressOptions,
  plain: (enabled: boolean) => ((e: PhaseEvent) => void) | undefined,
  plan?: readonly ProgressGroup[],
): Progress {
  return createProgress(opts, plain, plan);
}

export const EVIDENCE_FILES = Object.freeze({
  html: "report.html",
  junit: "junit.xml",
  eml: "confirmation.eml",
});

/** Files written next to report.json: the HTML evidence and the JUnit report. */
export function companionFiles(report: Report, _opts: object = {}): Record<string, string> {
  return { [EVIDENCE_FILES.html]: renderHtml(report), [EVIDENCE_FILES.junit]: renderJunit(report) };
}

export interface ExtraOutputOptions {
  readonly reportDir?: string;
  /** --junit FILE */
  readonly junit?: string;
  /** --prometheus FILE (check) */
  readonly prometheus?: string;
  /** The config's `files` entries: the textfile's download series are keyed by them. */
  readonly files?: readonly string[];
  /** --attach: report.json and report.html go into confirmation.eml. */
  readonly attach?: boolean;
  /** session --part: "1" is not the end of the session, so no e-mail yet. */
  readonly part?: string;
  /** The config's e-mail and SMTP settings. */
  readonly email?: Config["email"];
  readonly smtp?: Config["smtp"];
  readonly env?: NodeJS.ProcessEnv;
  /** Where warnings and notices go (stderr by default; never stdout). */
  readonly notice?: (line: string) => void;
}

const stderrNotice = (line: string) => process.stderr.write(`hkex-ready: ${line}\n`);

/**
 * Files named by flags (--junit, --prometheus) and the confirmation e-mail
 * (confirmation.eml, sent over SMTP when the config has `smtp`). Returns the
 * paths written.
 */
export async function extraOutputs(report: Report, opts: ExtraOutputOptions): Promise<string[]> {
  const notice = opts.notice ?? stderrNotice;
  const written: string[] = [];
  const problems: InputProblem[] = [];
  const writeFlagFile = (flag: string, path: string, content: () => string) => {
    try {
      writeFileAtomic(path, content());
      written.push(path);
    } catch (err) {
      problems.push({ path: flag, message: `cannot write ${path}: ${localWriteReason(err)}` });
    }
  };
  if (opts.junit) writeFlagFile("--junit", resolve(opts.junit), () => renderJunit(report));
  if (opts.prometheus) {
    const path = resolve(opts.prometheus);
    if (!path.endsWith(".prom"))
      notice(`warning: --prometheus ${opts.prometheus}: node_exporter's textfile collector reads only files ending in .prom`);
    writeFlagFile("--prometheus", path, () => renderPrometheus(report, { files: opts.files }));
  }
  if (opts.reportDir && report.session && opts.part !== "1") {
    try {
      const eml = await writeConfirmationEml(report, opts, notice);
      if (eml) written.push(eml);
    } catch (err) {
      if (err instanceof InputError) throw err;
      problems.push({ path: "--report-dir", message: `cannot write ${EVIDENCE_FILES.eml}: ${localWriteReason(err)}` });
    }
  }
  if (problems.length > 0) throw new InputError(problems);
  return written;
}

async function writeConfirmationEml(report: Report, opts: ExtraOutputOptions, notice: (line: string) => void): Promise<string | undefined> {
  const email = report.session!.email;
  if (!opts.email?.from) {
    // A made-up sender would be sent as it is by some mail clients; better no .eml than a wrong one.
    notice(
      `warning: email.from is not set in the config, so ${EVIDENCE_FILES.eml} was not written; confirmation-email.txt has the text to send (set email.from to get a ready-to-send .eml)`,
    );
    return undefined;
  }
  const attachments: EmlAttachment[] = opts.attach
    ? [
        { filename: "report.json", content: reportJson(report), contentType: "application/json" },
        { filename: EVIDENCE_FILES.html, content: renderHtml(report), contentType: "text/html; charset=utf-8" },
      ]
    : [];
  const raw = await composeConfirmation(email, { from: opts.email.from, participant: opts.email.participant, attachments });
  const path = join(opts.reportDir!, EVIDENCE_FILES.eml);
  writeFileAtomic(path, raw);
  if (opts.smtp) {
    try {
      const sent = await sendEml(raw, { from: opts.email.from, to: email.to }, opts.smtp, opts.env);
      notice(`sent ${EVIDENCE_FILES.eml} to ${sent.accepted.join(", ") || email.to} via ${smtpLabel(opts.smtp)}: ${sent.response}`);
    } catch (err) {
      const why = err instanceof SmtpSettingsError ? `${err.path}: ${err.message}` : (err as Error).message;
      notice(
        `warning: sending ${EVIDENCE_FILES.eml} via ${smtpLabel(opts.smtp)} failed (${why}); send ${path} to ${email.to} by hand today`,
      );
    }
  }
  return path;
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
