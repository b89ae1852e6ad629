/**
 * `hkex-ready exporter`: the readiness check as a multi-target Prometheus
 * exporter, in the style of blackbox_exporter
 * (https://github.com/prometheus/blackbox_exporter#prometheus-configuration):
 * Prometheus scrapes `/probe?site=…` with the site as a URL parameter, and the
 * check runs at scrape time, within the scrape's timeout, answering with that
 * probe's metrics only (checks/metrics.ts). `/metrics` has the exporter's own.
 *
 *   GET  /probe?site=primary|secondary|all[&host=H][&download=1]
 *   GET  /metrics       the exporter's own metrics (prom-client)
 *   GET  /-/healthy     200 while the server runs
 *   POST /-/reload      reload the config (also on SIGHUP); a bad one keeps the old
 *   GET  /              a short page with links
 *
 * The server binds where it is told; the CLI refuses a non-loopback address
 * unless --allow-remote is given (checks/exporter/listen.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { cappedTimeouts, type Config } from "../config";
import type { Loaded } from "../inputs";
import { buildReport, runSites, type SiteRun } from "../run";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../evidence/prometheus";
import { hkNow } from "../../core/time";
import { SITE_NAMES, endpointLabel, hostPort } from "../../catalogue";
import { esc } from "../evidence/html/markup";
import { parseProbeRequest, probeBudgetMs, type ProbeRequest, type RequestProblem } from "./request";
import { DEFAULT_SHARING_LIMITS, QueueDeadlineError, SharedProbes, type SharingLimits } from "./sharing";
import { ExporterMetrics } from "./selfMetrics";

/** What the exporter probes with: the config, the login key and the pinned host keys, as checks/inputs.ts loads them. */
export type ExporterInputs = Loaded;

export interface ExporterOptions {
  readonly host: string;
  readonly port: number;
  /** Loads and validates the config and the files it names; throws InputError on bad input. */
  readonly load: () => ExporterInputs;
  /** Subtracted from the scrape timeout, for the answer to reach Prometheus (blackbox_exporter's --timeout-offset). */
  readonly timeoutMarginMs?: number;
  readonly limits?: SharingLimits;
  /** Where the exporter says what it does (start, reloads); stderr in the CLI. */
  readonly log?: (line: string) => void;
}

export interface RunningExporter {
  readonly url: string;
  readonly address: AddressInfo;
  readonly metrics: ExporterMetrics;
  /** Reloads the config; on failure keeps the previous one and returns the error's message. */
  reload(): ReloadResult;
  /** The inputs in use now. */
  current(): ExporterInputs;
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MARGIN_MS = 500;
/** The most sockets the server keeps open; more are refused by the kernel backlog, not queued in memory. */
const MAX_CONNECTIONS = 256;

interface ProbeOutcome {
  readonly body: string;
  readonly success: boolean;
}

export type ReloadResult = { ok: true } | { ok: false; message: string };

function problemText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function send(res: ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8", extra: Record<string, string> = {}) {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body), "Cache-Control": "no-store", ...extra });
  res.end(body);
}

/** The short HTML page at `/`: links to the probes and the endpoints the config names. */
function landingPage(config: Config): string {
  const links = [...SITE_NAMES, "all"].map((s) => `<li><a href="probe?site=${s}">/probe?site=${s}</a></li>`).join("");
  const endpoints = Object.values(config.sites)
    .flatMap((s) => s.targets.map((t) => `<li>${esc(endpointLabel({ site: s.name, host: t.host, port: t.port }))}</li>`))
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hkex-ready exporter</title></head>
<body>
<h1>hkex-ready exporter</h1>
<p>The HKEX Report Retrieval SFTP readiness check, run at scrape time. Config: ${esc(config.file)}</p>
<ul>${links}<li><a href="metrics">/metrics</a> (the exporter's own)</li><li><a href="-/healthy">/-/healthy</a></li></ul>
<h2>Endpoints in the config</h2>
<ul>${endpoints}</ul>
</body></html>
`;
}

/** The exporter's state (the config in use, its generation, the shared probes) and what each route does with it. */
class Exporter {
  inputs: ExporterInputs;
  closing = false;
  readonly metrics: ExporterMetrics;
  private generation = 1;
  private readonly probes: SharedProbes<ProbeOutcome>;
  private readonly log: (line: string) => void;
  private readonly margin: number;

  constructor(private readonly opts: ExporterOptions) {
    this.inputs = opts.load();
    this.log = opts.log ?? (() => undefined);
    this.margin = opts.timeoutMarginMs ?? DEFAULT_TIMEOUT_MARGIN_MS;
    const probes = new SharedProbes<ProbeOutcome>(opts.limits ?? DEFAULT_SHARING_LIMITS);
    this.probes = probes;
    this.metrics = new ExporterMetrics({ running: () => probes.running, queued: () => probes.queued });
  }

  reload(): ReloadResult {
    try {
      this.inputs = this.opts.load();
      this.generation++;
      this.metrics.countReload(true);
      this.log(`config reloaded from ${this.inputs.config.file}`);
      for (const w of this.inputs.warnings) this.log(`warning: ${w}`);
      return { ok: true };
    } catch (err) {
      this.metrics.countReload(false);
      const message = problemText(err);
      this.log(`config reload failed, keeping the previous config:\n${message}`);
      return { ok: false, message };
    }
  }

  abortAll(reason: string): void {
    this.probes.abortAll(reason);
  }

  /** Runs one probe with the inputs of the scrape that started it, within what is left of the scrape's time. */
  private async runProbe(
    req: ProbeRequest,
    using: ExporterInputs,
    signal: AbortSignal,
    deadlineAt: number | undefined,
    budget: number | undefined,
  ): Promise<ProbeOutcome> {
    const started = performance.now();
    const startedAt = hkNow();
    // What is left of the scrape's time when the probe starts (less after a wait in the queue).
    const budgetMs = deadlineAt === undefined ? undefined : Math.max(1, deadlineAt - Date.now());
    const base = using.config;
    const config: Config = {
      ...base,
      timeouts: cappedTimeouts(base.timeouts, budget),
      sites: req.only ? { ...base.sites, [req.only.site]: { name: req.only.site, targets: [req.only] } } : base.sites,
    };
    // Each phase's own (capped) timeout names a stalled phase; this backstop ends a probe whose
    // phases each stay within their timeouts but together outlast the scrape. It leaves half the
    // margin for the answer, so a phase reaching its cap is reported as that phase's timeout.
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    const backstopMs = budgetMs === undefined ? undefined : budgetMs + Math.floor(this.margin / 2);
    const timer =
      backstopMs === undefined
        ? undefined
        : setTimeout(() => stop.abort(`the scrape's deadline, ${backstopMs} ms after the start`), backstopMs);
    let run: SiteRun;
    try {
      run = await runSites(
        {
          config,
          key: using.key,
          knownHosts: using.knownHosts,
          signal: stop.signal,
          tuning: { maxFileBytes: base.monitoring.maxFileBytes },
        },
        req.sites,
        {
          download: req.download,
          label: `exporter-${req.key.replace(/[^A-Za-z0-9.-]+/g, "_")}`,
          downloadSkipReason: "not requested (add download=1 to the scrape's parameters)",
        },
      );
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
    if (signal.aborted) {
      // Shutting down, or every scrape left: an interrupted run says nothing about the facility.
      this.metrics.countProbe(req.site, "aborted", (performance.now() - started) / 1000);
      throw new Error(`probe aborted: ${String(signal.reason)}`);
    }
    const report = buildReport({
      kind: "check",
      startedAt,
      endpoints: run.endpoints,
      downloads: run.downloads,
      warnings: [],
      config: base.file,
    });
    const success = report.verdict === "pass";
    this.metrics.countProbe(req.site, success ? "success" : "failure", (performance.now() - started) / 1000);
    return { body: renderPrometheus(report, { files: base.files, sessionDays: base.sessionDays }), success };
  }

  private refuse(res: ServerResponse, p: RequestProblem): void {
    this.metrics.countRequest(p.status === 403 ? "forbidden" : "bad-request");
    send(res, p.status, `${p.message}\n`);
  }

  /** GET /probe: joins the in-flight probe for the same target, or queues a new one. */
  private handleProbe(req: IncomingMessage, res: ServerResponse, url: URL) {
    const using = this.inputs;
    const parsed = parseProbeRequest(url.searchParams, using.config);
    if ("status" in parsed) return this.refuse(res, parsed);
    const budget = probeBudgetMs(req.headers["x-prometheus-scrape-timeout-seconds"], this.margin);
    if (typeof budget === "object") return this.refuse(res, budget);
    const deadlineAt = budget === undefined ? undefined : Date.now() + budget;
    const attached = this.probes.attach(
      `${this.generation}|${parsed.key}`,
      (signal, deadline) => this.runProbe(parsed, using, signal, deadline, budget),
      deadlineAt,
    );
    if (attached === "queue-full") {
      this.metrics.countRequest("queue-full");
      return send(res, 503, "too many probes running and queued; try again later\n", undefined, { "Retry-After": "5" });
    }
    if (attached === "too-many-waiters") {
      this.metrics.countRequest("too-many-waiters");
      return send(res, 429, "too many scrapes are already waiting for this probe\n", undefined, { "Retry-After": "5" });
    }
    this.metrics.countRequest(attached.how);
    const onGone = () => {
      if (res.writableEnded) return;
      this.metrics.countRequest("client-gone");
      attached.detach();
    };
    res.once("close", onGone);
    attached.result.then(
      (outcome) => {
        res.removeListener("close", onGone);
        send(res, 200, outcome.body, PROMETHEUS_CONTENT_TYPE);
      },
      (err: unknown) => {
        res.removeListener("close", onGone);
        if (err instanceof QueueDeadlineError) {
          this.metrics.countRequest("deadline-in-queue");
          return send(res, 503, `${err.message}\n`, undefined, { "Retry-After": "5" });
        }
        send(res, this.closing ? 503 : 500, `probe failed: ${problemText(err)}\n`);
      },
    );
  }

  /** Every request: the route table. */
  handle(req: IncomingMessage, res: ServerResponse) {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://exporter.invalid");
    } catch {
      return send(res, 400, "malformed request URL\n");
    }
    // A body is never read; draining it keeps a keep-alive connection usable.
    req.resume();
    const method = req.method ?? "GET";
    const route = url.pathname;
    if (route === "/-/reload") {
      if (method !== "POST" && method !== "PUT")
        return send(res, 405, "use POST to reload the config\n", undefined, { Allow: "POST, PUT" });
      const r = this.reload();
      return r.ok
        ? send(res, 200, "config reloaded\n")
        : send(res, 500, `config reload failed, keeping the previous config:\n${r.message}\n`);
    }
    if (method !== "GET" && method !== "HEAD") return send(res, 405, "method not allowed\n", undefined, { Allow: "GET, HEAD" });
    switch (route) {
      case "/probe":
        // A HEAD would run a probe for nothing.
        if (method !== "GET") return send(res, 405, "use GET\n", undefined, { Allow: "GET" });
        return this.handleProbe(req, res, url);
      case "/metrics":
        this.metrics.registry.metrics().then(
          (text) => send(res, 200, text, this.metrics.registry.contentType),
          (err: unknown) => send(res, 500, `${problemText(err)}\n`),
        );
        return;
      case "/-/healthy":
        return send(res, 200, "Healthy\n");
      case "/":
        return send(res, 200, landingPage(this.inputs.config), "text/html; charset=utf-8");
      default:
        return send(res, 404, "not found: see / for what this exporter serves\n");
    }
  }
}

export async function startExporter(opts: ExporterOptions): Promise<RunningExporter> {
  const exporter = new Exporter(opts);
  const log = opts.log ?? (() => undefined);
  const server: Server = createServer((req, res) => exporter.handle(req, res));
  server.maxConnections = MAX_CONNECTIONS;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 15_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.removeListener("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => log(`server error: ${problemText(err)}`));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${hostPort(address.address, address.port)}`,
    address,
    metrics: exporter.metrics,
    reload: () => exporter.reload(),
    current: () => exporter.inputs,
    close: async () => {
      exporter.closing = true;
      exporter.abortAll("the exporter is shutting down");
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      // In-flight probes answered (503) once aborted; now nothing holds the connections.
      server.closeAllConnections();
    },
  };
}
