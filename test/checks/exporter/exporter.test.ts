/**
 * The exporter in front of the simulator: metrics per probe, refusals that
 * contact nothing, shared probes and bounded queues, the scrape's timeout,
 * downloads on scrape, reloads, and the exporter's own metrics.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRIC_FAMILIES } from "../../../checks/metrics";
import type { RunningExporter } from "../../../checks/exporter/server";
import { filesBelow, waitUntil } from "../../support/cli";
import { exporterFor, http, parseSamples, sampleOf, simulatedSetup, type SimulatedSetup } from "../../support/exporter";
import { tempDir } from "../../support/facility";

const FAMILY_NAMES = new Set(METRIC_FAMILIES.map((f) => f.name));

describe("hkex-ready exporter", () => {
  const dir = tempDir("exporter");
  let setup: SimulatedSetup;
  let exporter: RunningExporter;

  beforeAll(async () => {
    setup = await simulatedSetup(dir);
    exporter = await exporterFor(setup.configFile);
  });
  afterAll(async () => {
    await exporter?.close();
    await setup?.sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs the check at scrape time and answers with that probe's metrics only", async () => {
    const before = setup.sim.stats().connections;
    const r = await http(`${exporter.url}/probe?site=secondary`, { headers: { "X-Prometheus-Scrape-Timeout-Seconds": "10" } });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    const samples = parseSamples(r.body);
    const success = samples.filter((s) => s.name === "hkex_sftp_probe_success");
    expect(success.map((s) => [s.labels.site, s.labels.host, s.value])).toEqual([
      ["secondary", "127.0.152.141", 1],
      ["secondary", "127.0.152.142", 1],
    ]);
    // Only the families of checks/metrics.ts, and only the secondary endpoints.
    expect(samples.every((s) => FAMILY_NAMES.has(s.name))).toBe(true);
    expect(samples.filter((s) => s.labels.site !== undefined && s.labels.site !== "secondary")).toEqual([]);
    // A skip is never a pass: the download was not asked for.
    expect(sampleOf(samples, "hkex_sftp_phase_status", { host: "127.0.152.141", phase: "download", status: "skip" }).value).toBe(1);
    expect(sampleOf(samples, "hkex_sftp_phase_status", { host: "127.0.152.141", phase: "download", status: "pass" }).value).toBe(0);
    // The phase timeouts are capped by the scrape's: 10 s less the 0.5 s margin.
    expect(sampleOf(samples, "hkex_sftp_phase_timeout_seconds", { host: "127.0.152.141", phase: "auth" }).value).toBe(4);
    expect(sampleOf(samples, "hkex_sftp_host_key_info", { host: "127.0.152.141" }).labels).toMatchObject({
      type: "ssh-ed25519",
      status: "match",
      fingerprint: setup.sim.hostKeyFingerprints.secondary,
    });
    expect(setup.sim.stats().connections - before).toBe(2);
  });

  it("refuses a host or site the config does not name with 400, and contacts nothing", async () => {
    const before = setup.sim.stats().connections;
    const cases: [string, number, RegExp][] = [
      [
        "site=primary&host=10.151.14.141",
        400,
        /host: "10\.151\.14\.141" is not an endpoint of site primary in the config; nothing was contacted/,
      ],
      ["site=primary&host=127.0.152.141", 400, /is not an endpoint of site primary/],
      ["site=tertiary", 400, /site: "tertiary" is not primary, secondary or all/],
      ["", 400, /site: required/],
      ["site=all&target=10.0.0.1", 400, /"target" is not a parameter of \/probe/],
      ["site=all&site=primary", 400, /site: given more than once/],
      ["site=all&download=yes", 400, /download: "yes" is not 1, true, 0 or false/],
      ["site=all&download=1", 403, /downloads on scrape are off; set monitoring\.allowDownload: true/],
    ];
    for (const [query, status, message] of cases) {
      const r = await http(`${exporter.url}/probe?${query}`);
      expect([query, r.status]).toEqual([query, status]);
      expect(r.body).toMatch(message);
    }
    const bad = await http(`${exporter.url}/probe?site=all`, { headers: { "X-Prometheus-Scrape-Timeout-Seconds": "soon" } });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain("X-Prometheus-Scrape-Timeout-Seconds");
    expect(setup.sim.stats().connections).toBe(before);
  });

  it("probes one configured host when asked for it", async () => {
    const host = setup.sim.configSites().primary.hosts[1]!;
    const r = await http(`${exporter.url}/probe?site=primary&host=${encodeURIComponent(host)}`);
    expect(r.status).toBe(200);
    expect(
      parseSamples(r.body)
        .filter((s) => s.name === "hkex_sftp_probe_success")
        .map((s) => s.labels.host),
    ).toEqual(["127.0.151.142"]);
  });

  it("lets concurrent scrapes of the same target share one probe", async () => {
    const before = setup.sim.stats().connections;
    const shared = () => Number(/outcome="shared"} (\d+)/.exec(scrapeSelf)?.[1]);
    let scrapeSelf = (await http(`${exporter.url}/metrics`)).body;
    const sharedBefore = shared();
    const answers = await Promise.all(Array.from({ length: 20 }, () => http(`${exporter.url}/probe?site=primary`)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    // One probe: one connection per primary endpoint.
    expect(setup.sim.stats().connections - before).toBe(2);
    scrapeSelf = (await http(`${exporter.url}/metrics`)).body;
    expect(shared() - sharedBefore).toBe(19);
  });

  it("reports the failing phase and its cause code, and the HELP of every family once", async () => {
    await setup.sim.setFault("10.152.14.142", "reject-auth");
    try {
      const r = await http(`${exporter.url}/probe?site=secondary`);
      const samples = parseSamples(r.body);
      expect(sampleOf(samples, "hkex_sftp_probe_success", { host: "127.0.152.142" }).value).toBe(0);
      expect(sampleOf(samples, "hkex_sftp_probe_failure_info", { host: "127.0.152.142" }).labels).toMatchObject({
        phase: "auth",
        code: "auth-rejected",
      });
      // The server's words stay out of the labels: only the closed set of codes.
      expect(r.body).not.toMatch(/rejected publickey/);
      const helps = r.body.split("\n").filter((l) => l.startsWith("# HELP "));
      expect(new Set(helps).size).toBe(helps.length);
    } finally {
      await setup.sim.setFault("10.152.14.142", "none");
    }
  });

  it("ends a probe at the scrape's deadline and caps every phase timeout by it", async () => {
    await setup.sim.setFault("10.151.14.141", "silent");
    try {
      const started = Date.now();
      const r = await http(`${exporter.url}/probe?site=primary`, { headers: { "X-Prometheus-Scrape-Timeout-Seconds": "2" } });
      const took = Date.now() - started;
      expect(r.status).toBe(200);
      const samples = parseSamples(r.body);
      expect(sampleOf(samples, "hkex_sftp_probe_failure_info", { host: "127.0.151.141" }).labels).toMatchObject({
        phase: "banner",
        code: "no-banner",
      });
      expect(sampleOf(samples, "hkex_sftp_phase_timeout_seconds", { host: "127.0.151.141", phase: "banner" }).value).toBe(1.5);
      // The config's handshakeMs is 4 s; the answer came within the scrape's 2 s (plus scheduling slack).
      expect(took).toBeLessThan(4000);
    } finally {
      await setup.sim.setFault("10.151.14.141", "none");
    }
  });

  it("serves /metrics, /-/healthy and a page, and refuses other paths and methods", async () => {
    const m = await http(`${exporter.url}/metrics`);
    expect(m.status).toBe(200);
    for (const name of [
      "process_cpu_seconds_total",
      "nodejs_heap_size_used_bytes",
      "hkex_sftp_exporter_probes_total",
      "hkex_sftp_exporter_probe_duration_seconds_bucket",
      "hkex_sftp_exporter_config_reloads_total",
      "hkex_sftp_exporter_probes_in_flight",
    ]) {
      expect(m.body).toContain(`\n${name}`);
    }
    expect((await http(`${exporter.url}/-/healthy`)).status).toBe(200);
    const page = await http(`${exporter.url}/`);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.body).toContain('href="probe?site=primary"');
    expect((await http(`${exporter.url}/nope`)).status).toBe(404);
    expect((await http(`${exporter.url}/probe?site=all`, { method: "POST" })).status).toBe(405);
    expect((await http(`${exporter.url}/-/reload`)).status).toBe(405);
  });

  it("aborts a probe that no scrape waits for any more", async () => {
    await setup.sim.setFault("10.152.14.141", "silent");
    try {
      const aborted = () => Number(/probes_total\{site="secondary",result="aborted"\} (\d+)/.exec(self)?.[1] ?? 0);
      let self = (await http(`${exporter.url}/metrics`)).body;
      const before = aborted();
      const walkAway = new AbortController();
      const pending = http(`${exporter.url}/probe?site=secondary`, { signal: walkAway.signal }).catch((e: Error) => e.name);
      await waitUntil(() => setup.sim.stats().activeConnections > 0);
      walkAway.abort();
      expect(await pending).toBe("AbortError");
      await waitUntil(() => setup.sim.stats().activeConnections === 0);
      self = (await http(`${exporter.url}/metrics`)).body;
      expect(aborted() - before).toBe(1);
      expect(self).toMatch(/probe_requests_total\{outcome="client-gone"\} [1-9]/);
    } finally {
      await setup.sim.setFault("10.152.14.141", "none");
    }
  });
});

describe("hkex-ready exporter limits", () => {
  const dir = tempDir("exporter-limits");
  let setup: SimulatedSetup;
  let exporter: RunningExporter;

  beforeAll(async () => {
    setup = await simulatedSetup(dir, { timeouts: { connectMs: 2000, handshakeMs: 1500, operationMs: 2000, transferMs: 5000 } });
    exporter = await exporterFor(setup.configFile, { limits: { maxRunning: 1, maxQueued: 1, maxWaiters: 2 } });
  });
  afterAll(async () => {
    await exporter?.close();
    await setup?.sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 429 past the waiters of one probe and 503 past the queue, and still serves what it took on", async () => {
    // A silent secondary makes its probe last the 1.5 s banner timeout.
    await Promise.all([setup.sim.setFault("10.152.14.141", "silent"), setup.sim.setFault("10.152.14.142", "silent")]);
    try {
      const a = http(`${exporter.url}/probe?site=secondary`);
      await waitUntil(() => setup.sim.stats().activeConnections >= 2);
      const b = http(`${exporter.url}/probe?site=secondary`);
      const c = await http(`${exporter.url}/probe?site=secondary`);
      expect(c.status).toBe(429);
      expect(c.headers["retry-after"]).toBe("5");
      const queued = http(`${exporter.url}/probe?site=primary`);
      await new Promise((r) => setTimeout(r, 50));
      const full = await http(`${exporter.url}/probe?site=all`);
      expect(full.status).toBe(503);
      expect(full.body).toContain("too many probes running and queued");
      const [ra, rb, rq] = await Promise.all([a, b, queued]);
      expect([ra.status, rb.status, rq.status]).toEqual([200, 200, 200]);
      expect(ra.body).toBe(rb.body);
      expect(sampleOf(parseSamples(ra.body), "hkex_sftp_probe_failure_info", { host: "127.0.152.141" }).labels.code).toBe("no-banner");
      expect(
        parseSamples(rq.body)
          .filter((s) => s.name === "hkex_sftp_probe_success")
          .map((s) => s.value),
      ).toEqual([1, 1]);
      const self = (await http(`${exporter.url}/metrics`)).body;
      expect(self).toContain('hkex_sftp_exporter_probe_requests_total{outcome="too-many-waiters"} 1');
      expect(self).toContain('hkex_sftp_exporter_probe_requests_total{outcome="queue-full"} 1');
    } finally {
      await Promise.all([setup.sim.setFault("10.152.14.141", "none"), setup.sim.setFault("10.152.14.142", "none")]);
    }
  });
});

describe("hkex-ready exporter downloads and reloads", () => {
  const dir = tempDir("exporter-download");
  let setup: SimulatedSetup;
  let exporter: RunningExporter;
  const logs: string[] = [];

  beforeAll(async () => {
    setup = await simulatedSetup(dir, { monitoring: { allowDownload: true, maxFileBytes: 64 } });
    exporter = await exporterFor(setup.configFile, { log: (l) => logs.push(l) });
  });
  afterAll(async () => {
    await exporter?.close();
    await setup?.sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a file larger than monitoring.maxFileBytes before reading any of it", async () => {
    const host = setup.sim.configSites().primary.hosts[0]!;
    const r = await http(`${exporter.url}/probe?site=primary&host=${encodeURIComponent(host)}&download=1`);
    const samples = parseSamples(r.body);
    expect(sampleOf(samples, "hkex_sftp_probe_failure_info", { host: "127.0.151.141" }).labels).toMatchObject({
      phase: "download",
      code: "file-too-large",
    });
    expect(filesBelow(join(dir, "downloads"))).toEqual([]);
  });

  it("stops a probe whose phases outlast the scrape together, as interrupted, and still answers in time", async () => {
    // No margin: the backstop falls at the scrape's deadline, before a download capped at the same length can time out.
    setup.writeConfig({ monitoring: { allowDownload: true } });
    const tight = await exporterFor(setup.configFile, { timeoutMarginMs: 0 });
    await setup.sim.setFault("10.151.14.142", "stall-mid-transfer");
    try {
      const host = setup.sim.configSites().primary.hosts[1]!;
      const started = Date.now();
      const r = await http(`${tight.url}/probe?site=primary&host=${encodeURIComponent(host)}&download=1`, {
        headers: { "X-Prometheus-Scrape-Timeout-Seconds": "1.5" },
      });
      const took = Date.now() - started;
      const samples = parseSamples(r.body);
      expect(sampleOf(samples, "hkex_sftp_phase_timeout_seconds", { phase: "download" }).value).toBe(1.5);
      expect(sampleOf(samples, "hkex_sftp_probe_failure_info", {}).labels).toMatchObject({ phase: "download", code: "interrupted" });
      expect(took).toBeLessThan(1500 + 2000 + 1000);
      expect(filesBelow(join(dir, "downloads")).filter((f) => f.includes("127.0.151.142"))).toEqual([]);
    } finally {
      await setup.sim.setFault("10.151.14.142", "none");
      await tight.close();
    }
  });

  it("downloads on scrape when allowed, with bytes and SHA-256 per configured file; a bad reload keeps the config", async () => {
    setup.writeConfig({ monitoring: { allowDownload: true } });
    const reloaded = await http(`${exporter.url}/-/reload`, { method: "POST" });
    expect(reloaded.status).toBe(200);
    const r = await http(`${exporter.url}/probe?site=secondary&download=1`);
    const samples = parseSamples(r.body);
    expect(sampleOf(samples, "hkex_sftp_probe_success", { host: "127.0.152.141" }).value).toBe(1);
    const tp001 = sampleOf(samples, "hkex_sftp_download_bytes", { host: "127.0.152.141", file: "TP001" });
    expect(tp001.value).toBeGreaterThan(64);
    expect(sampleOf(samples, "hkex_sftp_download_sha256_info", { host: "127.0.152.141", file: "TP001" }).labels.sha256).toMatch(
      /^[0-9a-f]{64}$/,
    );
    // Each kind of scrape downloads into its own folder, each endpoint into its own below it.
    expect(filesBelow(join(dir, "downloads")).filter((f) => f.endsWith("TP001"))).toEqual([
      expect.stringMatching(/^exporter-secondary_download\/secondary-127\.0\.152\.141-\d+\/TP001$/),
      expect.stringMatching(/^exporter-secondary_download\/secondary-127\.0\.152\.142-\d+\/TP001$/),
    ]);

    // A broken config: the reload fails, is counted, and the old config stays in use.
    setup.writeConfig({ monitoring: { allowDownload: "yes" }, files: [] });
    const failed = await http(`${exporter.url}/-/reload`, { method: "POST" });
    expect(failed.status).toBe(500);
    expect(failed.body).toContain("monitoring.allowDownload: must be boolean");
    expect(failed.body).toContain("files: must name one or two files or globs");
    expect(logs.some((l) => l.startsWith("config reload failed, keeping the previous config"))).toBe(true);
    expect((await http(`${exporter.url}/probe?site=secondary&download=1`)).status).toBe(200);
    const self = (await http(`${exporter.url}/metrics`)).body;
    expect(self).toContain('hkex_sftp_exporter_config_reloads_total{result="failure"} 1');
    expect(self).toContain('hkex_sftp_exporter_config_reloads_total{result="success"} 1');
    expect(self).toContain("hkex_sftp_exporter_config_last_reload_successful 0");

    // A good one with downloads off again: now refused.
    setup.writeConfig({});
    expect(exporter.reload()).toEqual({ ok: true });
    expect((await http(`${exporter.url}/probe?site=secondary&download=1`)).status).toBe(403);
  });
});
