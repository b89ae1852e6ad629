/**
 * The exporter's own metrics on `/metrics`, kept by prom-client in a
 * registry of its own (never the library's global one): the process and
 * Node.js runtime metrics, probes run and their durations, requests refused
 * by the limits, and config reloads. Every label takes values from a closed
 * set, so the series are bounded whatever the requests say.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { METRIC_PREFIX } from "../metrics";
import type { SiteParam } from "./request";

const PREFIX = `${METRIC_PREFIX}_exporter`;

/** What became of a `/probe` request. */
export type RequestOutcome =
  | "started"
  | "shared"
  | "bad-request"
  | "forbidden"
  | "too-many-waiters"
  | "queue-full"
  | "deadline-in-queue"
  | "client-gone";

export class ExporterMetrics {
  readonly registry = new Registry();
  readonly probes: Counter<"site" | "result">;
  readonly probeDuration: Histogram<"site">;
  readonly requests: Counter<"outcome">;
  readonly inFlight: Gauge;
  readonly queued: Gauge;
  readonly reloads: Counter<"result">;
  readonly lastReloadSuccessful: Gauge;
  readonly lastReloadSuccessTimestamp: Gauge;

  constructor(live: { running(): number; queued(): number }) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.probes = new Counter({
      name: `${PREFIX}_probes_total`,
      help: "Probes run at scrape time, by site parameter and result (success: every endpoint passed; failure; aborted: no scrape waited for it any more).",
      labelNames: ["site", "result"],
      registers,
    });
    this.probeDuration = new Histogram({
      name: `${PREFIX}_probe_duration_seconds`,
      help: "Wall time of each probe run at scrape time, in seconds.",
      labelNames: ["site"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.requests = new Counter({
      name: `${PREFIX}_probe_requests_total`,
      help: "Requests to /probe by outcome: started or shared a probe, or were refused (bad-request, forbidden, too-many-waiters, queue-full, deadline-in-queue), or left before the answer (client-gone).",
      labelNames: ["outcome"],
      registers,
    });
    this.inFlight = new Gauge({
      name: `${PREFIX}_probes_in_flight`,
      help: "Probes running now.",
      registers,
      collect() {
        this.set(live.running());
      },
    });
    this.queued = new Gauge({
      name: `${PREFIX}_probes_queued`,
      help: "Probes waiting for a free place now.",
      registers,
      collect() {
        this.set(live.queued());
      },
    });
    this.reloads = new Counter({
      name: `${PREFIX}_config_reloads_total`,
      help: "Config reloads (SIGHUP or POST /-/reload) by result; a failed reload keeps the previous config.",
      labelNames: ["result"],
      registers,
    });
    this.lastReloadSuccessful = new Gauge({
      name: `${PREFIX}_config_last_reload_successful`,
      help: "1 if the last config reload succeeded (or none was asked for), 0 if it failed and the previous config is in use.",
      registers,
    });
    this.lastReloadSuccessTimestamp = new Gauge({
      name: `${PREFIX}_config_last_reload_success_timestamp_seconds`,
      help: "When the config in use was loaded, in Unix seconds.",
      registers,
    });
    // Every label value shows from the start, so rate() and absent() work before the first event.
    for (const result of ["success", "failure"]) this.reloads.inc({ result }, 0);
    for (const outcome of [
      "started",
      "shared",
      "bad-request",
      "forbidden",
      "too-many-waiters",
      "queue-full",
      "deadline-in-queue",
      "client-gone",
    ])
      this.requests.inc({ outcome }, 0);
    this.lastReloadSuccessful.set(1);
    this.lastReloadSuccessTimestamp.set(Date.now() / 1000);
  }

  countRequest(outcome: RequestOutcome): void {
    this.requests.inc({ outcome });
  }

  countProbe(site: SiteParam, result: "success" | "failure" | "aborted", seconds: number): void {
    this.probes.inc({ site, result });
    this.probeDuration.observe({ site }, seconds);
  }

  countReload(ok: boolean): void {
    this.reloads.inc({ result: ok ? "success" : "failure" });
    this.lastReloadSuccessful.set(ok ? 1 : 0);
    if (ok) this.lastReloadSuccessTimestamp.set(Date.now() / 1000);
  }
}
