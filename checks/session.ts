/**
 * The connectivity session: a check of primary before the switch, Part 1 on
 * secondary with a download, Part 2 back on primary with a download. Parts can
 * run one at a time (the real windows are hours apart); the state lives in
 * the report folder so Part 2 completes the same session.
 */
import { existsSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import {
  HKEX_SITES,
  NEXT_BUSINESS_DAY_SITE,
  SESSION_PARTS,
  type PartNumber,
  type PartWindow,
  type SessionDay,
  type SiteName,
} from "../catalogue";
import type { Config } from "./config";
import { confirmationEmail } from "./email";
import { InputError } from "../core/errors";
import { keyDecryptionOf, type UserKey } from "./keys";
import type { KnownHostEntry } from "./knownHosts";
import type { PhaseEvent } from "./probe";
import {
  failureLines,
  siteStatus,
  writeFileAtomic,
  type DownloadRecord,
  type EndpointReport,
  type PartReport,
  type Report,
  type SessionSummary,
} from "./report";
import { buildReport, runSites, type SiteRun } from "./run";
import { insideWindow, rehearsalReason, rehearsedDay, sessionDayOn, windowsOn } from "./sessionDays";
import { readHostAndPort, switchHostName, type SwitchTarget } from "./switchover";
import { hkDate, hkDateTime, hkNow } from "../core/time";

export const STATE_FILE = "session-state.json";

export interface WeatherDecision {
  readonly warning: string;
  readonly issuedAt: string;
  /** cancelled: nothing runs; terminate: no new step starts after stopAt; continue: as normal. */
  readonly effect: "cancelled" | "terminate" | "continue";
  readonly stopAt?: Date;
  readonly reason: string;
}

export interface SessionOptions {
  readonly config: Config;
  readonly key: UserKey;
  readonly knownHosts: readonly KnownHostEntry[];
  readonly reportDir: string;
  readonly part?: PartNumber;
  /** Session date (yyyy-mm-dd, Hong Kong). */
  readonly date: string;
  readonly warnings: readonly string[];
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: PhaseEvent) => void;
  readonly now?: () => Date;
  readonly weather?: WeatherDecision;
  readonly tuning?: { chunkSize?: number; concurrency?: number };
  /** `--part 2` normally needs Part 1's state in reportDir; this records Part 2 on its own. */
  readonly allowMissingPart1?: boolean;
  /**
   * --rehearsal: a rehearsal even on a configured session day (a date that is
   * not one is a rehearsal anyway); a string is the reason (the demo).
   */
  readonly rehearsal?: boolean | string;
}

interface SessionState {
  readonly version: 1;
  readonly date: string;
  readonly startedAt: string;
  readonly parts: PartReport[];
  readonly endpoints: EndpointReport[];
  readonly downloads: DownloadRecord[];
  readonly warnings: string[];
  /** Earlier attempts of a part that was run again; kept, but no longer judged. */
  readonly superseded?: { readonly parts: PartReport[]; readonly endpoints: EndpointReport[]; readonly downloads: DownloadRecord[] }[];
  /** Whether the parts in this state were a rehearsal; absent in states of a real session written before it was recorded. */
  readonly rehearsal?: boolean;
}

type Step = { readonly part: PartReport["part"]; readonly site: SiteName; readonly download: boolean; readonly window?: PartWindow };

const FIRST_PART = SESSION_PARTS[0]!.part;
/** The part that ends the day: the client must point at NEXT_BUSINESS_DAY_SITE once it is over. */
const LAST_PART = SESSION_PARTS.at(-1)!.part;

/**
 * The pre-check, on the site the client uses before the switch, then the parts
 * in the circular's order, each with its window on the day being run.
 */
export function sessionSteps(part?: PartNumber, windows: readonly PartWindow[] = SESSION_PARTS): Step[] {
  const pre: Step = { part: "precheck", site: NEXT_BUSINESS_DAY_SITE, download: false };
  const parts = windows
    .filter((w) => part === undefined || w.part === part)
    .map((w): Step => ({ part: w.part, site: w.site, download: true, window: w }));
  return part === undefined || part === FIRST_PART ? [pre, ...parts] : parts;
}

/** The state in the report folder, read and checked; undefined when there is none. */
function readState(reportDir: string): SessionState | undefined {
  const file = join(reportDir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  let state: SessionState;
  try {
    state = JSON.parse(readFileSync(file, "utf8")) as SessionState;
  } catch (err) {
    throw new InputError({
      path: "--report-dir",
      message: `${file} is not a readable session state (${(err as Error).message}); move it away to start afresh`,
    });
  }
  if (state.version !== 1 || !Array.isArray(state.parts)) {
    throw new InputError({ path: "--report-dir", message: `${file} is not a session state written by this kit` });
  }
  return state;
}

/** Whether the state in the folder belongs to this run's session: same date, and a rehearsal only if this run is one. */
function sameSession(state: SessionState, file: string, date: string, rehearsal: boolean): string | undefined {
  if (state.date !== date) return `${file} holds the session of ${state.date}, not ${date}; use another --report-dir for a new session day`;
  if (Boolean(state.rehearsal) !== rehearsal) {
    return state.rehearsal
      ? `${file} holds a rehearsal of ${state.date}; the real session cannot continue it: use another --report-dir`
      : `${file} holds the real session of ${state.date}; a rehearsal cannot continue it: use another --report-dir`;
  }
  return undefined;
}

/** The site's first configured endpoint: what the CP's client is switched to. */
export function switchTarget(config: Config, site: SiteName): SwitchTarget {
  const first = config.sites[site].targets[0]!;
  return { host: first.host, port: first.port };
}

/** "10.151.14.141/142": the production addresses of a site, as the circular writes them. */
function productionAddresses(site: SiteName): string {
  return HKEX_SITES[site].hosts.map((h, i) => (i === 0 ? h : h.split(".").at(-1))).join("/");
}

/** What a run knows about its day: whether it is a rehearsal, and the windows its parts follow. */
interface DayPlan {
  readonly rehearsal?: string;
  readonly windows: readonly PartWindow[];
  /** The configured session day on the run's date; window checks apply only then. */
  readonly sessionDay?: SessionDay;
  /** The configured day whose windows apply (the date itself, or the day a rehearsal rehearses). */
  readonly windowsDay?: SessionDay;
}

function dayPlan(opts: SessionOptions): DayPlan {
  const days = opts.config.sessionDays;
  return {
    rehearsal: rehearsalReason(days, opts.date, typeof opts.rehearsal === "string" ? opts.rehearsal : Boolean(opts.rehearsal)),
    windows: windowsOn(days, opts.date),
    sessionDay: sessionDayOn(days, opts.date),
    windowsDay: rehearsedDay(days, opts.date),
  };
}

export async function runSession(opts: SessionOptions): Promise<Report> {
  const now = opts.now ?? (() => new Date());
  const plan = dayPlan(opts);
  const state = openState(opts, now, plan.rehearsal !== undefined);
  const warnings = new Set<string>([...state.warnings, ...opts.warnings]);
  if (!opts.config.sshConfig) {
    warnings.add(
      `sshConfig is not set: the kit did not switch your SFTP client; make sure the ${NEXT_BUSINESS_DAY_SITE} IPs (${productionAddresses(NEXT_BUSINESS_DAY_SITE)} in production) are in place for the next business day`,
    );
  }
  let interrupted: string | undefined;
  for (const step of sessionSteps(opts.part, plan.windows)) {
    if (opts.signal?.aborted) {
      interrupted ??= `interrupted by ${String(opts.signal.reason)} before ${stepName(step.part)}`;
      break;
    }
    if (weatherStopsSteps(opts.weather, now)) {
      state.parts.push(notRunForWeather(step, opts, now));
      continue;
    }
    const cutShort = await runStep(step, state, warnings, opts, now, plan);
    interrupted ??= cutShort;
  }
  state.warnings.splice(0, state.warnings.length, ...warnings);
  // After Part 1 alone the session is not over yet: it is judged once the last part has run.
  const final = opts.part === undefined || opts.part === LAST_PART;
  return saveState(state, opts, assemble(state, opts, final, interrupted, plan));
}

/**
 * The state this run adds to. A later part continues Part 1's state (of the
 * same date, and a rehearsal only if this run is one). Part 1 or the whole day
 * run again continues the state of the same session too: what ran before moves
 * to the earlier attempts, kept as evidence (report: session.earlierAttempts).
 * A state of another session day or kind is kept beside the new one.
 */
function openState(opts: SessionOptions, now: () => Date, rehearsal: boolean): SessionState {
  const continues = opts.part !== undefined && opts.part !== FIRST_PART;
  const file = join(opts.reportDir, STATE_FILE);
  const found = existsSync(file) ? readStateForRun(opts.reportDir, continues) : undefined;
  const mismatch = found && sameSession(found, file, opts.date, rehearsal);
  if (continues) {
    if (mismatch) throw new InputError({ path: "--report-dir", message: mismatch });
    if (!found && !opts.allowMissingPart1) {
      // A mistyped folder on the day would otherwise produce a "did NOT complete" e-mail.
      throw new InputError({
        path: "--report-dir",
        message: `${file} does not exist: run --part ${opts.part} with the --report-dir of Part ${FIRST_PART}, or add --allow-missing-part1 to record Part ${opts.part} on its own`,
      });
    }
  }
  if (found && !mismatch) {
    const state: SessionState = { ...found, warnings: [...found.warnings], superseded: [...(found.superseded ?? [])], rehearsal };
    // Part 2 again replaces Part 2; Part 1 or the whole day again starts the day over, so every part before moves aside.
    supersede(state, continues ? [opts.part!] : state.parts.map((p) => p.part));
    return continues ? state : { ...state, startedAt: hkNow(now()), warnings: [] };
  }
  if (existsSync(file)) {
    // Another session day (or a rehearsal beside a real session): kept beside the new state, not lost.
    const stamp = hkNow(now()).replace(/[:.]/g, "").replace(/\+.*$/, "");
    renameSync(file, join(opts.reportDir, `session-state.before-${stamp}.json`));
  }
  return {
    version: 1,
    date: opts.date,
    startedAt: hkNow(now()),
    parts: [],
    endpoints: [],
    downloads: [],
    warnings: [],
    superseded: [],
    rehearsal,
  };
}

/** A later part needs a readable state; Part 1 or the whole day moves an unreadable one aside. */
function readStateForRun(reportDir: string, continues: boolean): SessionState | undefined {
  try {
    return readState(reportDir);
  } catch (err) {
    if (continues || !(err instanceof InputError)) throw err;
    return undefined;
  }
}

/** Whether a weather signal keeps new steps from starting (WEATHER_RULES). */
function weatherStopsSteps(weather: WeatherDecision | undefined, now: () => Date): boolean {
  if (weather?.effect === "cancelled") return true;
  return weather?.effect === "terminate" && weather.stopAt !== undefined && now() >= weather.stopAt;
}

/** A step the weather stopped; the last part still switches the client back for the next business day. */
function notRunForWeather(step: Step, opts: SessionOptions, now: () => Date): PartReport {
  const { sshConfig } = opts.config;
  const restore =
    step.part === LAST_PART && sshConfig
      ? switchHostName(sshConfig.file, sshConfig.alias, switchTarget(opts.config, NEXT_BUSINESS_DAY_SITE), LAST_PART, now())
      : undefined;
  return {
    part: step.part,
    site: step.site,
    ...(step.window ? { window: { start: step.window.start, end: step.window.end } } : {}),
    startedAt: hkNow(now()),
    finishedAt: hkNow(now()),
    status: "not-run",
    note: opts.weather!.reason,
    ...(restore ? { switchover: restore } : {}),
  };
}

/** Switches the client, checks the window, probes the step's site; returns why it was cut short, if it was. */
async function runStep(
  step: Step,
  state: SessionState,
  warnings: Set<string>,
  opts: SessionOptions,
  now: () => Date,
  plan: DayPlan,
): Promise<string | undefined> {
  const { config } = opts;
  const startedAt = hkNow(now());
  const switchover =
    config.sshConfig && step.part !== "precheck"
      ? switchHostName(config.sshConfig.file, config.sshConfig.alias, switchTarget(config, step.site), step.part, now())
      : undefined;
  const withinWindow = checkWindow(step, opts.date, plan.sessionDay, now, warnings);
  const run = await probeStep(step, opts, now);
  state.endpoints.push(...run.endpoints);
  state.downloads.push(...run.downloads);
  state.parts.push({
    part: step.part,
    site: step.site,
    ...(step.window ? { window: { start: step.window.start, end: step.window.end } } : {}),
    startedAt,
    finishedAt: hkNow(now()),
    status: siteStatus(run.endpoints),
    ...(withinWindow !== undefined ? { withinWindow } : {}),
    ...(opts.key.fingerprint ? { userKeyFingerprint: opts.key.fingerprint } : {}),
    ...(switchover ? { switchover } : {}),
  });
  const cutShort = run.endpoints.some((e) => e.phases.some((p) => p.code === "interrupted"));
  return opts.signal?.aborted && cutShort ? `interrupted by ${String(opts.signal.reason)} during ${stepName(step.part)}` : undefined;
}

/**
 * On a session day, whether the part runs inside its published window (a
 * warning when not); undefined on any other day. The clock's time of day is
 * compared with the windows of the day being run, so a rehearsal of that day
 * on another date is judged by its timing, not by its date.
 */
function checkWindow(step: Step, date: string, day: SessionDay | undefined, now: () => Date, warnings: Set<string>): boolean | undefined {
  if (!step.window || !day) return undefined;
  const at = now();
  const within = insideWindow(step.window, at);
  if (!within) {
    const t = hkDateTime(at);
    const ranOn = hkDate(at);
    warnings.add(
      ranOn === date
        ? `Part ${step.part} ran at ${t.toFormat("HH:mm")} Hong Kong time, outside its published window ${step.window.start}-${step.window.end}`
        : `Part ${step.part} ran at ${t.toFormat("HH:mm")} Hong Kong time on ${ranOn}, outside the window ${step.window.start}-${step.window.end} it has on the session day ${date}`,
    );
  }
  return within;
}

async function probeStep(step: Step, opts: SessionOptions, now: () => Date): Promise<SiteRun> {
  const { config } = opts;
  const label = step.part === "precheck" ? "precheck" : `part${step.part}`;
  // When a weather signal terminates the session, steps already under way stop at stopAt.
  const stepSignal = weatherSignal(opts.signal, opts.weather, now);
  try {
    return await runSites(
      { config, key: opts.key, knownHosts: opts.knownHosts, signal: stepSignal.signal, onEvent: opts.onEvent, tuning: opts.tuning },
      [step.site],
      { download: step.download, part: step.part, label, downloadSkipReason: "the pre-check lists only; Part 1 and Part 2 download" },
    );
  } finally {
    stepSignal.dispose();
  }
}

/** Writes the state for a later part; a disk that refuses it costs a warning, never the report. */
function saveState(state: SessionState, opts: SessionOptions, report: Report): Report {
  try {
    writeFileAtomic(join(opts.reportDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    const lost = `${STATE_FILE} could not be written to ${opts.reportDir} (${code})${opts.part === FIRST_PART ? `: --part ${LAST_PART} cannot continue this session from it` : ""}`;
    return { ...report, warnings: [...report.warnings, lost] };
  }
  return report;
}

/** Parts run again are judged on their new attempt; the earlier one moves aside, kept in the state. */
function supersede(state: SessionState, parts: readonly PartReport["part"][]): void {
  if (!state.parts.some((p) => parts.includes(p.part))) return;
  const take = <T extends { part?: unknown }>(list: T[]): T[] => {
    const again = (x: T) => parts.includes(x.part as PartReport["part"]);
    const out = list.filter(again);
    list.splice(0, list.length, ...list.filter((x) => !again(x)));
    return out;
  };
  state.superseded!.push({ parts: take(state.parts), endpoints: take(state.endpoints), downloads: take(state.downloads) });
}

function weatherSignal(outer: AbortSignal | undefined, weather: WeatherDecision | undefined, now: () => Date) {
  if (weather?.effect !== "terminate" || !weather.stopAt) return { signal: outer, dispose: () => undefined };
  const ac = new AbortController();
  const onOuter = () => ac.abort(outer?.reason);
  outer?.addEventListener("abort", onOuter, { once: true });
  const timer = setTimeout(
    () => ac.abort(`session terminated at ${hkDateTime(weather.stopAt!).toFormat("HH:mm")} (${weather.warning})`),
    Math.max(0, weather.stopAt.getTime() - now().getTime()),
  );
  return {
    signal: ac.signal,
    dispose: () => {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuter);
    },
  };
}

function stepName(p: PartReport["part"]): string {
  return p === "precheck" ? "the pre-check" : `Part ${p}`;
}

function partName(p: PartReport["part"]): string {
  return p === "precheck" ? "Pre-check" : `Part ${p}`;
}

function assemble(state: SessionState, opts: SessionOptions, final: boolean, interrupted: string | undefined, plan: DayPlan): Report {
  const { config } = opts;
  const reasons = partReasons(state, final);
  const keys = keyContinuity(state);
  if (!keys.same)
    reasons.push(`the SSH key changed between parts (${keys.fingerprints.join(" → ")}); keys must not be renewed during the session`);
  const restored = config.sshConfig && final ? restoredForNextBusinessDay(config, config.sshConfig) : undefined;
  if (restored?.reason) reasons.push(restored.reason);
  if (interrupted) reasons.push(interrupted);
  const completedPart = (p: PartNumber) => ["pass", "degraded"].includes(latestPart(state, p)?.status ?? "");
  const completed =
    final && SESSION_PARTS.every((w) => completedPart(w.part)) && keys.same && restored?.primaryRestored !== false && !interrupted;
  const allPassed = state.endpoints.length > 0 && state.endpoints.every((e) => e.verdict === "pass");
  const judged = final ? completed && allPassed : completedPart(FIRST_PART) && allPassed;
  return buildReport({
    kind: "session",
    startedAt: state.startedAt,
    endpoints: state.endpoints,
    downloads: state.downloads,
    warnings: state.warnings,
    config: config.file,
    interrupted,
    verdictOverride: judged && !interrupted ? "pass" : "fail",
    keyDecryption: keyDecryptionOf(opts.key),
    session: {
      date: state.date,
      rehearsal: plan.rehearsal !== undefined,
      ...(plan.rehearsal ? { rehearsalReason: plan.rehearsal } : {}),
      windows: plan.windows.map((w) => ({ part: w.part, site: w.site, start: w.start, end: w.end })),
      ...(plan.windowsDay
        ? {
            windowsOf: {
              date: plan.windowsDay.date,
              circular: plan.windowsDay.circular,
              registrationDeadline: plan.windowsDay.registrationDeadline,
            },
          }
        : {}),
      completed,
      parts: state.parts,
      ...(state.superseded && state.superseded.length > 0 ? { earlierAttempts: state.superseded.flatMap((a) => a.parts) } : {}),
      keyFingerprints: keys.fingerprints,
      sameKeyThroughout: keys.same,
      ...(restored?.hostNameAtEnd !== undefined ? { hostNameAtEnd: restored.hostNameAtEnd } : {}),
      ...(restored ? { portAtEnd: restored.portAtEnd } : {}),
      ...(restored ? { primaryRestored: restored.primaryRestored } : {}),
      reasons: final
        ? reasons
        : [...reasons, `Part ${LAST_PART} has not run yet: run hkex-ready session --part ${LAST_PART} in its window`],
      ...(opts.weather ? { weather: weatherSummary(opts.weather) } : {}),
      email: confirmationEmail({ date: state.date, completed, reasons, participant: config.email?.participant, rehearsal: plan.rehearsal }),
    },
  });
}

function latestPart(state: SessionState, part: PartReport["part"]): PartReport | undefined {
  return state.parts.filter((x) => x.part === part).at(-1);
}

/** Why each part, in the circular's order, did not complete; a part not run yet counts only when the session is over. */
function partReasons(state: SessionState, final: boolean): string[] {
  return SESSION_PARTS.flatMap((w) => {
    const r = latestPart(state, w.part);
    const named = `${partName(w.part)} (${HKEX_SITES[w.site].dataCentre})`;
    if (!r) return final ? [`${named} was not run`] : [];
    if (r.status === "not-run") return [`${named} did not run: ${r.note ?? "not run"}`];
    if (r.status !== "fail") return [];
    return [
      `${named}: no endpoint completed login, download and logout`,
      ...failureLines(state.endpoints.filter((e) => e.part === w.part)),
    ];
  });
}

/** The login keys used by the parts; warns (in the state) when a part's key could not be known. */
function keyContinuity(state: SessionState): { fingerprints: string[]; same: boolean } {
  const fingerprints = [...new Set(state.parts.map((p) => p.userKeyFingerprint).filter((f): f is string => Boolean(f)))];
  if (state.parts.some((p) => p.status !== "not-run" && !p.userKeyFingerprint)) {
    const note =
      "the login key's fingerprint is not known (ssh-agent without identityFile), so the kit could not check that the same key was used in every part";
    if (!state.warnings.includes(note)) state.warnings.push(note);
  }
  return { fingerprints, same: fingerprints.length <= 1 };
}

/** Where the client's alias points once the session is over, and whether that is a NEXT_BUSINESS_DAY_SITE address. */
function restoredForNextBusinessDay(
  config: Config,
  sshConfig: NonNullable<Config["sshConfig"]>,
): { hostNameAtEnd: string | undefined; portAtEnd: number; primaryRestored: boolean; reason?: string } {
  const { host: hostNameAtEnd, port: portAtEnd } = readHostAndPort(sshConfig.file, sshConfig.alias);
  const primaryRestored = config.sites[NEXT_BUSINESS_DAY_SITE].targets.some((t) => t.host === hostNameAtEnd && t.port === portAtEnd);
  if (primaryRestored) return { hostNameAtEnd, portAtEnd, primaryRestored };
  const sameHost = config.sites[NEXT_BUSINESS_DAY_SITE].targets.some((t) => t.host === hostNameAtEnd);
  const pointsAt = sameHost ? `${hostNameAtEnd} port ${portAtEnd}` : (hostNameAtEnd ?? "(no HostName)");
  return {
    hostNameAtEnd,
    portAtEnd,
    primaryRestored,
    reason: `${sshConfig.alias} in ${sshConfig.file} points at ${pointsAt}, not a ${NEXT_BUSINESS_DAY_SITE} address: restore ${NEXT_BUSINESS_DAY_SITE} for the next business day`,
  };
}

function weatherSummary(weather: WeatherDecision): NonNullable<SessionSummary["weather"]> {
  return {
    warning: weather.warning,
    issuedAt: weather.issuedAt,
    effect: weather.effect,
    ...(weather.stopAt ? { stopAt: hkNow(weather.stopAt) } : {}),
  };
}
