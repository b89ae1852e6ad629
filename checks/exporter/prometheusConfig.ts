/**
 * The shipped Prometheus configuration (deploy/prometheus/prometheus.yml)
 * pointed at another exporter address, for a Prometheus started next to the
 * simulator: the integration test and `npm run monitoring:demo`. The
 * relabelling stays as shipped; only the exporter's address, the intervals
 * and the rule files' paths change.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { parse, stringify } from "yaml";

/** deploy/prometheus/prometheus.yml, from dist/checks/exporter/ or checks/exporter/. */
export function shippedPrometheusConfigPath(): string {
  for (const up of [
    ["..", "..", ".."],
    ["..", ".."],
  ]) {
    const candidate = join(__dirname, ...up, "deploy", "prometheus", "prometheus.yml");
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error("deploy/prometheus/prometheus.yml not found next to the kit");
}

/** The exporter address the shipped config uses. */
const SHIPPED_EXPORTER_ADDRESS = "127.0.0.1:9918";

interface ScrapeConfig {
  job_name: string;
  scrape_interval?: string;
  scrape_timeout?: string;
  static_configs?: { targets: string[] }[];
  relabel_configs?: { target_label?: string; replacement?: string }[];
}

export function adaptPrometheusConfig(opts: { exporterAddress: string; interval: string; file?: string }): string {
  const file = opts.file ?? shippedPrometheusConfigPath();
  const doc = parse(readFileSync(file, "utf8")) as {
    global: Record<string, string>;
    rule_files?: string[];
    scrape_configs: ScrapeConfig[];
  };
  doc.global.scrape_interval = opts.interval;
  doc.global.scrape_timeout = opts.interval;
  doc.global.evaluation_interval = opts.interval;
  doc.rule_files = (doc.rule_files ?? []).map((r) => (isAbsolute(r) ? r : join(dirname(file), r)));
  for (const job of doc.scrape_configs) {
    job.scrape_interval = opts.interval;
    job.scrape_timeout = opts.interval;
    for (const r of job.relabel_configs ?? []) {
      if (r.target_label === "__address__" && r.replacement === SHIPPED_EXPORTER_ADDRESS) r.replacement = opts.exporterAddress;
    }
    for (const s of job.static_configs ?? []) {
      s.targets = s.targets.map((t) => (t === SHIPPED_EXPORTER_ADDRESS ? opts.exporterAddress : t));
    }
  }
  return stringify(doc);
}
