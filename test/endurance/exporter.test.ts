/**
 * Endurance of the exporter: 10,000 scrapes against one exporter in front of
 * one simulator, in one process, in waves as a busy Prometheus (or a flood)
 * would send them: most share the probe in flight for their site, the rest are
 * refused (an unknown host, a download not allowed) or ask for /metrics.
 * Open file descriptors, active handles and the heap (after a forced GC) stay
 * within a small fixed bound of what they were after the first waves; every
 * probe answer is a 200, and scrapes that arrive while a probe is in flight
 * share it, so far fewer probes reach the facility than scrapes ask for one.
 */
import { Agent } from "node:http";
import { readdirSync, rmSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningExporter } from "../../checks/exporter/server";
import { exporterFor, http, simulatedSetup, type SimulatedSetup } from "../support/exporter";
import { tempDir } from "../support/facility";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const SCRAPES = 10_000;
const WAVE = 200;
/** Of each wave: scrapes of the wave's site, which share the probe in flight; the rest are refused or ask for /metrics. */
const SHARING = 180;
const BASELINE_AFTER_WAVES = 5;
const HANDLE_SLACK = 8;
/**
 * Seen: no growth. Keeping a copy of every answer alive adds about 10 MB, and a
 * socket or probe leaked per wave far more than this; a few MB is V8 and
 * prom-client warming up.
 */
const HEAP_SLACK_BYTES = 4 * 1024 * 1024;

interface Sample {
  fds: number;
  handles: number;
  heap: number;
}

function sample(): Sample {
  gc();
  gc();
  return {
    fds: readdirSync("/proc/self/fd").length,
    handles: process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap").length,
    heap: process.memoryUsage().heapUsed,
  };
}

describe("exporter endurance", () => {
  const dir = tempDir("exporter-endurance");
  let setup: SimulatedSetup;
  let exporter: RunningExporter;
  const agent = new Agent({ keepAlive: true, maxSockets: WAVE });
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    process.on("unhandledRejection", onRejection);
    setup = await simulatedSetup(dir, { timeouts: { connectMs: 2000, handshakeMs: 3000, operationMs: 3000, transferMs: 5000 } });
    exporter = await exporterFor(setup.configFile, { limits: { maxRunning: 4, maxQueued: 8, maxWaiters: WAVE } });
  });
  afterAll(async () => {
    process.off("unhandledRejection", onRejection);
    agent.destroy();
    await exporter?.close();
    await setup?.sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function settled(): Promise<void> {
    while (setup.sim.stats().activeConnections > 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setImmediate(r));
  }

  it(`${SCRAPES} scrapes: descriptors, handles and heap stay bounded, and concurrent scrapes share probes`, async () => {
    let base: Sample | undefined;
    let sent = 0;
    let probeAnswers = 0;
    const connectionsBefore = setup.sim.stats().connections;
    const waves = SCRAPES / WAVE;
    for (let w = 1; w <= waves; w++) {
      const site = w % 2 === 0 ? "primary" : "secondary";
      const requests: Promise<{ status: number; body: string; kind: string }>[] = [];
      for (let i = 0; i < WAVE; i++) {
        let path: string;
        let kind: string;
        if (i < SHARING) [path, kind] = [`/probe?site=${site}`, "probe"];
        else if (i % 3 === 0) [path, kind] = [`/probe?site=${site}&host=10.0.0.${i}`, "unknown-host"];
        else if (i % 3 === 1) [path, kind] = [`/probe?site=all&download=1`, "download"];
        else [path, kind] = ["/metrics", "metrics"];
        requests.push(
          http(`${exporter.url}${path}`, { agent, headers: { "X-Prometheus-Scrape-Timeout-Seconds": "10" } }).then((r) => ({
            status: r.status,
            body: r.body,
            kind,
          })),
        );
      }
      const answers = await Promise.all(requests);
      sent += answers.length;
      const probes = answers.filter((a) => a.kind === "probe");
      expect(
        probes.every((a) => a.status === 200),
        `wave ${w}`,
      ).toBe(true);
      expect(probes[0]!.body).toContain(`hkex_sftp_probe_success{site="${site}",host=`);
      expect(answers.filter((a) => a.kind === "unknown-host").every((a) => a.status === 400)).toBe(true);
      expect(answers.filter((a) => a.kind === "download").every((a) => a.status === 403)).toBe(true);
      probeAnswers += probes.length;
      if (w === BASELINE_AFTER_WAVES) {
        await settled();
        base = sample();
      }
    }
    await settled();
    const after = sample();
    expect(sent).toBe(SCRAPES);
    expect(probeAnswers).toBe(waves * SHARING);
    const label = JSON.stringify({ base, after });
    expect(after.fds, label).toBeLessThanOrEqual(base!.fds + HANDLE_SLACK);
    expect(after.handles, label).toBeLessThanOrEqual(base!.handles + HANDLE_SLACK);
    expect(after.heap, label).toBeLessThanOrEqual(base!.heap + HEAP_SLACK_BYTES);
    expect(rejections).toEqual([]);
    // Every probe request started a probe or shared one; each probe logged in to the site's two endpoints, nothing else did.
    const self = (await http(`${exporter.url}/metrics`, { agent })).body;
    const count = (outcome: string) => Number(new RegExp(`probe_requests_total\\{outcome="${outcome}"\\} (\\d+)`).exec(self)![1]);
    expect(count("started") + count("shared")).toBe(probeAnswers);
    expect(setup.sim.stats().connections - connectionsBefore).toBe(count("started") * 2);
    expect(count("started")).toBeLessThan(probeAnswers / 4);
  }, 240_000);
});
