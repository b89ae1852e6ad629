/**
 * The one registry of the report's output formats (docs/evidence.md): what
 * each is called, where it goes, which commands offer it, the flag that asks
 * for it, and how it is rendered. The CLI builds every output flag of check,
 * session and demo from this list, and one function (cli/outputs.ts
 * writeOutputs) writes whatever a run asked for. Adding a format adds one entry.
 */
import type { Config } from "../config";
import type { Report } from "../report";
import type { EmlAttachment } from "./eml";

// Each renderer is imported when its format is written, not when the command line is built:
// --help, --version and the commands that write no report never load them. The report module
// itself too: it carries the probe's phase table, and with it ssh2.
const reportModule = () => import("../report.js");
const text = () => import("./text.js");
const tap = () => import("./tap.js");
const html = () => import("./html/index.js");
const junit = () => import("./junit.js");
const prometheus = () => import("./prometheus.js");
const email = () => import("../email.js");
const eml = () => import("./eml.js");
const renderJson = async (report: Report) => (await reportModule()).reportJson(report);

/** The commands that produce a Report, and so offer its formats. */
export const REPORT_COMMANDS = ["check", "session", "demo"] as const;
export type ReportCommand = (typeof REPORT_COMMANDS)[number];

/** The output flags of a run, under the names commander gives their values. */
export interface OutputRequest {
  readonly json?: boolean;
  readonly format?: string;
  readonly reportDir?: string;
  readonly junit?: string;
  readonly prometheus?: string;
  readonly attach?: boolean;
  /** false with --no-progress. */
  readonly progress?: boolean;
}

/** A command-line flag as plain data; the CLI turns it into a commander Option. */
export interface OutputFlag {
  /** commander syntax: "--junit <file>", "--no-progress". */
  readonly flags: string;
  /** The OutputRequest field commander stores the value in. */
  readonly key: keyof OutputRequest;
  readonly help: string;
  readonly choices?: readonly string[];
  readonly default?: string;
  readonly required?: boolean;
}

/** What a run knows besides its flags: the session step it ran and the config's e-mail settings. */
export interface OutputContext {
  /** session --part: after "1" alone the session is not over, so no e-mail yet. */
  readonly part?: string;
  readonly email?: Config["email"];
  readonly smtp?: Config["smtp"];
  /** The config's `files` entries: the textfile's download series are keyed by them, never by remote names. */
  readonly files?: readonly string[];
  /** The config's session calendar: the textfile's next-session series come from it. */
  readonly sessionDays?: Config["sessionDays"];
  readonly env?: NodeJS.ProcessEnv;
  /** Warnings and notices, one line each (stderr by default; never stdout). */
  readonly notice?: (line: string) => void;
  /** Where the result is printed (process.stdout by default). */
  readonly stdout?: (text: string) => void;
}

/** What a format sees of the run. */
export interface FormatRun extends OutputContext {
  readonly request: OutputRequest;
  readonly notice: (line: string) => void;
}

export type Destination =
  /** Printed on stdout, one format per run: the default, or the one a flag (--json) or --format NAME picks. */
  | { readonly kind: "stdout"; readonly chosenBy: "default" | "--format" | OutputFlag }
  /** The file a flag names, anywhere. `advise` returns a warning about the chosen path, if any. */
  | { readonly kind: "flag-file"; readonly flag: OutputFlag; readonly advise?: (path: string) => string | undefined }
  /**
   * A companion of report.json in --report-dir. Written before the result is
   * printed, so a folder that cannot be written is known and said right after
   * it; `afterResult` ones come after the result (they may go out over SMTP,
   * which must not hold the result up).
   */
  | { readonly kind: "report-dir"; readonly file: string; readonly afterResult?: boolean };

export interface OutputFormat {
  readonly name: string;
  readonly destination: Destination;
  readonly commands: readonly ReportCommand[];
  /** Flags that change how it is written (confirmation.eml: --attach). */
  readonly options?: readonly OutputFlag[];
  /** Whether this run writes it at all; always when absent. */
  readonly wanted?: (report: Report, run: FormatRun) => boolean;
  /** Why a wanted format is not written this time, said as a warning. */
  readonly withheld?: (report: Report, run: FormatRun) => string | undefined;
  readonly render: (report: Report, run: FormatRun) => string | Buffer | Promise<string | Buffer>;
  /** After the file is written: hands it on (confirmation.eml over SMTP, when the config has `smtp`). */
  readonly deliver?: (path: string, content: string | Buffer, report: Report, run: FormatRun) => Promise<void>;
}

export const EVIDENCE_FILES = Object.freeze({
  report: "report.json",
  html: "report.html",
  junit: "junit.xml",
  confirmationText: "confirmation-email.txt",
  confirmationEml: "confirmation.eml",
});

const ALL: readonly ReportCommand[] = REPORT_COMMANDS;
const SESSIONS: readonly ReportCommand[] = ["session", "demo"];

const JSON_FLAG: OutputFlag = { flags: "--json", key: "json", help: "print the report as JSON on stdout (no progress display)" };
const JUNIT_FLAG: OutputFlag = { flags: "--junit <file>", key: "junit", help: "also write a JUnit XML report" };
const PROMETHEUS_FLAG: OutputFlag = {
  flags: "--prometheus <file>",
  key: "prometheus",
  help: "write a node_exporter textfile with probe_success and phase durations",
};
const ATTACH_FLAG: OutputFlag = { flags: "--attach", key: "attach", help: "attach the evidence to confirmation.eml" };

/** --format NAME chooses among the stdout formats chosen by name; this one when it is not given. */
const DEFAULT_STDOUT_FORMAT = "text";

/** --report-dir: one folder for every companion file; what else it means depends on the command. */
export const REPORT_DIR_FLAGS: Readonly<Record<ReportCommand, OutputFlag>> = Object.freeze({
  check: { flags: "--report-dir <dir>", key: "reportDir", help: "write report.json and its companions to this folder" },
  // The session also keeps its state there, between --part 1 and --part 2.
  session: { flags: "--report-dir <dir>", key: "reportDir", help: "folder for the evidence and the session state", required: true },
  demo: { flags: "--report-dir <dir>", key: "reportDir", help: "where to write the evidence", default: "./evidence/demo" },
});

/** The progress display on stderr is no format of the report, but its switch is an output flag of every report command. */
export const PROGRESS_FLAG: OutputFlag = { flags: "--no-progress", key: "progress", help: "print plain lines instead of a live task list" };

/** The session is over (not after `--part 1` alone), so the confirmation e-mail is due. */
const sessionEnded = (report: Report, run: FormatRun) => report.session !== undefined && run.part !== "1";

export const OUTPUT_FORMATS: readonly OutputFormat[] = Object.freeze([
  {
    name: "text",
    destination: { kind: "stdout", chosenBy: "default" },
    commands: ALL,
    render: async (report) => (await text()).renderReport(report),
  },
  { name: "json", destination: { kind: "stdout", chosenBy: JSON_FLAG }, commands: ALL, render: renderJson },
  {
    name: "tap",
    destination: { kind: "stdout", chosenBy: "--format" },
    commands: ["check", "session"],
    render: async (report) => (await tap()).renderTap(report),
  },
  { name: EVIDENCE_FILES.report, destination: { kind: "report-dir", file: EVIDENCE_FILES.report }, commands: ALL, render: renderJson },
  {
    name: EVIDENCE_FILES.html,
    destination: { kind: "report-dir", file: EVIDENCE_FILES.html },
    commands: ALL,
    render: async (report) => (await html()).renderHtml(report),
  },
  {
    name: EVIDENCE_FILES.junit,
    destination: { kind: "report-dir", file: EVIDENCE_FILES.junit },
    commands: ALL,
    render: async (report) => (await junit()).renderJunit(report),
  },
  {
    name: EVIDENCE_FILES.confirmationText,
    destination: { kind: "report-dir", file: EVIDENCE_FILES.confirmationText },
    commands: SESSIONS,
    wanted: sessionEnded,
    render: async (report) => (await email()).confirmationText(report.session!.email),
  },
  {
    name: "junit",
    destination: { kind: "flag-file", flag: JUNIT_FLAG },
    commands: ["check", "session"],
    render: async (report) => (await junit()).renderJunit(report),
  },
  {
    name: "prometheus",
    destination: {
      kind: "flag-file",
      flag: PROMETHEUS_FLAG,
      // https://github.com/prometheus/node_exporter#textfile-collector
      advise: (path) => (path.endsWith(".prom") ? undefined : "node_exporter's textfile collector reads only files ending in .prom"),
    },
    commands: ["check"],
    render: async (report, run) => (await prometheus()).renderPrometheus(report, { files: run.files, sessionDays: run.sessionDays }),
  },
  {
    name: EVIDENCE_FILES.confirmationEml,
    destination: { kind: "report-dir", file: EVIDENCE_FILES.confirmationEml, afterResult: true },
    commands: SESSIONS,
    options: [ATTACH_FLAG],
    wanted: sessionEnded,
    // A made-up sender would be sent as it is by some mail clients; better no .eml than a wrong one.
    withheld: (_report, run) =>
      run.email?.from
        ? undefined
        : `email.from is not set in the config, so ${EVIDENCE_FILES.confirmationEml} was not written; ${EVIDENCE_FILES.confirmationText} has the text to send (set email.from to get a ready-to-send .eml)`,
    render: composeEml,
    deliver: sendConfirmation,
  },
] satisfies OutputFormat[]);

async function composeEml(report: Report, run: FormatRun): Promise<Buffer> {
  const attachments: EmlAttachment[] = run.request.attach
    ? [
        { filename: EVIDENCE_FILES.report, content: await renderJson(report), contentType: "application/json" },
        { filename: EVIDENCE_FILES.html, content: (await html()).renderHtml(report), contentType: "text/html; charset=utf-8" },
      ]
    : [];
  return (await eml()).composeConfirmation(report.session!.email, {
    from: run.email!.from!,
    participant: run.email!.participant,
    attachments,
    draft: report.session!.rehearsal,
  });
}

/** Sends the very bytes written, when the config has `smtp`; a failure is a warning, the file is there to send by hand. */
async function sendConfirmation(path: string, raw: string | Buffer, report: Report, run: FormatRun): Promise<void> {
  const smtp = run.smtp;
  if (!smtp) return;
  const { to } = report.session!.email;
  const file = EVIDENCE_FILES.confirmationEml;
  if (report.session!.rehearsal) {
    run.notice(`${file} was not sent: this run was a rehearsal, and its e-mail is a draft marked not to send`);
    return;
  }
  const { sendEml, SmtpSettingsError, smtpLabel } = await eml();
  try {
    const sent = await sendEml(Buffer.from(raw), { from: run.email!.from!, to }, smtp, run.env);
    run.notice(`sent ${file} to ${sent.accepted.join(", ") || to} via ${smtpLabel(smtp)}: ${sent.response}`);
  } catch (err) {
    const why = err instanceof SmtpSettingsError ? `${err.path}: ${err.message}` : (err as Error).message;
    run.notice(`warning: sending ${file} via ${smtpLabel(smtp)} failed (${why}); send ${path} to ${to} by hand today`);
  }
}

/** The formats a command offers, in registry order. */
export function formatsFor(command: ReportCommand): OutputFormat[] {
  return OUTPUT_FORMATS.filter((f) => f.commands.includes(command));
}

/** The stdout formats --format chooses among for a command ("text", "tap"); none when there is nothing to choose. */
export function formatChoices(command: ReportCommand): string[] {
  const named = formatsFor(command).filter(
    (f) => f.destination.kind === "stdout" && (f.destination.chosenBy === "default" || f.destination.chosenBy === "--format"),
  );
  return named.length > 1 ? named.map((f) => f.name) : [];
}

/** The flag's name as messages cite it: "--report-dir". */
export function flagName(flag: OutputFlag): string {
  return flag.flags.split(/[ ,]/)[0]!;
}

/**
 * Every output flag a command offers, in the order help lists them: stdout,
 * --report-dir, files named by flags, options of the formats, progress.
 */
export function outputFlags(command: ReportCommand): OutputFlag[] {
  const formats = formatsFor(command);
  const flags: OutputFlag[] = [];
  for (const f of formats) {
    if (f.destination.kind === "stdout" && typeof f.destination.chosenBy === "object") flags.push(f.destination.chosenBy);
  }
  const choices = formatChoices(command);
  if (choices.length > 0) {
    flags.push({
      flags: "--format <format>",
      key: "format",
      help: "how to print the result on stdout",
      choices,
      default: DEFAULT_STDOUT_FORMAT,
    });
  }
  if (formats.some((f) => f.destination.kind === "report-dir")) flags.push(REPORT_DIR_FLAGS[command]);
  for (const f of formats) if (f.destination.kind === "flag-file") flags.push(f.destination.flag);
  for (const f of formats) flags.push(...(f.options ?? []));
  flags.push(PROGRESS_FLAG);
  return flags.filter((flag, i) => flags.findIndex((g) => g.flags === flag.flags) === i);
}

/** The one stdout format of a run: a flag that picks one (--json) wins over --format NAME, then the default. */
export function stdoutFormat(command: ReportCommand, request: OutputRequest): OutputFormat {
  const stdout = formatsFor(command).filter((f) => f.destination.kind === "stdout");
  const byFlag = stdout.find(
    (f) => f.destination.kind === "stdout" && typeof f.destination.chosenBy === "object" && request[f.destination.chosenBy.key],
  );
  return (
    byFlag ??
    stdout.find((f) => f.name === (request.format ?? DEFAULT_STDOUT_FORMAT)) ??
    stdout.find((f) => f.name === DEFAULT_STDOUT_FORMAT)!
  );
}
