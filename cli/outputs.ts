/**
 * Writes a run's outputs, every one of them from the registry in
 * checks/evidence/formats.ts: the companions in --report-dir, the result on
 * stdout, the files named by flags, the confirmation e-mail. One order, and
 * one way to say what could not be written: exit 2 naming the flag, after the
 * result is printed.
 */
import { join, resolve } from "node:path";
import {
  flagName,
  formatsFor,
  REPORT_DIR_FLAGS,
  stdoutFormat,
  type FormatRun,
  type OutputContext,
  type OutputFormat,
  type OutputRequest,
  type ReportCommand,
} from "../checks/evidence/formats";
import { writeFileAtomic, type Report } from "../checks/report";
import { InputError, type InputProblem } from "../core/errors";
import { localWriteReason } from "./common";

const stderrNotice = (line: string) => process.stderr.write(`hkex-ready: ${line}\n`);

/** Companions written before the result is printed. */
const beforeResult = (f: OutputFormat) => f.destination.kind === "report-dir" && !f.destination.afterResult;

/**
 * Writes everything the command offers and the run asked for; returns the
 * paths written. In order:
 *  1. the companions in --report-dir; at the first that cannot be written the
 *     others are left, and the problem is raised once the result is printed;
 *  2. the result on stdout (text, TAP or JSON);
 *  3. the files named by flags and the confirmation e-mail; their problems are
 *     raised together.
 */
export async function writeOutputs(
  report: Report,
  command: ReportCommand,
  request: OutputRequest,
  context: OutputContext = {},
): Promise<string[]> {
  const run: FormatRun = { ...context, request, notice: context.notice ?? stderrNotice };
  const print = context.stdout ?? ((text: string) => process.stdout.write(text));
  const due = formatsFor(command).filter((f) => f.destination.kind !== "stdout" && (f.wanted?.(report, run) ?? true));
  const written: string[] = [];

  const unwritten = await writeFolder(report, command, run, due.filter(beforeResult), written);
  print(String(await stdoutFormat(command, request).render(report, run)));
  if (unwritten) throw unwritten;

  const problems: InputProblem[] = [];
  for (const format of due.filter((f) => !beforeResult(f))) {
    const problem = await writeAfterResult(report, command, run, format, written);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) throw new InputError(problems);
  return written;
}

async function writeFolder(
  report: Report,
  command: ReportCommand,
  run: FormatRun,
  formats: readonly OutputFormat[],
  written: string[],
): Promise<InputError | undefined> {
  const dir = run.request.reportDir;
  if (!dir) return undefined;
  for (const format of formats) {
    if (format.destination.kind !== "report-dir") continue;
    const path = join(dir, format.destination.file);
    const content = await format.render(report, run);
    try {
      writeFileAtomic(path, content);
      written.push(path);
    } catch (err) {
      return new InputError({
        path: flagName(REPORT_DIR_FLAGS[command]),
        message: `cannot write ${path}: ${localWriteReason(err)}; the report is only on stdout`,
      });
    }
  }
  return undefined;
}

/** Where a format written after the result goes this run, and how a failure is cited; undefined when not asked for. */
function placeAfterResult(
  command: ReportCommand,
  run: FormatRun,
  format: OutputFormat,
): { flag: string; path: string; shown: string } | undefined {
  const d = format.destination;
  if (d.kind === "flag-file") {
    const given = run.request[d.flag.key];
    if (typeof given !== "string" || given === "") return undefined;
    const path = resolve(given);
    const advice = d.advise?.(path);
    if (advice) run.notice(`warning: ${flagName(d.flag)} ${given}: ${advice}`);
    return { flag: flagName(d.flag), path, shown: path };
  }
  if (d.kind === "report-dir" && run.request.reportDir) {
    return { flag: flagName(REPORT_DIR_FLAGS[command]), path: join(run.request.reportDir, d.file), shown: d.file };
  }
  return undefined;
}

async function writeAfterResult(
  report: Report,
  command: ReportCommand,
  run: FormatRun,
  format: OutputFormat,
  written: string[],
): Promise<InputProblem | undefined> {
  const place = placeAfterResult(command, run, format);
  if (!place) return undefined;
  const withheld = format.withheld?.(report, run);
  if (withheld) {
    run.notice(`warning: ${withheld}`);
    return undefined;
  }
  try {
    const content = await format.render(report, run);
    writeFileAtomic(place.path, content);
    written.push(place.path);
    await format.deliver?.(place.path, content, report, run);
    return undefined;
  } catch (err) {
    if (err instanceof InputError) throw err;
    return { path: place.flag, message: `cannot write ${place.shown}: ${localWriteReason(err)}` };
  }
}
