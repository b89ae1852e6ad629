/**
 * CloudWatch Embedded Metric Format lines from the readiness metrics
 * (checks/metrics.ts), with the same metric names the exporter serves
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 *
 * Samples with the same dimension values share one line (one JSON object).
 * Every label bounded by the config becomes a dimension; the info labels (a
 * fingerprint, a hash) go in the line as plain properties, which CloudWatch
 * Logs Insights can query but which do not mint a metric per value. Every
 * line also carries the `probe` dimension, naming which VPC probe measured it.
 */
import type { MetricUnit, Sample } from "../metrics";

export const DEFAULT_NAMESPACE = "HKEX/SFTPReadiness";

/** CloudWatch's unit names (MetricDatum Unit). */
const UNITS: Record<MetricUnit, string> = {
  none: "None",
  seconds: "Seconds",
  bytes: "Bytes",
  count: "Count",
  timestamp: "None",
};

/** The spec's limits: 100 metrics per directive, 30 dimensions per set. */
const MAX_METRICS_PER_LINE = 100;

export interface EmfOptions {
  readonly namespace: string;
  /** Names this probe: a dimension on every line (e.g. the VPC id). */
  readonly probe: string;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
}

interface Line {
  readonly dimensions: Record<string, string>;
  readonly properties: Record<string, string>;
  readonly metrics: { name: string; unit: string; value: number }[];
}

export function renderEmf(samples: readonly Sample[], opts: EmfOptions): string[] {
  // Lines by their dimension values; a second line only when one is full or already has that metric.
  const groups = new Map<string, Line[]>();
  for (const s of samples) {
    const info = new Set(s.family.infoLabels ?? []);
    const dimensions: Record<string, string> = { probe: opts.probe };
    const properties: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.labels)) {
      if (info.has(k)) properties[k] = v;
      else dimensions[k] = v;
    }
    const key = JSON.stringify(Object.entries(dimensions));
    const group = groups.get(key) ?? [];
    groups.set(key, group);
    let line = group.at(-1);
    if (!line || line.metrics.length >= MAX_METRICS_PER_LINE || line.metrics.some((m) => m.name === s.family.name)) {
      line = { dimensions, properties: {}, metrics: [] };
      group.push(line);
    }
    Object.assign(line.properties, properties);
    line.metrics.push({ name: s.family.name, unit: UNITS[s.family.unit], value: s.value });
  }
  return [...groups.values()].flat().map((line) => {
    const doc: Record<string, unknown> = {
      _aws: {
        Timestamp: opts.timestamp,
        CloudWatchMetrics: [
          {
            Namespace: opts.namespace,
            Dimensions: [Object.keys(line.dimensions)],
            Metrics: line.metrics.map((m) => ({ Name: m.name, Unit: m.unit })),
          },
        ],
      },
      ...line.properties,
      ...line.dimensions,
    };
    for (const m of line.metrics) doc[m.name] = m.value;
    return JSON.stringify(doc);
  });
}
