/**
 * The one definition of the readiness metrics: names, help, units and labels,
 * and the samples a report yields. The node_exporter textfile
 * (checks/evidence/prometheus.ts), the exporter's `/probe` (checks/exporter/)
 * and the VPC probe's CloudWatch EMF lines (checks/vpcProbe/emf.ts) all render
 * from here, so a dashboard or alert built on one works on the others.
 *
 * Names follow the Prometheus naming conventions
 * (https://prometheus.io/docs/practices/naming/): one `hkex_sftp_` prefix,
 * base units in the name (`_seconds`, `_bytes`), `_info` for a series whose
 * labels carry the information and whose value is 1.
 *
 * Cardinality is bounded by the config, never by what a server sends: site,
 * host and port come from the config's targets, `phase`, `status` and `code`
 * from closed sets (PHASES, PHASE_STATUSES, CAUSE_CODES), `file` is the config's
 * `files` entry (never a remote name), and the only values derived from the
 * server are fixed-format digests computed here (host key fingerprint, file
 * SHA-256), one series per endpoint at a time. A banner, a remote file name or
 * a server's error text never becomes a label value.
 */
import picomatch from "picomatch";
import { SESSION_DAYS, type SessionDay } from "../catalogue";
import { hkInstant } from "../core/time";
import { CAUSE_CODES, PHASES, type EndpointReport, type PhaseStatus, type Report } from "./report";
import { partKey } from "../catalogue";

export const METRIC_PREFIX = "hkex_sftp";

export const PHASE_STATUSES: readonly PhaseStatus[] = ["pass", "fail", "skip"];

/** What a value measures; the EMF renderer maps it to a CloudWatch unit. */
export type MetricUnit = "none" | "seconds" | "bytes" | "count" | "timestamp";

/** Labels every endpoint-scoped family starts with (plus `part` for a session report). */
export const ENDPOINT_LABELS = ["site", "host", "port"] as const;

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  /** All of these are gauges: each scrape or run reports the state it saw. */
  readonly type: "gauge";
  readonly unit: MetricUnit;
  /** One sample per endpoint (with ENDPOINT_LABELS first), or one per run. */
  readonly scope: "endpoint" | "run";
  /** Labels after the endpoint's, in order. */
  readonly labels: readonly string[];
  /**
   * Labels whose value changes over time rather than naming a thing (a
   * fingerprint, a hash). The Prometheus renderers keep them as labels (one
   * series per endpoint at a time); the EMF renderer logs them as properties,
   * not dimensions, since every CloudWatch dimension value is a metric of its own.
   */
  readonly infoLabels?: readonly string[];
}

function family(name: string, f: Omit<MetricFamily, "name" | "type">): MetricFamily {
  return Object.freeze({ name: `${METRIC_PREFIX}_${name}`, type: "gauge", ...f });
}

export const METRICS = Object.freeze({
  probeSuccess: family("probe_success", {
    help: "1 if the endpoint passed: no phase failed and none was skipped after a failure (a download not requested is not run), 0 otherwise.",
    unit: "none",
    scope: "endpoint",
    labels: [],
  }),
  probeDuration: family("probe_duration_seconds", {
    help: "Wall time of the endpoint's whole check, in seconds.",
    unit: "seconds",
    scope: "endpoint",
    labels: [],
  }),
  phaseDuration: family("phase_duration_seconds", {
    help: "Duration of each phase that ran, in seconds; skipped phases have no sample.",
    unit: "seconds",
    scope: "endpoint",
    labels: ["phase"],
  }),
  phaseTimeout: family("phase_timeout_seconds", {
    help: "The timeout that applied to each phase that ran, in seconds (the config's, capped by a scrape's deadline).",
    unit: "seconds",
    scope: "endpoint",
    labels: ["phase"],
  }),
  phaseStatus: family("phase_status", {
    help: "1 for the phase's status (pass, fail or skip), 0 for the other two.",
    unit: "none",
    scope: "endpoint",
    labels: ["phase", "status"],
  }),
  failureInfo: family("probe_failure_info", {
    help: "1 for the phase that failed, with its cause code.",
    unit: "none",
    scope: "endpoint",
    labels: ["phase", "code"],
  }),
  hostKeyInfo: family("host_key_info", {
    help: "1 for the host key the endpoint presented: its type, SHA256 fingerprint, and status against knownHostsFile (match, unknown, mismatch, revoked).",
    unit: "none",
    scope: "endpoint",
    labels: ["type", "fingerprint", "status"],
    infoLabels: ["type", "fingerprint"],
  }),
  downloadBytes: family("download_bytes", {
    help: "Bytes downloaded and verified for each entry of the config's files (the sum when a glob matched several).",
    unit: "bytes",
    scope: "endpoint",
    labels: ["file"],
  }),
  downloadFiles: family("download_files", {
    help: "Files downloaded and verified for each entry of the config's files.",
    unit: "count",
    scope: "endpoint",
    labels: ["file"],
  }),
  downloadSha256Info: family("download_sha256_info", {
    help: "1 with the SHA-256 of the file downloaded for a files entry that matched exactly one file.",
    unit: "none",
    scope: "endpoint",
    labels: ["file", "sha256"],
    infoLabels: ["sha256"],
  }),
  lastRun: family("last_run_timestamp_seconds", {
    help: "When the check finished, in Unix seconds.",
    unit: "timestamp",
    scope: "run",
    labels: [],
  }),
  runSuccess: family("run_success", {
    help: "1 if the whole run passed, 0 otherwise.",
    unit: "none",
    scope: "run",
    labels: ["kind"],
  }),
  nextSessionStart: family("next_session_start_timestamp_seconds", {
    help: "Start of the first window of the next connectivity session day that is not over yet (catalogue), in Unix seconds; no sample when none is scheduled.",
    unit: "timestamp",
    scope: "run",
    labels: [],
  }),
  nextSessionEnd: family("next_session_end_timestamp_seconds", {
    help: "End of the last window of that session day, in Unix seconds.",
    unit: "timestamp",
    scope: "run",
    labels: [],
  }),
});

/** Every family, in the order renderers write them. */
export const METRIC_FAMILIES: readonly MetricFamily[] = Object.freeze(Object.values(METRICS));

export interface Sample {
  readonly family: MetricFamily;
  /** Label name to value, endpoint labels first, then the family's, in order. */
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface SampleOptions {
  /**
   * The config's `files` entries: download series are keyed by the entry a
   * file matched, never by the remote name. Without them no download series
   * are written.
   */
  readonly files?: readonly string[];
  /** The instant the next session is looked up from (default: now). */
  readonly now?: Date;
  /** The session calendar (default: the catalogue's). */
  readonly sessionDays?: readonly SessionDay[];
}

const CAUSE_CODE_SET: ReadonlySet<string> = new Set(CAUSE_CODES);
const HOST_KEY_TYPES: ReadonlySet<string> = new Set([
  "ssh-ed25519",
  "ssh-ed448",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
  "ssh-dss",
]);
const HOST_KEY_STATUSES: ReadonlySet<string> = new Set(["match", "unknown", "mismatch", "revoked"]);

/** A cause code as a label: only the closed set, anything else is "error". */
function codeLabel(code: string | undefined): string {
  return code !== undefined && CAUSE_CODE_SET.has(code) ? code : "error";
}

/** Base64 of a SHA-256 digest, as OpenSSH prints it; anything else is not a label value. */
function fingerprintLabel(fp: string): string {
  return /^SHA256:[A-Za-z0-9+/=]{1,64}$/.test(fp) ? fp : "invalid";
}

function sha256Label(hex: string): string {
  return /^[0-9a-f]{64}$/.test(hex) ? hex : "invalid";
}

/** The session day that is not over yet, nearest first: its first window's start and last window's end. */
export function nextSession(
  now: Date = new Date(),
  days: readonly SessionDay[] = SESSION_DAYS,
): { date: string; start: Date; end: Date } | undefined {
  const spans = days
    .map((d) => {
      const starts = d.parts.map((p) => p.start).sort();
      const ends = d.parts.map((p) => p.end).sort();
      return { date: d.date, start: hkInstant(d.date, starts[0]!).toJSDate(), end: hkInstant(d.date, ends.at(-1)!).toJSDate() };
    })
    .filter((s) => s.end.getTime() > now.getTime())
    .sort((a, b) => a.start.getTime() - b.start.getTime());
  return spans[0];
}

/** Every sample a report yields, family by family in METRIC_FAMILIES order. */
export function reportSamples(report: Report, opts: SampleOptions = {}): Sample[] {
  // A session probes primary twice (pre-check and Part 2): the part keeps the series apart.
  const withPart = report.kind === "session" || report.endpoints.some((e) => e.part !== undefined);
  const base = (e: EndpointReport): Record<string, string> => ({
    site: e.site,
    host: e.host,
    port: String(e.port),
    ...(withPart ? { part: partKey(e.part) } : {}),
  });
  const out = new Map<MetricFamily, Sample[]>(METRIC_FAMILIES.map((f) => [f, []]));
  const add = (f: MetricFamily, labels: Record<string, string>, value: number) => out.get(f)!.push({ family: f, labels, value });
  const matchers = (opts.files ?? []).map((entry) => ({ entry, isMatch: picomatch(entry, { dot: false, nocase: false }) }));

  for (const e of report.endpoints) {
    const b = base(e);
    add(METRICS.probeSuccess, b, e.verdict === "pass" ? 1 : 0);
    add(METRICS.probeDuration, b, e.ms / 1000);
    for (const name of PHASES) {
      const p = e.phases.find((x) => x.name === name);
      if (!p) continue;
      if (p.status !== "skip") {
        add(METRICS.phaseDuration, { ...b, phase: p.name }, p.ms / 1000);
        if (p.timeoutMs !== undefined) add(METRICS.phaseTimeout, { ...b, phase: p.name }, p.timeoutMs / 1000);
      }
      for (const s of PHASE_STATUSES) add(METRICS.phaseStatus, { ...b, phase: p.name, status: s }, p.status === s ? 1 : 0);
      if (p.status === "fail") add(METRICS.failureInfo, { ...b, phase: p.name, code: codeLabel(p.code) }, 1);
    }
    if (e.hostKey) {
      add(
        METRICS.hostKeyInfo,
        {
          ...b,
          type: e.hostKey.type && HOST_KEY_TYPES.has(e.hostKey.type) ? e.hostKey.type : "other",
          fingerprint: fingerprintLabel(e.hostKey.fingerprint),
          status: HOST_KEY_STATUSES.has(e.hostKey.status) ? e.hostKey.status : "unknown",
        },
        1,
      );
    }
    const mine = report.downloads.filter((d) => d.site === e.site && d.host === e.host && d.port === e.port && d.part === numericPart(e));
    // A file counts under the first entry it matches, as the probe lists them in that order.
    const entryOf = (name: string) => matchers.find((m) => m.isMatch(name))?.entry;
    for (const { entry } of matchers) {
      const got = mine.filter((d) => entryOf(d.file) === entry);
      if (got.length === 0) continue;
      add(
        METRICS.downloadBytes,
        { ...b, file: entry },
        got.reduce((sum, d) => sum + d.bytes, 0),
      );
      add(METRICS.downloadFiles, { ...b, file: entry }, got.length);
      if (got.length === 1) add(METRICS.downloadSha256Info, { ...b, file: entry, sha256: sha256Label(got[0]!.sha256) }, 1);
    }
  }
  const finished = Date.parse(report.finishedAt);
  add(METRICS.lastRun, {}, (Number.isNaN(finished) ? Date.now() : finished) / 1000);
  add(METRICS.runSuccess, { kind: report.kind }, report.verdict === "pass" ? 1 : 0);
  const next = nextSession(opts.now ?? new Date(), opts.sessionDays ?? SESSION_DAYS);
  if (next) {
    add(METRICS.nextSessionStart, {}, next.start.getTime() / 1000);
    add(METRICS.nextSessionEnd, {}, next.end.getTime() / 1000);
  }
  return METRIC_FAMILIES.flatMap((f) => out.get(f)!);
}

/** Downloads carry the part as a number only (Part 1 or 2); pre-check endpoints download nothing. */
function numericPart(e: EndpointReport): number | undefined {
  return typeof e.part === "number" ? e.part : undefined;
}
