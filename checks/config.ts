/**
 * The operator's YAML config: schema, then normalise, then check. Every
 * problem is reported at once as `path.to.key: message` (InputError, exit 2).
 */
import { isIP } from "node:net";
import { dirname, resolve } from "node:path";
import { parseDocument } from "yaml";
import { z } from "zod";
import {
  HKEX_SITES,
  SESSION_DAYS,
  SESSION_PARTS,
  SITE_NAMES,
  perSite,
  type PartWindow,
  type SessionDay,
  type SiteName,
} from "../catalogue";
import { InputError, type InputProblem } from "../core/errors";
import { expandTilde, OS_HOMES, type HomeDirectories } from "../core/home";
import { readInputText } from "../core/inputFile";
import { printable } from "../core/text";
import { calendarDateProblem, minutesOfDay, timeOfDayProblem } from "../core/time";

export interface Timeouts {
  /** TCP connect, per endpoint. */
  readonly connectMs: number;
  /** Each of banner, hostkey (key exchange) and auth. */
  readonly handshakeMs: number;
  /** Each of sftp, list and logout. */
  readonly operationMs: number;
  /** The whole download phase of one endpoint. */
  readonly transferMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = Object.freeze({
  connectMs: 5000,
  handshakeMs: 10000,
  operationMs: 10000,
  transferMs: 120000,
});

/** The phase timeouts, none longer than `budgetMs` (a scrape's or a Lambda invocation's time left). */
export function cappedTimeouts(timeouts: Timeouts, budgetMs: number | undefined): Timeouts {
  if (budgetMs === undefined) return timeouts;
  const cap = (ms: number) => Math.max(1, Math.min(ms, Math.round(budgetMs)));
  return {
    connectMs: cap(timeouts.connectMs),
    handshakeMs: cap(timeouts.handshakeMs),
    operationMs: cap(timeouts.operationMs),
    transferMs: cap(timeouts.transferMs),
  };
}

/** Unattended probes (the exporter's scrapes, the VPC probe): what they may download. */
export interface MonitoringSettings {
  /** `GET /probe?download=1` (and the VPC probe's `download`) is refused unless true. */
  readonly allowDownload: boolean;
  /** A file listed larger than this fails `download` with `file-too-large`, before any byte is read. */
  readonly maxFileBytes: number;
}

const DEFAULT_MONITORING: MonitoringSettings = Object.freeze({ allowDownload: false, maxFileBytes: 16 * 1024 * 1024 });
/** 1 GiB: far above any DCASS report, and below what a scrape or a Lambda's /tmp should ever take. */
const MAX_MONITORING_FILE_BYTES = 1024 * 1024 * 1024;

export interface TargetHost {
  /** The address the kit connects to. */
  readonly host: string;
  readonly port: number;
}

export interface SiteTargets {
  readonly name: SiteName;
  readonly targets: readonly TargetHost[];
}

export interface Config {
  readonly file: string;
  readonly user: string;
  readonly identityFile?: string;
  readonly passphraseEnv?: string;
  readonly agent: boolean;
  readonly knownHostsFile: string;
  readonly remoteDir: string;
  readonly files: readonly string[];
  readonly downloadDir: string;
  readonly sites: Readonly<Record<SiteName, SiteTargets>>;
  readonly timeouts: Timeouts;
  readonly sshConfig?: { readonly file: string; readonly alias: string };
  readonly email?: { readonly from: string; readonly participant?: string };
  readonly smtp?: {
    readonly host: string;
    readonly port: number;
    readonly secure: boolean;
    readonly user?: string;
    readonly passwordEnv?: string;
  };
  /** The session calendar: the config's `sessionDays`, else the catalogue's days. */
  readonly sessionDays: readonly SessionDay[];
  readonly monitoring: MonitoringSettings;
}

const nonEmpty = z.string().trim().min(1, "must not be empty");
const port = z.number().int("must be a whole number").min(1, "must be 1-65535").max(65535, "must be 1-65535");
const ms = (max: number) =>
  z.number().int("must be a whole number of milliseconds").min(1, "must be at least 1 ms").max(max, `must be at most ${max} ms`);

const hostEntry = nonEmpty.superRefine((entry, ctx) => {
  const t = parseHostEntry(entry, 1);
  if (typeof t === "string") ctx.addIssue({ code: "custom", message: t });
});

const siteSchema = z.strictObject({
  hosts: z
    .array(hostEntry)
    .min(1, "must list at least one host")
    .superRefine((entries, ctx) => {
      entries.forEach((entry, i) => {
        if (entries.indexOf(entry) !== i) ctx.addIssue({ code: "custom", path: [i], message: `"${printable(entry)}" is listed twice` });
      });
    }),
  port: port.optional(),
});

/** A string checked by one of core/time's problem functions. */
const checkedString = (problem: (value: string) => string | undefined) =>
  z.string().superRefine((value, ctx) => {
    const why = problem(value);
    if (why) ctx.addIssue({ code: "custom", message: why });
  });

const partWindowSchema = z.strictObject({
  /** Optional: the parts are listed in the circular's order, Part 1 first. */
  part: z.number().int("must be a whole number").optional(),
  start: checkedString(timeOfDayProblem),
  end: checkedString(timeOfDayProblem),
});

/** One session day as a new circular announces it: the date, each part's window, the registration deadline, the circular. */
const sessionDaySchema = z.strictObject({
  date: checkedString(calendarDateProblem),
  registrationDeadline: checkedString(calendarDateProblem),
  circular: nonEmpty,
  parts: z
    .array(partWindowSchema)
    .length(
      SESSION_PARTS.length,
      `must give the windows of the ${SESSION_PARTS.length} parts, in order: ${SESSION_PARTS.map((p) => `Part ${p.part}`).join(", ")}`,
    ),
});

export const configSchema = z.strictObject({
  user: nonEmpty,
  identityFile: nonEmpty.optional(),
  passphraseEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
    .optional(),
  agent: z.boolean().default(false),
  knownHostsFile: nonEmpty,
  remoteDir: nonEmpty.default("."),
  files: z
    .array(nonEmpty)
    .min(1, "must name one or two files or globs")
    .max(2, "must name one or two files or globs (the circular asks for one or two)"),
  downloadDir: nonEmpty.default("./downloads"),
  sites: z.strictObject(perSite(() => siteSchema.optional())).optional(),
  timeouts: z
    .strictObject({
      connectMs: ms(600_000).optional(),
      handshakeMs: ms(600_000).optional(),
      operationMs: ms(600_000).optional(),
      transferMs: ms(86_400_000).optional(),
    })
    .optional(),
  sshConfig: z.strictObject({ file: nonEmpty, alias: nonEmpty }).optional(),
  email: z.strictObject({ from: z.email("must be an e-mail address"), participant: nonEmpty.optional() }).optional(),
  smtp: z
    .strictObject({
      host: nonEmpty,
      port: port.default(587),
      secure: z.boolean().default(false),
      user: nonEmpty.optional(),
      passwordEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
        .optional(),
    })
    .optional(),
  sessionDays: z
    .array(sessionDaySchema)
    .min(1, "must list at least one session day (leave the key out to use the catalogue's days)")
    .optional(),
  monitoring: z
    .strictObject({
      allowDownload: z.boolean().optional(),
      maxFileBytes: z
        .number()
        .int("must be a whole number of bytes")
        .min(1, "must be at least 1 byte")
        .max(MAX_MONITORING_FILE_BYTES, `must be at most ${MAX_MONITORING_FILE_BYTES} bytes (1 GiB)`)
        .optional(),
    })
    .optional(),
});

type RawConfig = z.infer<typeof configSchema>;

/** "sites.primary.hosts[0]": indexes in brackets, keys (even "[x]") after a dot. */
function zodPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc === "" ? String(p) : `${acc}.${String(p)}`), "");
}

function zodProblems(error: z.ZodError): InputProblem[] {
  const problems: InputProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) problems.push({ path: zodPath([...issue.path, key]), message: "unknown key" });
      continue;
    }
    let message = issue.message;
    if (issue.code === "invalid_type") {
      const received = (issue as { input?: unknown }).input;
      message = received === undefined ? "is required" : `must be ${issue.expected}, got ${describe(received)}`;
    }
    problems.push({ path: zodPath(issue.path), message });
  }
  return problems;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** "10.0.0.1", "10.0.0.1:2222", "[::1]:2222" or "::1". */
export function parseHostEntry(entry: string, defaultPort: number): TargetHost | string {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  let host = entry;
  let portText: string | undefined;
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if (entry.split(":").length === 2) {
    [host, portText] = entry.split(":") as [string, string];
  }
  if (isIP(host) === 0) return `"${printable(entry)}" is not an IP address`;
  if (portText !== undefined) {
    const p = Number(portText);
    if (!/^\d+$/.test(portText) || p < 1 || p > 65535) return `"${printable(entry)}" has a port out of range (1-65535)`;
    return { host, port: p };
  }
  return { host, port: defaultPort };
}

/** The file-valued keys of a config, as far as they are well-formed: checked even when other keys are not. */
export type FileFields = Pick<Config, "identityFile" | "passphraseEnv" | "agent" | "knownHostsFile" | "sshConfig">;

/** A config with problems, carrying the file keys that could still be checked, so every problem shows at once. */
export class ConfigError extends InputError {
  constructor(
    problems: readonly InputProblem[],
    source: string,
    readonly fileFields: Partial<FileFields>,
  ) {
    super(problems, source);
  }
}

/**
 * A path key's value as a full path: "~", "~/…" and "~user/…" expand as in
 * ssh_config(5) (core/home.ts), anything else resolves from the config
 * file's folder. Throws with the reason when a "~user" cannot be expanded.
 */
function resolveConfigPath(value: string, configFile: string, homes: HomeDirectories = OS_HOMES): string {
  return resolve(dirname(resolve(configFile)), expandTilde(value, homes));
}

function fileFields(raw: unknown, file: string, homes: HomeDirectories): Partial<FileFields> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return {};
  const r = raw as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v : undefined);
  // A path that cannot be expanded is already reported by normaliseConfig; here it is just left out.
  const path = (v: unknown) => {
    try {
      return str(v) === undefined ? undefined : resolveConfigPath(str(v)!, file, homes);
    } catch {
      return undefined;
    }
  };
  const out: { -readonly [K in keyof FileFields]?: FileFields[K] } = {};
  if (path(r.identityFile)) out.identityFile = path(r.identityFile);
  if (str(r.passphraseEnv)) out.passphraseEnv = str(r.passphraseEnv);
  out.agent = r.agent === true;
  if (path(r.knownHostsFile)) out.knownHostsFile = path(r.knownHostsFile);
  const ssh = r.sshConfig as Record<string, unknown> | undefined;
  if (ssh && typeof ssh === "object" && path(ssh.file) && str(ssh.alias)) out.sshConfig = { file: path(ssh.file)!, alias: str(ssh.alias)! };
  return out;
}

/** Validates an already-parsed YAML value. `file` anchors relative paths; `homes` expands "~". */
export function normaliseConfig(raw: unknown, file: string, homes: HomeDirectories = OS_HOMES): Config {
  const parsed = configSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!parsed.success) throw new ConfigError(zodProblems(parsed.error), file, fileFields(raw, file, homes));
  const c: RawConfig = parsed.data;
  const problems: InputProblem[] = [];
  const abs = (key: string, p: string) => {
    try {
      return resolveConfigPath(p, file, homes);
    } catch (err) {
      problems.push({ path: key, message: (err as Error).message });
      return p;
    }
  };
  const identityFile = c.identityFile ? abs("identityFile", c.identityFile) : undefined;
  const knownHostsFile = abs("knownHostsFile", c.knownHostsFile);
  const downloadDir = abs("downloadDir", c.downloadDir);
  const sshConfigFile = c.sshConfig ? abs("sshConfig.file", c.sshConfig.file) : undefined;

  if (!c.agent && !c.identityFile) problems.push({ path: "identityFile", message: "is required unless agent: true" });
  if (c.agent && !process.env.SSH_AUTH_SOCK) {
    problems.push({ path: "agent", message: "is true but SSH_AUTH_SOCK is not set (no ssh-agent to use)" });
  }

  const sites = {} as Record<SiteName, SiteTargets>;
  for (const name of SITE_NAMES) {
    const override = c.sites?.[name];
    const defaultPort = override?.port ?? HKEX_SITES[name].port;
    const entries = override?.hosts ?? HKEX_SITES[name].hosts;
    const targets: TargetHost[] = [];
    entries.forEach((entry, i) => {
      const t = parseHostEntry(entry, defaultPort);
      if (typeof t === "string") problems.push({ path: `sites.${name}.hosts[${i}]`, message: t });
      else if (targets.some((x) => x.host === t.host && x.port === t.port)) {
        problems.push({ path: `sites.${name}.hosts[${i}]`, message: `"${printable(entry)}" is listed twice` });
      } else targets.push(t);
    });
    sites[name] = { name, targets };
  }

  const sessionDays = c.sessionDays ? normaliseSessionDays(c.sessionDays, problems) : SESSION_DAYS;

  if (problems.length > 0) throw new ConfigError(problems, file, fileFields(raw, file, homes));
  return {
    file: resolve(file),
    user: c.user,
    identityFile,
    passphraseEnv: c.passphraseEnv,
    agent: c.agent,
    knownHostsFile,
    remoteDir: c.remoteDir,
    files: c.files,
    downloadDir,
    sites,
    timeouts: { ...DEFAULT_TIMEOUTS, ...c.timeouts },
    sshConfig: c.sshConfig && sshConfigFile ? { file: sshConfigFile, alias: c.sshConfig.alias } : undefined,
    email: c.email,
    smtp: c.smtp,
    sessionDays,
    monitoring: { ...DEFAULT_MONITORING, ...c.monitoring },
  };
}

/**
 * The config's session days as the catalogue holds them (each part with its
 * site and title from the circular's rundown), after the checks one field
 * cannot make alone: the part numbers in order, each window ending after it
 * starts, the parts not overlapping, the deadline not after the day, no day twice.
 */
function normaliseSessionDays(days: NonNullable<RawConfig["sessionDays"]>, problems: InputProblem[]): SessionDay[] {
  return days.map((day, i) => {
    const at = `sessionDays[${i}]`;
    if (days.findIndex((d) => d.date === day.date) !== i) problems.push({ path: `${at}.date`, message: `${day.date} is listed twice` });
    if (day.registrationDeadline > day.date) {
      problems.push({ path: `${at}.registrationDeadline`, message: `${day.registrationDeadline} is after the session day ${day.date}` });
    }
    const parts = day.parts.map((w, j): PartWindow => {
      const rundown = SESSION_PARTS[j]!;
      const path = `${at}.parts[${j}]`;
      if (w.part !== undefined && w.part !== rundown.part) {
        problems.push({
          path: `${path}.part`,
          message: `must be ${rundown.part}: the parts are listed in order, Part ${SESSION_PARTS[0]!.part} first`,
        });
      }
      if (minutesOfDay(w.end) <= minutesOfDay(w.start)) {
        problems.push({ path: `${path}.end`, message: `${w.end} is not after the start ${w.start}` });
      }
      const before = day.parts[j - 1];
      if (before && minutesOfDay(w.start) < minutesOfDay(before.end)) {
        problems.push({
          path: `${path}.start`,
          message: `${w.start} is before Part ${SESSION_PARTS[j - 1]!.part} ends (${before.end}): the client cannot point at both sites at once`,
        });
      }
      return { part: rundown.part, site: rundown.site, title: rundown.title, start: w.start, end: w.end };
    });
    return { date: day.date, registrationDeadline: day.registrationDeadline, circular: day.circular, parts };
  });
}

export function parseConfigText(text: string, file: string): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new InputError(
      doc.errors.map((e) => {
        const [line, col] = e.linePos?.[0] ? [e.linePos[0].line, e.linePos[0].col] : [0, 0];
        return { path: line ? `line ${line}, column ${col}` : "yaml", message: `malformed YAML: ${e.message.split("\n")[0]}` };
      }),
      file,
    );
  }
  let value: unknown;
  try {
    // An alias without its anchor, or an alias bomb, only shows when the document is resolved.
    value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    throw new InputError({ path: "yaml", message: `malformed YAML: ${(err as Error).message}` }, file);
  }
  if (value !== null && value !== undefined && (typeof value !== "object" || Array.isArray(value))) {
    throw new InputError({ path: "", message: "the config must be a YAML mapping of keys to values" }, file);
  }
  return normaliseConfig(value, file);
}

export function loadConfig(file: string): Config {
  return parseConfigText(readInputText(file, "--config"), file);
}
