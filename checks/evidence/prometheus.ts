/**
 * The Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/) of a
 * report's metrics, as checks/metrics.ts defines them: the node_exporter
 * textfile (`check --prometheus`, written with writeFileAtomic so the
 * collector never reads half a file) and the exporter's `/probe` answer.
 */
import { METRIC_FAMILIES, type Sample, type SampleOptions, reportSamples } from "../metrics";
import type { Report } from "../report";

/** The content type of this format, for an HTTP answer. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label value escaping of the text format: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text escaping: backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function labels(pairs: Readonly<Record<string, string>>): string {
  const entries = Object.entries(pairs);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}

/** Go-style float formatting Prometheus accepts: integers stay integers, no exponent for normal ranges. */
function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
}

/** Samples as exposition text: each family with samples gets its HELP and TYPE once, in METRIC_FAMILIES order. */
export function renderSamples(samples: readonly Sample[]): string {
  const lines: string[] = [];
  for (const f of METRIC_FAMILIES) {
    const mine = samples.filter((s) => s.family === f);
    if (mine.length === 0) continue;
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of mine) lines.push(`${f.name}${labels(s.labels)} ${num(s.value)}`);
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

export function renderPrometheus(report: Report, opts: SampleOptions = {}): string {
  return renderSamples(reportSamples(report, opts));
}
