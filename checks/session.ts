/**
 * The connectivity session: a check of primary before the switch, Part 1 on
 * secondary with a download, Part 2 back on primary with a download. Parts can
 * run one at a time (the real windows are hours apart); the state lives in
 * the report folder so Part 2 completes the same session.
 */
import { existsSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { HKEX_SITES, SESSION_DAYS, SESSION_PARTS, type PartNumber, type PartWindow, type SiteName } from "../catalogue";
import type { Config } from "./config";
import { confirmationEmail } from "./email";
import { InputError } from "../core/errors";
import type { UserKey } from "./keys";
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
  type SwitchoverRecord,
} from "./report";
import { buildReport, runSites } from "./run";
import { readHostName, switchHostName } from "./switchover";
import { hkDateTime, hkInstant, hkNow } from "../core/time";

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
}

type Step = { readonly part: PartReport["part"]; readonly site: SiteName; readonly download: boolean; readonly window?: PartWindow };

export function sessionSteps(part?: PartNumber): Step[] {
  const [p1, p2] = [SESSION_PARTS.find((p) => p.part === 1)!, SESSION_PARTS.find((p) => p.part === 2)!];
  const pre: Step = { part: "precheck", site: "primary", download: false };
  const one: Step = { part: 1, site: p1.site, download: true, window: p1 };
  const two: Step = { part: 2, site: p2.site, download: true, window: p2 };
  if (part === 1) return [pre, one];
  if (part === 2) return [two];
  return [pre, one, two];
}

function loadState(reportDir: string, date: string): SessionState | undefined {
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
  if (state.date !== date) {
    throw new InputError({
      path: "--report-dir",
      message: `${file} holds the session of ${state.date}, not ${date}; use another --report-dir for a new session day`,
    });
  }
  return state;
}

function isSessionDay(date: string): boolean {
  return SESSION_DAYS.some((d) => d.date === date);
}

/** The site's first configured host: what the CP's client is switched to. */
function switchTarget(config: Config, site: SiteName): string {
  return config.sites[site].targets[0]!.host;
}

export async function runSession(opts: SessionOptions): Promise<Report> {
  const now = opts.now ?? (() => new Date());
  const { config } = opts;
  const previous = opts.part === 2 ? loadState(opts.reportDir, opts.date) : undefined;
  if (opts.part === 2 && !previous && !opts.allowMissingPart1) {
    // A mistyped folder on the day would otherwise produce a "did NOT complete" e-mail.
    throw new InputError({
      path: "--report-dir",
      message: `${join(opts.reportDir, STATE_FILE)} does not exist: run --part 2 with the --report-dir of Part 1, or add --allow-missing-part1 to record Part 2 on its own`,
    });
  }
  if (opts.part !== 2 && existsSync(join(opts.reportDir, STATE_FILE))) {
    // Starting the day over: the earlier attempt is kept beside the new one, not lost.
    const stamp = hkNow(now()).replace(/[:.]/g, "").replace(/\+.*$/, "");
    renameSync(join(opts.reportDir, STATE_FILE), join(opts.reportDir, `session-state.before-${stamp}.json`));
  }
  const state: SessionState = previous
    ? { ...previous, warnings: [...previous.warnings], superseded: [...(previous.superseded ?? [])] }
    : { version: 1, date: opts.date, startedAt: hkNow(now()), parts: [], endpoints: [], downloads: [], warnings: [], superseded: [] };
  const warnings = new Set<string>([...state.warnings, ...opts.warnings]);
  if (!config.sshConfig) {
    warnings.add(
      "sshConfig is not set: the kit did not switch your SFTP client; make sure the primary IPs (10.151.14.141/142 in production) are in place for the next business day",
    );
  }

  let interrupted: string | undefined;
  for (const step of sessionSteps(opts.part)) {
    supersede(state, step.part);
    if (opts.signal?.aborted) {
      interrupted ??= `interrupted by ${String(opts.signal.reason)} before ${stepName(step.part)}`;
      break;
    }
    if (
      opts.weather?.effect === "cancelled" ||
      (opts.weather?.effect === "terminate" && opts.weather.stopAt && now() >= opts.weather.stopAt)
    ) {
      // Primary must be in place for the next business day even when Part 2 cannot run.
      const restore =
        step.part === 2 && config.sshConfig
          ? switchHostName(config.sshConfig.file, config.sshConfig.alias, switchTarget(config, "primary"), 2, now())
          : undefined;
      state.parts.push({
        part: step.part,
        site: step.site,
        startedAt: hkNow(now()),
        finishedAt: hkNow(now()),
        status: "not-run",
        note: opts.weather.reason,
        ...(restore ? { switchover: restore } : {}),
      });
      continue;
    }
    const startedAt = hkNow(now());
    let switchover: SwitchoverRecord | undefined;
    if (config.sshConfig && step.part !== "precheck") {
      switchover = switchHostName(config.sshConfig.file, config.sshConfig.alias, switchTarget(config, step.site), step.part, now());
    }
    let withinWindow: boolean | undefined;
    if (step.window && isSessionDay(opts.date)) {
      const t = hkDateTime(now());
      withinWindow = t >= hkInstant(opts.date, step.window.start) && t < hkInstant(opts.date, step.window.end);
      if (!withinWindow) {
        warnings.add(
          `Part ${step.part} ran at ${t.toFormat("HH:mm")} Hong Kong time, outside its published window ${step.window.start}-${step.window.end}`,
        );
      }
    }
    const label = step.part === "precheck" ? "precheck" : `part${step.part}`;
    // When a weather signal terminates the session, steps already under way stop at stopAt.
    const stepSignal = weatherSignal(opts.signal, opts.weather, now);
    const run = await runSites(
      { config, key: opts.key, knownHosts: opts.knownHosts, signal: stepSignal.signal, onEvent: opts.onEvent, tuning: opts.tuning },
      [step.site],
      { download: step.download, part: step.part, label, downloadSkipReason: "the pre-check lists only; Part 1 and Part 2 download" },
    );
    stepSignal.dispose();
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
    if (opts.signal?.aborted && cutShort) interrupted ??= `interrupted by ${String(opts.signal.reason)} during ${stepName(step.part)}`;
  }

  state.warnings.splice(0, state.warnings.length, ...warnings);
  const final = opts.part !== 1;
  const report = assemble(state, opts, final, interrupted);
  try {
    writeFileAtomic(join(opts.reportDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  } catch (err) {
    // A full or read-only disk must not cost the report of what was just checked.
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    const lost = `${STATE_FILE} could not be written to ${opts.reportDir} (${code})${opts.part === 1 ? ": --part 2 cannot continue this session from it" : ""}`;
    return { ...report, warnings: [...report.warnings, lost] };
  }
  return report;
}

/** A part run again is judged on its new attempt; the earlier one moves aside, kept in the state. */
function supersede(state: SessionState, part: PartReport["part"]): void {
  if (!state.parts.some((p) => p.part === part)) return;
  const take = <T extends { part?: unknown }>(list: T[]): T[] => {
    const out = list.filter((x) => x.part === part);
    list.splice(0, list.length, ...list.filter((x) => x.part !== part));
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

function assemble(state: SessionState, opts: SessionOptions, final: boolean, interrupted: string | undefined): Report {
  const { config } = opts;
  const reasons: string[] = [];
  const byPart = (p: PartReport["part"]) => state.parts.filter((x) => x.part === p).at(-1);
  const completedPart = (p: PartNumber) => {
    const r = byPart(p);
    return r !== undefined && (r.status === "pass" || r.status === "degraded");
  };
  for (const p of [1, 2] as const) {
    const r = byPart(p);
    const site = SESSION_PARTS.find((w) => w.part === p)!;
    if (!r) {
      if (final) reasons.push(`${partName(p)} (${HKEX_SITES[site.site].dataCentre}) was not run`);
      continue;
    }
    if (r.status === "not-run") reasons.push(`${partName(p)} (${HKEX_SITES[site.site].dataCentre}) did not run: ${r.note ?? "not run"}`);
    else if (r.status === "fail") {
      reasons.push(`${partName(p)} (${HKEX_SITES[site.site].dataCentre}): no endpoint completed login, download and logout`);
      reasons.push(...failureLines(state.endpoints.filter((e) => e.part === p)));
    }
  }
  const fingerprints = [...new Set(state.parts.map((p) => p.userKeyFingerprint).filter((f): f is string => Boolean(f)))];
  const sameKey = fingerprints.length <= 1;
  if (!sameKey)
    reasons.push(`the SSH key changed between parts (${fingerprints.join(" → ")}); keys must not be renewed during the session`);
  if (state.parts.some((p) => p.status !== "not-run" && !p.userKeyFingerprint)) {
    const note =
      "the login key's fingerprint is not known (ssh-agent without identityFile), so the kit could not check that the same key was used in every part";
    if (!state.warnings.includes(note)) state.warnings.push(note);
  }
  let hostNameAtEnd: string | undefined;
  let primaryRestored: boolean | undefined;
  if (config.sshConfig && final) {
    hostNameAtEnd = readHostName(config.sshConfig.file, config.sshConfig.alias);
    primaryRestored = config.sites.primary.targets.some((t) => t.host === hostNameAtEnd);
    if (!primaryRestored) {
      reasons.push(
        `${config.sshConfig.alias} in ${config.sshConfig.file} points at ${hostNameAtEnd ?? "(no HostName)"}, not a primary address: restore primary for the next business day`,
      );
    }
  }
  if (interrupted) reasons.push(interrupted);
  const completed = final && completedPart(1) && completedPart(2) && sameKey && primaryRestored !== false && !interrupted;
  const email = confirmationEmail({ date: state.date, completed, reasons, participant: config.email?.participant });
  const allPassed = state.endpoints.length > 0 && state.endpoints.every((e) => e.verdict === "pass");
  const partOneOnlyOk = !final && completedPart(1) && allPassed;
  const verdict = (final ? completed && allPassed : partOneOnlyOk) && !interrupted ? "pass" : "fail";
  const weather = opts.weather
    ? {
        warning: opts.weather.warning,
        issuedAt: opts.weather.issuedAt,
        effect: opts.weather.effect,
        ...(opts.weather.stopAt ? { stopAt: hkNow(opts.weather.stopAt) } : {}),
      }
    : undefined;
  return buildReport({
    kind: "session",
    startedAt: state.startedAt,
    endpoints: state.endpoints,
    downloads: state.downloads,
    warnings: state.warnings,
    config: config.file,
    interrupted,
    verdictOverride: verdict,
    session: {
      date: state.date,
      completed,
      parts: state.parts,
      ...(state.superseded && state.superseded.length > 0 ? { earlierAttempts: state.superseded.flatMap((a) => a.parts) } : {}),
      keyFingerprints: fingerprints,
      sameKeyThroughout: sameKey,
      ...(hostNameAtEnd !== undefined ? { hostNameAtEnd } : {}),
      ...(primaryRestored !== undefined ? { primaryRestored } : {}),
      reasons: final ? reasons : [...reasons, "Part 2 has not run yet: run hkex-ready session --part 2 in its window"],
      ...(weather ? { weather } : {}),
      email,
    },
  });
}
