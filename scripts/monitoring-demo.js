#!/usr/bin/env node
// `npm run monitoring:demo`: the simulator, `hkex-ready exporter` and a real
// Prometheus (Debian's /usr/bin/prometheus, with the shipped scrape config and
// alert rules) together on loopback, until Ctrl-C. docs/monitoring.md.
//
//   npm run monitoring:demo [-- --fault 10.152.14.142=refuse] [--exporter-port N] [--prometheus-port N] [--dir DIR]
//
// Port 0 picks a free port. Everything it writes goes to --dir (default
// ./monitoring-demo): the simulator's key, known_hosts and config, the
// Prometheus config and its data.
const { spawn } = require("node:child_process");
const { mkdirSync, writeFileSync } = require("node:fs");
const { createServer } = require("node:net");
const { join, resolve } = require("node:path");

const dist = join(__dirname, "..", "dist");
const { startSimulation } = require(join(dist, "cli", "commands", "simulate.js"));
const { loadAll } = require(join(dist, "checks", "inputs.js"));
const { startExporter } = require(join(dist, "checks", "exporter", "server.js"));
const { adaptPrometheusConfig } = require(join(dist, "checks", "exporter", "prometheusConfig.js"));

const PROMETHEUS = process.env.PROMETHEUS_BINARY || "/usr/bin/prometheus";

function parseArgs(argv) {
  const opts = { fault: [], exporterPort: 9918, prometheusPort: 9090, dir: "monitoring-demo" };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--fault") opts.fault.push(value);
    else if (flag === "--exporter-port") opts.exporterPort = Number(value);
    else if (flag === "--prometheus-port") opts.prometheusPort = Number(value);
    else if (flag === "--dir") opts.dir = value;
    else throw new Error(`unknown option ${flag}`);
    i++;
  }
  return opts;
}

/** A free loopback port, when 0 is asked for: Prometheus does not report the port it picked. */
function freePort(port) {
  if (port !== 0) return Promise.resolve(port);
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const chosen = s.address().port;
      s.close(() => ok(chosen));
    });
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const dir = resolve(opts.dir);
  const { sim, files } = await startSimulation({ dir: join(dir, "simulator"), fault: opts.fault, port: 0 });
  const exporter = await startExporter({
    host: "127.0.0.1",
    port: opts.exporterPort,
    load: () => loadAll(files.configFile),
    log: (line) => process.stderr.write(`exporter: ${line}\n`),
  });
  const promPort = await freePort(opts.prometheusPort);
  const promDir = join(dir, "prometheus");
  mkdirSync(join(promDir, "data"), { recursive: true });
  const address = `127.0.0.1:${exporter.address.port}`;
  writeFileSync(join(promDir, "prometheus.yml"), adaptPrometheusConfig({ exporterAddress: address, interval: "5s" }));
  const prometheus = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(promDir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(promDir, "data")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  const api = `http://127.0.0.1:${promPort}`;
  const graph = `${api}/graph?g0.expr=${encodeURIComponent("hkex_sftp_phase_duration_seconds")}&g0.tab=0&g0.range_input=15m`;
  process.stdout.write(
    [
      "HKEX SFTP monitoring demo (loopback only)",
      `  simulator   ${sim.endpoints.map((e) => `${e.bindHost}:${e.port}${e.fault === "none" ? "" : ` [${e.fault}]`}`).join(", ")}`,
      `  exporter    ${exporter.url}/  (probe: ${exporter.url}/probe?site=all)`,
      `  prometheus  ${api}/  (scrapes every 5 s; alerts: ${api}/alerts)`,
      `  graph:      ${graph}`,
      "Ctrl-C stops all three.",
      "",
    ].join("\n"),
  );
  let stopping = false;
  const stop = async (why) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${why}: stopping\n`);
    if (prometheus.exitCode === null) {
      const gone = new Promise((r) => prometheus.once("exit", r));
      prometheus.kill("SIGTERM");
      await gone;
    }
    await exporter.close();
    await sim.close();
    process.exit(0);
  };
  prometheus.once("exit", (code) => void stop(`prometheus exited (${code})`));
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((err) => {
  process.stderr.write(`monitoring-demo: ${err.message}\n`);
  process.exit(1);
});
