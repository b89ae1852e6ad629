/**
 * The report: its schema (docs/report-schema.md), and writing it safely.
 * Files are written to a temporary name, fsynced and renamed, so a report
 * folder never holds a half-written file.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { PartNumber, SiteName } from "../catalogue";
import type { DownloadRecord, HostKeyRecord, KeyDecryptionRecord } from "./records";

export type { DownloadRecord, HostKeyRecord, KeyDecryptionRecord } from "./records";

/** Additive fields keep the version (docs/report-schema.md): session.rehearsal, rehearsalReason, windows, windowsOf, portAtEnd; keyDecryption; switchover ports. */
export const REPORT_SCHEMA_VERSION = 1;

/** The phases and cause codes come from the probe's table of phases (checks/probe/table.ts). */
export { CAUSE_CODES, PHASES } from "./probe/table";
export type { CauseCode, PhaseName } from "./probe/table";
import type { CauseCode, PhaseName } from "./probe/table";

export type PhaseStatus = "pass" | "fail" | "skip";

export interface PhaseResult {
  readonly name: PhaseName;
  readonly status: PhaseStatus;
  /** Duration in milliseconds (0 for a skip). */
  readonly ms: number;
  /** Why it failed or was skipped; absent on pass. */
  readonly cause?: string;
  readonly code?: CauseCode;
  /** The timeout that applied to this phase. */
  readonly timeoutMs?: number;
  readonly startedAt?: string;
}

export interface EndpointReport {
  readonly site: SiteName;
  /** The address checked. */
  readonly host: string;
  readonly port: number;
  readonly part?: PartNumber | "precheck";
  readonly verdict: "pass" | "fail";
  readonly startedAt: string;
  readonly ms: number;
  readonly banner?: string;
  readonly hostKey?: HostKeyRecord;
  readonly userKeyFingerprint?: string;
  readonly listing?: readonly string[];
  readonly phases: readonly PhaseResult[];
}

export type SiteStatus = "pass" | "degraded" | "fail";

export interface SiteSummary {
  readonly site: SiteName;
  readonly part?: PartNumber | "precheck";
  readonly status: SiteStatus;
  readonly endpoints: number;
  readonly passed: number;
}

export interface SwitchoverRecord {
  readonly part: PartNumber;
  readonly file: string;
  readonly alias: string;
  readonly before: string | undefined;
  readonly after: string;
  /** The alias's Port before and after, when the kit points it at a site's port (the HostName alone cannot tell two ports of one address apart). */
  readonly portBefore?: number;
  readonly portAfter?: number;
  /** What OpenSSH's ssh resolves the alias to after the switch (checks/switchover.ts). */
  readonly effective?: EffectiveHostNameRecord;
  readonly backup?: string;
  readonly at: string;
}

export interface EffectiveHostNameRecord {
  /** The alias's effective HostName, as the kit evaluates the config (first obtained value, Host, Match, Include). */
  readonly hostName: string;
  /** "file:line" of the HostName line that wins. */
  readonly line: string;
  /** What `ssh -G -F file alias` printed as hostname; absent when no OpenSSH client is installed. */
  readonly sshG?: string;
  /** The alias's effective Port (22 when none applies) and what `ssh -G` printed as port. */
  readonly port?: number;
  readonly sshGPort?: number;
}

export interface PartReport {
  readonly part: PartNumber | "precheck";
  readonly site: SiteName;
  readonly window?: { readonly start: string; readonly end: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly status: SiteStatus | "not-run";
  readonly withinWindow?: boolean;
  readonly userKeyFingerprint?: string;
  readonly switchover?: SwitchoverRecord;
  readonly note?: string;
}

/** A published window of a part, as the run followed it. */
export interface WindowRecord {
  readonly part: PartNumber;
  readonly site: SiteName;
  readonly start: string;
  readonly end: string;
}

export interface SessionSummary {
  readonly date: string;
  /**
   * Not the real session: the date is not a configured session day, or
   * --rehearsal was given. Its e-mail is a draft not to send.
   */
  readonly rehearsal: boolean;
  /** Why it is a rehearsal, in words; present when it is one. */
  readonly rehearsalReason?: string;
  /** The published windows the parts followed: those of `windowsOf`, or the circular's rundown when no session day is configured. */
  readonly windows: readonly WindowRecord[];
  /** The configured session day whose windows apply: the date itself, or the day a rehearsal on another date rehearses. */
  readonly windowsOf?: { readonly date: string; readonly circular: string; readonly registrationDeadline: string };
  /** Every part ran and each site completed a login, download and logout, same key, primary restored. */
  readonly completed: boolean;
  readonly parts: readonly PartReport[];
  /** Parts that were run again: the earlier attempts, no longer judged (their endpoints stay in session-state.json). */
  readonly earlierAttempts?: readonly PartReport[];
  readonly keyFingerprints: readonly string[];
  readonly sameKeyThroughout: boolean;
  readonly hostNameAtEnd?: string;
  /** The alias's effective Port at the end. */
  readonly portAtEnd?: number;
  readonly primaryRestored?: boolean;
  readonly reasons: readonly string[];
  readonly weather?: { readonly warning: string; readonly issuedAt: string; readonly effect: string; readonly stopAt?: string };
  readonly email: { readonly to: string; readonly subject: string; readonly body: string };
}

export interface Report {
  readonly schemaVersion: number;
  readonly tool: { readonly name: string; readonly version: string };
  readonly kind: "check" | "session";
  readonly verdict: "pass" | "fail";
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly from: { readonly hostname: string; readonly user: string };
  readonly config?: string;
  readonly interrupted?: string;
  readonly sites: readonly SiteSummary[];
  readonly endpoints: readonly EndpointReport[];
  readonly downloads: readonly DownloadRecord[];
  readonly warnings: readonly string[];
  /** Present when the login key is encrypted: how long its one decryption took. */
  readonly keyDecryption?: KeyDecryptionRecord;
  readonly session?: SessionSummary;
}

export function siteStatus(endpoints: readonly EndpointReport[]): SiteStatus {
  const passed = endpoints.filter((e) => e.verdict === "pass").length;
  if (endpoints.length > 0 && passed === endpoints.length) return "pass";
  return passed > 0 ? "degraded" : "fail";
}

export function summariseSites(endpoints: readonly EndpointReport[]): SiteSummary[] {
  const groups = new Map<string, EndpointReport[]>();
  for (const e of endpoints) {
    const key = `${e.part ?? ""}|${e.site}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  return [...groups.values()].map((list) => ({
    site: list[0]!.site,
    ...(list[0]!.part !== undefined ? { part: list[0]!.part } : {}),
    status: siteStatus(list),
    endpoints: list.length,
    passed: list.filter((e) => e.verdict === "pass").length,
  }));
}

/** Every failed phase, as "site host:port phase: cause" lines. */
export function failureLines(endpoints: readonly EndpointReport[]): string[] {
  return endpoints.flatMap((e) =>
    e.phases
      .filter((p) => p.status === "fail")
      .map(
        (p) => `${e.part && e.part !== "precheck" ? `Part ${e.part} ` : ""}${e.site} ${e.host}:${e.port} ${p.name}: ${p.cause ?? "failed"}`,
      ),
  );
}

/** Write a file atomically: temp name in the same folder, fsync, rename, fsync the folder. */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", mode);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
  try {
    const dfd = openSync(dir, "r");
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}

export function reportJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
