/**
 * A node_exporter textfile-collector file (Prometheus text exposition format
 * 0.0.4) from a report: whether each endpoint passed, how long each phase
 * took, and each phase's status. Write it with writeFileAtomic so the
 * collector never reads half a file.
 */
import { hkDateTime } from "../../core/time";
import { DateTime } from "luxon";
import { HKEX_TIME_ZONE, partKey } from "../../catalogue";
import { PHASES, type EndpointReport, type PhaseStatus, type Report } from "../report";

export const METRIC_PREFIX = "hkex_sftp";

/** Label value escaping of the text format: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(pairs: Record<string, string | number>): string {
  return `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabelValue(String(v))}"`)
    .join(",")}}`;
}

/** Go-style float formatting Prometheus accepts: integers stay integers, no exponent for normal ranges. */
function num(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly samples: string[];
}

const STATUSES: readonly PhaseStatus[] = ["pass", "fail", "skip"];

export function renderPrometheus(report: Report): string {
  // A session probes primary twice (pre-check and Part 2): the part keeps the series apart.
  const withPart = report.kind === "session" || report.endpoints.some((e) => e.part !== undefined);
  const base = (e: EndpointReport): Record<string, string | number> => ({
    site: e.site,
    host: e.host,
    port: e.port,
    ...(withPart ? { part: partKey(e.part) } : {}),
  });
  const fam = (name: string, help: string): Family => ({ name: `${METRIC_PREFIX}_${name}`, help, samples: [] });
  const success = fam(
    "probe_success",
    "1 if the endpoint passed: no phase failed and none was skipped after a failure (a download not requested is not run), 0 otherwise.",
  );
  const probeDuration = fam("probe_duration_seconds", "Wall time of the endpoint's whole check, in seconds.");
  const phaseDuration = fam("phase_duration_seconds", "Duration of each phase that ran, in seconds; skipped phases have no sample.");
  const phaseStatus = fam("phase_status", "1 for the phase's status (pass, fail or skip), 0 for the other two.");
  const failure = fam("probe_failure_info", "1 for the phase that failed, with its cause code.");
  const lastRun = fam("last_run_timestamp_seconds", "When the check finished, in Unix seconds.");
  const verdict = fam("run_success", "1 if the whole run passed, 0 otherwise.");
  for (const e of report.endpoints) {
    success.samples.push(`${success.name}${labels(base(e))} ${e.verdict === "pass" ? 1 : 0}`);
    probeDuration.samples.push(`${probeDuration.name}${labels(base(e))} ${num(e.ms / 1000)}`);
    for (const name of PHASES) {
      const p = e.phases.find((x) => x.name === name);
      if (!p) continue;
      if (p.status !== "skip")
        phaseDuration.samples.push(`${phaseDuration.name}${labels({ ...base(e), phase: p.name })} ${num(p.ms / 1000)}`);
      for (const s of STATUSES) {
        phaseStatus.samples.push(`${phaseStatus.name}${labels({ ...base(e), phase: p.name, status: s })} ${p.status === s ? 1 : 0}`);
      }
      if (p.status === "fail") failure.samples.push(`${failure.name}${labels({ ...base(e), phase: p.name, code: p.code ?? "error" })} 1`);
    }
  }
  const finished = DateTime.fromISO(report.finishedAt, { zone: HKEX_TIME_ZONE });
  lastRun.samples.push(`${lastRun.name} ${num((finished.isValid ? finished : hkDateTime()).toMillis() / 1000)}`);
  verdict.samples.push(`${verdict.name}${labels({ kind: report.kind })} ${report.verdict === "pass" ? 1 : 0}`);
  const lines: string[] = [];
  for (const f of [success, probeDuration, phaseDuration, phaseStatus, failure, lastRun, verdict]) {
    if (f.samples.length === 0) continue;
    lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${f.name} gauge`, ...f.samples);
  }
  return `${lines.join("\n")}\n`;
}
