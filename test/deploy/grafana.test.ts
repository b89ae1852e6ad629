/**
 * The Grafana dashboard (deploy/grafana/hkex-sftp.json) parses, and every
 * query in it names a metric the exporter really emits: the names come from a
 * real scrape of the exporter in front of the simulator (/probe with a failure
 * and a download, and /metrics) and from the metrics module, not a hand list.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRIC_FAMILIES } from "../../checks/metrics";
import type { RunningExporter } from "../../checks/exporter/server";
import { exporterFor, http, metricNames, parseSamples, simulatedSetup, type SimulatedSetup } from "../support/exporter";
import { tempDir } from "../support/facility";

/** Grafana's reference to the dashboard's data source variable. */
const DATASOURCE = ["$", "{datasource}"].join("");
const DASHBOARD = join(__dirname, "..", "..", "deploy", "grafana", "hkex-sftp.json");

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; refId: string }[];
  panels?: Panel[];
}

describe("Grafana dashboard", () => {
  const dir = tempDir("grafana");
  let setup: SimulatedSetup;
  let exporter: RunningExporter;
  const emitted = new Set<string>(["up"]);

  beforeAll(async () => {
    setup = await simulatedSetup(dir, { monitoring: { allowDownload: true } });
    exporter = await exporterFor(setup.configFile);
    await setup.sim.setFault("10.152.14.142", "reject-auth");
    const scrapes = [await http(`${exporter.url}/probe?site=all&download=1`), await http(`${exporter.url}/metrics`)];
    await setup.sim.setFault("10.152.14.142", "none");
    for (const s of scrapes) for (const sample of parseSamples(s.body)) emitted.add(sample.name);
  }, 30_000);
  afterAll(async () => {
    await exporter?.close();
    await setup?.sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
    uid: string;
    title: string;
    panels: Panel[];
    templating: { list: { name: string; type: string; query: string | { query: string } }[] };
  };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const exprs = [
    ...panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...dashboard.templating.list
      .filter((v) => v.type === "query")
      .map((v) => (typeof v.query === "string" ? v.query : v.query.query).replace(/^label_values\(([^,]+),.*\)$/, "$1")),
  ];

  it("parses, with unique panel ids and every query on the chosen Prometheus data source", () => {
    expect(dashboard.uid).toBe("hkex-sftp-readiness");
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels.filter((x) => x.type !== "row")) {
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: DATASOURCE });
      expect(p.targets?.length ?? 0, p.title).toBeGreaterThan(0);
    }
    expect(exprs.length).toBeGreaterThan(10);
  });

  it("shows per-endpoint phase status and durations", () => {
    const titles = panels.map((p) => p.title);
    expect(titles).toEqual(expect.arrayContaining(["Phase status per endpoint", "Phase durations"]));
    const status = panels.find((p) => p.title === "Phase status per endpoint")!;
    expect(status.targets![0]!.expr).toMatch(/hkex_sftp_phase_status/);
    expect(status.targets![0]!.expr).toMatch(/by \(site, host, port, phase\)/);
  });

  it("queries only metrics the exporter emits (a real scrape, and the metrics module)", () => {
    // The module and a real scrape agree: every family but the session-calendar ones shows up in the scrape.
    for (const f of METRIC_FAMILIES) {
      if (!f.name.startsWith("hkex_sftp_next_session_")) expect(emitted.has(f.name), f.name).toBe(true);
      emitted.add(f.name);
    }
    const named = exprs.flatMap(metricNames);
    expect(named.length).toBeGreaterThan(10);
    expect([...new Set(named)].filter((n) => !emitted.has(n))).toEqual([]);
    // The extraction itself: a misspelt name would be caught.
    expect(metricNames('max by (site) (hkex_sftp_probe_sucess{site=~"$site"}) - time()')).toEqual(["hkex_sftp_probe_sucess"]);
  });
});
