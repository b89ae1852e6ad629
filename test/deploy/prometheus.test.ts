/**
 * A real Prometheus (Debian's /usr/bin/prometheus) scraping `hkex-ready
 * exporter` in front of the simulator, with the shipped scrape config
 * (deploy/prometheus/prometheus.yml) adapted to the test's ports and a short
 * interval, and the shipped rules loaded. Everything listens on loopback.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adaptPrometheusConfig, shippedPrometheusConfigPath } from "../../checks/exporter/prometheusConfig";
import { startCli, waitUntil, type RunningCli } from "../support/cli";
import { http, simulatedSetup, type SimulatedSetup } from "../support/exporter";
import { tempDir } from "../support/facility";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface VectorResult {
  metric: Record<string, string>;
  value: [number, string];
}

describe("Prometheus scraping the exporter", () => {
  const dir = tempDir("prometheus");
  let setup: SimulatedSetup;
  let exporter: RunningCli;
  let prometheus: ChildProcess;
  let promLog = "";
  let api = "";

  async function query(q: string): Promise<VectorResult[]> {
    const r = await http(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
    if (r.status !== 200) throw new Error(`${q}: ${r.status} ${r.body}`);
    return (JSON.parse(r.body) as { data: { result: VectorResult[] } }).data.result;
  }

  async function eventually(q: string, accept: (r: VectorResult[]) => boolean): Promise<VectorResult[]> {
    let last: VectorResult[] = [];
    for (let i = 0; i < 150; i++) {
      if (prometheus.exitCode !== null) throw new Error(`prometheus exited (${prometheus.exitCode}):\n${promLog}`);
      last = await query(q).catch(() => []);
      if (accept(last)) return last;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${q} never matched; last: ${JSON.stringify(last)}\nprometheus log:\n${promLog.slice(-2000)}`);
  }

  beforeAll(async () => {
    setup = await simulatedSetup(dir, { timeouts: { connectMs: 1000, handshakeMs: 1500, operationMs: 1500, transferMs: 5000 } });
    exporter = startCli(["exporter", "--config", setup.configFile, "--listen", "127.0.0.1:0"]);
    await waitUntil(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(exporter.stdout()) || exporter.child.exitCode !== null);
    const address = /listening on http:\/\/(127\.0\.0\.1:\d+)/.exec(exporter.stdout())![1]!;

    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    const configFile = join(dir, "prometheus.yml");
    // The shipped file, its relabelling as it is: only the exporter's address, a 2 s interval and the rules' path change.
    expect(shippedPrometheusConfigPath()).toBe(join(__dirname, "..", "..", "deploy", "prometheus", "prometheus.yml"));
    writeFileSync(configFile, adaptPrometheusConfig({ exporterAddress: address, interval: "2s" }));
    mkdirSync(join(dir, "tsdb"));
    prometheus = spawn(
      "/usr/bin/prometheus",
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    prometheus.stdout!.on("data", (d: Buffer) => (promLog += d.toString()));
    prometheus.stderr!.on("data", (d: Buffer) => (promLog += d.toString()));
  }, 60_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const gone = new Promise((r) => prometheus.once("exit", r));
      prometheus.kill("SIGTERM");
      await gone;
    }
    if (exporter && exporter.child.exitCode === null) {
      exporter.child.kill("SIGTERM");
      const r = await exporter.exited;
      expect(r.code).toBe(0);
    }
    await setup?.sim.close();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("sees four hkex_sftp_probe_success series equal to 1, one per endpoint, labelled by site and instance", async () => {
    const result = await eventually("hkex_sftp_probe_success", (r) => r.length === 4 && r.every((s) => s.value[1] === "1"));
    expect(result.map((s) => `${s.metric.instance} ${s.metric.site} ${s.metric.host}`).sort()).toEqual([
      "primary primary 127.0.151.141",
      "primary primary 127.0.151.142",
      "secondary secondary 127.0.152.141",
      "secondary secondary 127.0.152.142",
    ]);
    expect(result.every((s) => s.metric.job === "hkex_sftp")).toBe(true);
    // The exporter's own metrics are scraped too, and the shipped rules loaded.
    await eventually('up{job="hkex_sftp_exporter"}', (r) => r.length === 1 && r[0]!.value[1] === "1");
    await eventually("hkex_sftp_exporter_probes_total", (r) => r.some((s) => Number(s.value[1]) > 0));
    const rules = JSON.parse((await http(`${api}/api/v1/rules`)).body) as {
      data: { groups: { name: string; rules: { name: string; health: string }[] }[] };
    };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name)).toContain("HkexSftpEndpointDown");
    expect(loaded.every((r) => r.health !== "err")).toBe(true);
  }, 60_000);

  it("after a fault switch, the affected series goes to 0 with the failing phase and cause code", async () => {
    await setup.sim.setFault("10.152.14.142", "down");
    try {
      await eventually('hkex_sftp_probe_success{host="127.0.152.142"}', (r) => r.length === 1 && r[0]!.value[1] === "0");
      // A scrape that raced the switch may show the connection being cut (connection-closed); the next ones show the refusal.
      const failure = await eventually(
        'hkex_sftp_probe_failure_info{host="127.0.152.142"} == 1',
        (r) => r.length === 1 && r[0]!.metric.code === "refused",
      );
      expect(failure[0]!.metric).toMatchObject({ instance: "secondary", site: "secondary", phase: "tcp", code: "refused" });
      const others = await query("hkex_sftp_probe_success == 1");
      expect(others.map((s) => s.metric.host).sort()).toEqual(["127.0.151.141", "127.0.151.142", "127.0.152.141"]);
      const status = await query('hkex_sftp_phase_status{host="127.0.152.142",phase="banner"} == 1');
      expect(status.map((s) => s.metric.status)).toEqual(["skip"]);
    } finally {
      await setup.sim.setFault("10.152.14.142", "none");
    }
  }, 60_000);
});
