/**
 * The exporter's tests: a simulated facility with a YAML config, key and
 * known_hosts on disk (what the exporter loads and reloads), a running
 * exporter in front of it, HTTP requests, and the samples of an answer in the
 * Prometheus text format. Everything stays on loopback.
 */
import { request } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadAll } from "../../checks/inputs";
import { startExporter, type ExporterOptions, type RunningExporter } from "../../checks/exporter/server";
import { startSimulator, type RunningSimulator } from "../../checks/simulator";
import { newUserKey, type TestKey } from "./facility";
import { assertLoopbackHost } from "./loopback";

export interface SimulatedSetup {
  readonly sim: RunningSimulator;
  readonly key: TestKey;
  readonly dir: string;
  readonly configFile: string;
  /** Rewrites the config file with these fields over the base ones (sites, key, known_hosts). */
  writeConfig(fields?: Record<string, unknown>): void;
}

/** A simulator on loopback aliases (port 0) and a config for all four endpoints, with its host keys pinned. */
export async function simulatedSetup(dir: string, fields: Record<string, unknown> = {}): Promise<SimulatedSetup> {
  const key = newUserKey(dir);
  const sim = await startSimulator({ authorizedKeys: [key.publicLine], user: "CP0001", port: 0, bind: "aliases" });
  writeFileSync(join(dir, "known_hosts"), sim.knownHosts());
  const configFile = join(dir, "hkex.yaml");
  const sites = sim.configSites();
  const writeConfig = (extra: Record<string, unknown> = fields) =>
    writeFileSync(
      configFile,
      stringify({
        user: "CP0001",
        identityFile: key.privatePath,
        knownHostsFile: "./known_hosts",
        files: ["TP001", "TP002"],
        downloadDir: "./downloads",
        sites: { primary: { hosts: sites.primary.hosts }, secondary: { hosts: sites.secondary.hosts } },
        timeouts: { connectMs: 2000, handshakeMs: 4000, operationMs: 4000, transferMs: 10000 },
        ...extra,
      }),
    );
  writeConfig(fields);
  return { sim, key, dir, configFile, writeConfig };
}

/** An exporter on 127.0.0.1 (port 0) loading `configFile` the way the CLI does. */
export function exporterFor(configFile: string, extra: Partial<ExporterOptions> = {}): Promise<RunningExporter> {
  return startExporter({ host: "127.0.0.1", port: 0, load: () => loadAll(configFile), ...extra });
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One HTTP request to a loopback URL; `signal` lets a test walk away before the answer. */
export function http(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; signal?: AbortSignal; agent?: import("node:http").Agent } = {},
): Promise<HttpAnswer> {
  const u = new URL(url);
  assertLoopbackHost("url", u.hostname.replace(/^\[|\]$/g, ""));
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      { method: opts.method ?? "GET", headers: opts.headers, signal: opts.signal, ...(opts.agent ? { agent: opts.agent } : {}) },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of a text-format answer (labels unescaped), for assertions. */
export function parseSamples(text: string): ParsedSample[] {
  const out: ParsedSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
    }
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}

/** The one sample of `name` whose labels include `labels`; throws when there is not exactly one. */
export function sampleOf(samples: readonly ParsedSample[], name: string, labels: Record<string, string> = {}): ParsedSample {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]!;
}

const PROMQL_WORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "offset",
  "and",
  "or",
  "unless",
  "inf",
  "nan",
]);

/** The metric names a PromQL expression selects: identifiers that are not functions, keywords, labels or strings. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\{?\w+\}?/g, " ");
  const names: string[] = [];
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = stripped.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith("(")) continue;
    if (PROMQL_WORDS.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return names;
}
