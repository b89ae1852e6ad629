/**
 * `npm run bench`: the kit against OpenSSH's sftp and rclone, on this machine,
 * on loopback only: over loopback itself and over simulated long lines (the
 * test harness's latency and bandwidth proxy). It starts its own sshd
 * (installing OpenSSH and rclone when missing), measures whole processes as an
 * operator would run them, prints a table and writes bench/results.json. It is
 * not a test: timing never makes it fail; it exits non-zero only when something
 * could not be measured or a downloaded file was not byte-identical to its source.
 *
 *   npm run bench                     every line profile, memory, time to verdict (about 25 minutes on a busy 2-core machine)
 *   npm run bench -- --runs 9         more alternating runs on loopback (default 7, at least 3)
 *   npm run bench -- --line-runs 7    more alternating runs per long line (default 5, at least 3)
 *   npm run bench -- --all-memory     also the 1 GiB memory run at 20 Mbit/s (7 minutes more)
 *   npm run bench -- --levers         also each download lever on its own, per line
 *   npm run bench -- --only lines     only the line profiles (or: memory, verdict, levers)
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { DOWNLOAD_TUNING } from "../checks/download";
import { startProxy, type TcpProxy } from "../test/support/proxy";
import { knownHostsLineFor, startOpenSsh, type OpenSshServer } from "../test/support/sshd";
import type { FetchOptions } from "./fetch";
import { ensureTools, rcloneArgs, sftpArgs, writeKitConfig, writeRandomFile, writeUserKey, type UserKeyFiles } from "./fixture";
import { killRunning, measure, median, type ProcessSample } from "./measure";
import { LINE_PROFILES, lineBytesPerSecond, MiB, SIZES, type BigFile, type LineProfile } from "./profiles";
import { printResults, summary, targets, type LeverResult, type LineResult, type Measured } from "./report";
import { DEFAULT_TIMEOUTS } from "../checks/config";
import { sha256OfFile } from "../core/hash";

const REPO = resolve(__dirname, "..", "..");
const BIN = join(REPO, "bin", "hkex-ready.js");
const NO_NATIVE = join(__dirname, "no-native-binding.js");
const FETCH = join(__dirname, "fetch.js");
const RESULTS = join(REPO, "bench", "results.json");

/**
 * The reports the time-to-verdict check lists and downloads, about the size of
 * real DCASS reports. TP001 also measures each client's session cost per line:
 * start-up, handshake, login, one small file, logout.
 */
const REPORT_SIZES = { TP001: 48 * 1024, TP002: 320 * 1024 } as const;
const ENDPOINT_HOSTS = ["127.0.151.141", "127.0.151.142", "127.0.152.141", "127.0.152.142"] as const;
const VERDICT_LATENCY_MS = 20;
const SESSION_FILE = "TP001";
/** The connect timeout operators run with: the kit's default. */
const BLACKHOLE_CONNECT_MS = DEFAULT_TIMEOUTS.connectMs;
/** Whole-bench watchdog: it stops by itself whatever happens (a full run with --levers --all-memory on a busy machine takes about an hour). */
const WATCHDOG_MS = 120 * 60 * 1000;

type Part = "lines" | "memory" | "verdict" | "levers";

interface Args {
  runs: number;
  lineRuns: number;
  levers: boolean;
  allMemory: boolean;
  only?: Part[];
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { runs: 7, lineRuns: 5, levers: false, allMemory: false };
  const count = (flag: string, value: string | undefined) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 3 || n > 51) throw new Error(`${flag} must be an integer from 3 to 51`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--levers") args.levers = true;
    else if (a === "--all-memory") args.allMemory = true;
    else if (a === "--runs") args.runs = count(a, argv[++i]);
    else if (a === "--line-runs") args.lineRuns = count(a, argv[++i]);
    else if (a === "--only") {
      const parts = (argv[++i] ?? "").split(",");
      if (!parts.every((p) => ["lines", "memory", "verdict", "levers"].includes(p))) {
        throw new Error("--only takes lines, memory, verdict or levers, or several with commas");
      }
      args.only = parts as Part[];
      if (parts.includes("levers")) args.levers = true;
    } else throw new Error(`unknown argument ${a} (use --runs N, --line-runs N, --all-memory, --levers, --only PART)`);
  }
  return args;
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const round = (n: number, digits = 0) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

interface KitReport {
  verdict: string;
  startedAt: string;
  finishedAt: string;
  endpoints: { host: string; port: number; verdict: string; phases: { name: string; status: string; code?: string; ms: number }[] }[];
  downloads: { host: string; file: string; bytes: number; sha256: string; path: string; ms: number }[];
}

function parseReport(sample: ProcessSample, what: string): KitReport {
  try {
    return JSON.parse(sample.stdout) as KitReport;
  } catch {
    throw new Error(`${what}: no JSON report (exit ${sample.code}); stderr: ${sample.stderr.slice(-800)}`);
  }
}

/** One line profile's way to the sshd: the sshd itself on loopback, or a proxy in front of it. */
interface Endpoint {
  readonly profile: LineProfile;
  readonly host: string;
  readonly port: number;
  readonly knownHosts: string;
}

type Tool = "kit" | "sftp" | "rclone";
const TOOLS: readonly Tool[] = ["kit", "sftp", "rclone"];

/** A whole process, and for the kit the transfer time its report gives for the file (open to rename). */
type ToolSample = ProcessSample & { readonly transferMs?: number };

class Bench {
  readonly started = new Date();
  readonly cleanups: (() => Promise<unknown>)[] = [];
  work!: string;
  key!: UserKeyFiles;
  server!: OpenSshServer;
  emptyRcloneConfig!: string;
  readonly shas = new Map<string, string>();
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(readonly args: Args) {}

  async setUp(): Promise<void> {
    const installed = await ensureTools(log);
    if (installed.length > 0) log(`installed ${installed.join(", ")}`);
    this.work = await mkdtemp(join(tmpdir(), "hkex-bench-"));
    this.cleanups.push(() => rm(this.work, { recursive: true, force: true }));
    this.key = await writeUserKey(this.work);
    this.server = await startOpenSsh({ bindHost: "127.0.0.1", authorizedKeys: [this.key.publicLine] });
    this.cleanups.push(() => this.server.stop());
    log(`sshd ${sshdVersion()} on ${this.server.host}:${this.server.port}, serving ${this.server.remoteDir}; ${rcloneVersion()}`);
    for (const [name, size] of Object.entries(REPORT_SIZES)) {
      this.shas.set(name, await writeRandomFile(join(this.server.remoteDir, name), size));
    }
    for (const [name, size] of Object.entries(SIZES)) {
      log(`writing ${name} (${size / MiB} MiB of random data)`);
      this.shas.set(name, await writeRandomFile(join(this.server.remoteDir, name), size));
    }
    this.emptyRcloneConfig = join(this.work, "rclone.conf");
    await writeFile(this.emptyRcloneConfig, "");
  }

  async tearDown(): Promise<void> {
    killRunning();
    for (const c of this.cleanups.reverse()) await c().catch((err: unknown) => log(`cleanup: ${(err as Error).message}`));
    this.cleanups.length = 0;
  }

  /** The profile's endpoint, started once: a latency (and bandwidth) proxy in front of the sshd, or the sshd itself. */
  async endpoint(profile: LineProfile): Promise<Endpoint> {
    const known = this.endpoints.get(profile.id);
    if (known) return known;
    let host = this.server.host;
    let port = this.server.port;
    if (profile.latencyMs > 0 || profile.bitsPerSecond !== undefined) {
      const rate = lineBytesPerSecond(profile);
      const proxy = await startProxy({
        targetHost: this.server.host,
        targetPort: this.server.port,
        latencyMs: profile.latencyMs,
        ...(rate !== undefined ? { bandwidth: { bytesPerSecond: rate } } : {}),
      });
      this.cleanups.push(() => proxy.close());
      host = proxy.host;
      port = proxy.port;
    }
    const knownHosts = join(this.work, `known_hosts-${profile.id}`);
    await writeFile(knownHosts, `${knownHostsLineFor(host, port, this.server.hostKeyPublic)}\n`);
    const endpoint = { profile, host, port, knownHosts };
    this.endpoints.set(profile.id, endpoint);
    return endpoint;
  }

  /** One-endpoint config that downloads `file`. */
  private async kitConfig(e: Endpoint, file: string): Promise<{ config: string; downloadDir: string }> {
    const downloadDir = join(this.work, `dl-${e.profile.id}-${file}`);
    const config = await writeKitConfig(join(this.work, `check-${e.profile.id}-${file}.yaml`), {
      user: this.server.user,
      identityFile: this.key.privatePath,
      knownHostsFile: e.knownHosts,
      files: [file],
      downloadDir,
      primary: [`${e.host}:${e.port}`],
      secondary: [`${e.host}:${e.port}`],
    });
    return { config, downloadDir };
  }

  /** `hkex-ready check --download` on one file, as its own process; verifies the file on disk afterwards. */
  async kitDownload(e: Endpoint, file: string): Promise<ToolSample> {
    const { config, downloadDir } = await this.kitConfig(e, file);
    await rm(downloadDir, { recursive: true, force: true });
    const sample = await measure(
      process.execPath,
      ["-r", NO_NATIVE, BIN, "check", "--config", config, "--site", "primary", "--download", "--json"],
      { cwd: this.work, scratchDir: this.work, timeoutMs: 900_000 },
    );
    const report = parseReport(sample, `check --download ${file}`);
    const d = report.downloads[0];
    if (sample.code !== 0 || report.verdict !== "pass" || !d)
      throw new Error(`check --download ${file} (${e.profile.label}) did not pass: ${sample.stdout.slice(0, 2000)}`);
    if (d.sha256 !== this.shas.get(file))
      throw new Error(`${file}: the kit reported sha256 ${d.sha256}, the source is ${this.shas.get(file)}`);
    await this.verify(file, d.path, `the kit (${e.profile.label})`);
    await rm(downloadDir, { recursive: true, force: true });
    return { ...sample, transferMs: d.ms };
  }

  /** Byte for byte: the size and the SHA-256 of the file on disk against the source's. */
  private async verify(file: string, path: string, who: string): Promise<void> {
    const expected = this.shas.get(file)!;
    const size = (await stat(path)).size;
    const onDisk = await sha256OfFile(path, 4 * MiB);
    const want = file in SIZES ? SIZES[file as BigFile] : size;
    if (size !== want || onDisk !== expected)
      throw new Error(`${file} from ${who}: the file on disk (${size} bytes, ${onDisk}) is not the source`);
  }

  async sftpDownload(e: Endpoint, file: string): Promise<ToolSample> {
    const out = join(this.work, `sftp-${file}.out`);
    const batch = join(this.work, `sftp-${file}.batch`);
    await rm(out, { force: true });
    await writeFile(batch, `get ${file} ${out}\n`);
    const sample = await measure(
      "sftp",
      sftpArgs({
        batchFile: batch,
        key: this.key.privatePath,
        knownHosts: e.knownHosts,
        user: this.server.user,
        host: e.host,
        port: e.port,
      }),
      { cwd: this.work, scratchDir: this.work, timeoutMs: 900_000 },
    );
    if (sample.code !== 0) throw new Error(`sftp -b get ${file} failed (exit ${sample.code}): ${sample.stderr.slice(-800)}`);
    await this.verify(file, out, `sftp (${e.profile.label})`);
    await rm(out, { force: true });
    return sample;
  }

  async rcloneDownload(e: Endpoint, file: string): Promise<ToolSample> {
    const out = join(this.work, `rclone-${file}.out`);
    await rm(out, { force: true });
    const args = rcloneArgs({
      emptyConfig: this.emptyRcloneConfig,
      key: this.key.privatePath,
      knownHosts: e.knownHosts,
      user: this.server.user,
      host: e.host,
      port: e.port,
      remoteFile: file,
      localFile: out,
    });
    const sample = await measure("rclone", args, { cwd: this.work, scratchDir: this.work, timeoutMs: 900_000 });
    if (sample.code !== 0) throw new Error(`rclone copyto ${file} failed (exit ${sample.code}): ${sample.stderr.slice(-800)}`);
    await this.verify(file, out, `rclone (${e.profile.label})`);
    await rm(out, { force: true });
    return sample;
  }

  private run(tool: Tool, e: Endpoint, file: string): Promise<ToolSample> {
    if (tool === "kit") return this.kitDownload(e, file);
    if (tool === "sftp") return this.sftpDownload(e, file);
    return this.rcloneDownload(e, file);
  }

  /** Every profile: the three clients in turn, whole processes, the order rotating every round. */
  async lines(): Promise<LineResult[]> {
    const results: LineResult[] = [];
    for (const profile of LINE_PROFILES) {
      const e = await this.endpoint(profile);
      const file = profile.file;
      const runs = profile.latencyMs === 0 ? this.args.runs : this.args.lineRuns;
      if (profile.latencyMs === 0) {
        log(`${profile.label}: warm-up`);
        for (const tool of TOOLS) await this.run(tool, e, file);
      }
      const samples: Record<Tool, ToolSample[]> = { kit: [], sftp: [], rclone: [] };
      const sessions: Record<Tool, ToolSample[]> = { kit: [], sftp: [], rclone: [] };
      for (let i = 0; i < runs; i++) {
        const order = TOOLS.map((_, k) => TOOLS[(i + k) % TOOLS.length]!);
        for (const tool of order) samples[tool].push(await this.run(tool, e, file));
        for (const tool of order) sessions[tool].push(await this.run(tool, e, SESSION_FILE));
        log(`${profile.label} ${i + 1}/${runs}: ${TOOLS.map((t) => `${t} ${round(samples[t].at(-1)!.wallMs)} ms`).join(", ")}`);
      }
      results.push(lineResult(profile, samples, sessions));
    }
    return results;
  }

  async memory(): Promise<Record<string, unknown>> {
    const result: Record<string, unknown> = {};
    const loopback = await this.endpoint(LINE_PROFILES[0]!);
    const plan: [LineProfile, BigFile, number][] = [
      [loopback.profile, "BIG64", 3],
      [loopback.profile, "BIG1G", 2],
      ...LINE_PROFILES.slice(1)
        .filter((p) => p.memoryByDefault || this.args.allMemory)
        .map((p): [LineProfile, BigFile, number] => [p, "BIG1G", 1]),
    ];
    for (const [profile, file, runs] of plan) {
      const e = await this.endpoint(profile);
      const samples: ToolSample[] = [];
      for (let i = 0; i < runs; i++) {
        samples.push(await this.kitDownload(e, file));
        log(
          `memory ${profile.label} ${file} ${i + 1}/${runs}: peak RSS ${round(samples.at(-1)!.peakRssMiB, 1)} MiB, ${round(samples.at(-1)!.wallMs)} ms`,
        );
      }
      result[profile.id === "loopback" ? file : `${file}@${profile.id}`] = { profile: profile.label, ...summary(samples) };
    }
    return result;
  }

  /** Four endpoints behind latency proxies (and optionally one blackholed), with their pinned keys. */
  private async fourEndpoints(blackholeLast: boolean): Promise<{ hostPorts: string[]; knownHosts: string }> {
    const hostPorts: string[] = [];
    const lines: string[] = [];
    for (const [i, host] of ENDPOINT_HOSTS.entries()) {
      const proxy: TcpProxy =
        blackholeLast && i === ENDPOINT_HOSTS.length - 1
          ? await startProxy({ listenHost: host, targetHost: this.server.host, targetPort: this.server.port, mode: "blackhole" })
          : await startProxy({
              listenHost: host,
              targetHost: this.server.host,
              targetPort: this.server.port,
              latencyMs: VERDICT_LATENCY_MS,
            });
      this.cleanups.push(() => proxy.close());
      hostPorts.push(`${host}:${proxy.port}`);
      lines.push(knownHostsLineFor(host, proxy.port, this.server.hostKeyPublic));
    }
    const knownHosts = join(this.work, blackholeLast ? "known_hosts-blackhole" : "known_hosts-4");
    await writeFile(knownHosts, `${lines.join("\n")}\n`);
    return { hostPorts, knownHosts };
  }

  async timeToVerdict(): Promise<Record<string, unknown>> {
    const { hostPorts, knownHosts } = await this.fourEndpoints(false);
    const downloadDir = join(this.work, "dl-four");
    const config = await writeKitConfig(join(this.work, "check-four.yaml"), {
      user: this.server.user,
      identityFile: this.key.privatePath,
      knownHostsFile: knownHosts,
      files: ["TP001", "TP002"],
      downloadDir,
      primary: hostPorts.slice(0, 2),
      secondary: hostPorts.slice(2),
    });
    const scriptDir = join(this.work, "dl-script");
    const script = await this.sequentialScript(hostPorts, knownHosts, scriptDir);
    const kitOnce = async () => {
      await rm(downloadDir, { recursive: true, force: true });
      const s = await measure(
        process.execPath,
        ["-r", NO_NATIVE, BIN, "check", "--config", config, "--site", "all", "--download", "--json"],
        {
          cwd: this.work,
          scratchDir: this.work,
          timeoutMs: 120_000,
        },
      );
      const report = parseReport(s, "four-endpoint check");
      if (s.code !== 0 || report.verdict !== "pass" || report.downloads.length !== 8)
        throw new Error(`four-endpoint check did not pass: ${s.stdout.slice(0, 3000)}`);
      for (const d of report.downloads) await this.verify(d.file, d.path, "the kit (four endpoints)");
      return s;
    };
    const scriptOnce = async () => {
      await rm(scriptDir, { recursive: true, force: true });
      const s = await measure("sh", [script], { cwd: this.work, scratchDir: this.work, timeoutMs: 120_000 });
      if (s.code !== 0) throw new Error(`sequential sftp script failed (exit ${s.code}): ${s.stderr.slice(-800)}`);
      return s;
    };
    await kitOnce();
    await scriptOnce();
    const kit: ProcessSample[] = [];
    const seq: ProcessSample[] = [];
    const runs = Math.max(5, Math.ceil(this.args.runs / 2) + 1);
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) {
        kit.push(await kitOnce());
        seq.push(await scriptOnce());
      } else {
        seq.push(await scriptOnce());
        kit.push(await kitOnce());
      }
      log(`time to verdict ${i + 1}/${runs}: kit ${round(kit.at(-1)!.wallMs)} ms, sequential sftp ${round(seq.at(-1)!.wallMs)} ms`);
    }
    return {
      endpoints: hostPorts.length,
      latencyMsEachWay: VERDICT_LATENCY_MS,
      kit: summary(kit),
      sequentialSftp: summary(seq),
      speedup: median(seq.map((s) => s.wallMs)) / median(kit.map((s) => s.wallMs)),
    };
  }

  /** The same checks with the OpenSSH client, one endpoint after another: `ls`, then `get TP001 TP002`. */
  private async sequentialScript(hostPorts: readonly string[], knownHosts: string, outDir: string): Promise<string> {
    const lines = ["#!/bin/sh", "# The readiness check by hand: each endpoint in turn with OpenSSH's sftp.", "status=0"];
    for (const hp of hostPorts) {
      const [host, port] = hp.split(":") as [string, string];
      const dir = join(outDir, host);
      const batch = join(this.work, `script-${host}.batch`);
      await writeFile(batch, `ls\nget TP001 ${dir}/\nget TP002 ${dir}/\n`);
      const args = sftpArgs({ batchFile: batch, key: this.key.privatePath, knownHosts, user: this.server.user, host, port: Number(port) });
      lines.push(`mkdir -p ${dir}`, `sftp ${args.join(" ")} >/dev/null || status=1`);
    }
    lines.push("exit $status");
    const script = join(this.work, "sequential-sftp.sh");
    await writeFile(script, `${lines.join("\n")}\n`, { mode: 0o755 });
    return script;
  }

  async blackhole(): Promise<Record<string, unknown>> {
    const { hostPorts, knownHosts } = await this.fourEndpoints(true);
    const config = await writeKitConfig(join(this.work, "check-blackhole.yaml"), {
      user: this.server.user,
      identityFile: this.key.privatePath,
      knownHostsFile: knownHosts,
      files: ["TP001", "TP002"],
      downloadDir: join(this.work, "dl-blackhole"),
      primary: hostPorts.slice(0, 2),
      secondary: hostPorts.slice(2),
      connectMs: BLACKHOLE_CONNECT_MS,
    });
    const samples: ProcessSample[] = [];
    const inCheck: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await measure(
        process.execPath,
        ["-r", NO_NATIVE, BIN, "check", "--config", config, "--site", "all", "--download", "--json"],
        {
          cwd: this.work,
          scratchDir: this.work,
          timeoutMs: 60_000,
        },
      );
      const report = parseReport(s, "blackhole check");
      const dark = report.endpoints.find((e) => `${e.host}:${e.port}` === hostPorts.at(-1));
      const tcp = dark?.phases.find((p) => p.name === "tcp");
      const others = report.endpoints.filter((e) => e !== dark);
      if (s.code !== 1 || tcp?.code !== "timeout" || others.some((e) => e.verdict !== "pass")) {
        throw new Error(`blackhole check: expected exit 1 with only ${hostPorts.at(-1)} failing tcp timeout: ${s.stdout.slice(0, 3000)}`);
      }
      samples.push(s);
      inCheck.push(Date.parse(report.finishedAt) - Date.parse(report.startedAt));
      log(`blackhole ${i + 1}/3: ${round(s.wallMs)} ms (check itself ${inCheck.at(-1)} ms)`);
    }
    const wall = median(samples.map((s) => s.wallMs));
    return {
      connectMs: BLACKHOLE_CONNECT_MS,
      blackholed: hostPorts.at(-1),
      kit: summary(samples),
      inCheckMs: median(inCheck),
      ratio: wall / BLACKHOLE_CONNECT_MS,
      inCheckRatio: median(inCheck) / BLACKHOLE_CONNECT_MS,
    };
  }

  async startup(): Promise<Record<string, unknown>> {
    const run = async (args: string[]) => {
      const samples: ProcessSample[] = [];
      for (let i = 0; i < 11; i++) {
        const s = await measure(process.execPath, [BIN, ...args], { cwd: this.work, scratchDir: this.work, timeoutMs: 30_000 });
        if (s.code !== 0) throw new Error(`hkex-ready ${args.join(" ")} exited ${s.code}: ${s.stderr.slice(-500)}`);
        samples.push(s);
      }
      return summary(samples);
    };
    const bare = [];
    for (let i = 0; i < 11; i++) bare.push(await measure(process.execPath, ["-e", "0"], { scratchDir: this.work, timeoutMs: 30_000 }));
    return { version: await run(["--version"]), checkHelp: await run(["check", "--help"]), nodeItself: summary(bare) };
  }

  /**
   * One download lever at a time, through bench/fetch.js (the probe and download
   * the CLI runs, with the tuning given), on every line; each round one sftp
   * run and every variant once, the order reversed every other round. The
   * channel-count levers run on the unlimited lines, where the window is what
   * limits; the capped lines compare one channel, the channels as they were
   * opened before, and the shipped tuning.
   */
  async levers(): Promise<LeverResult[]> {
    const unlimited = (p: LineProfile) => p.bitsPerSecond === undefined;
    const variants: { label: string; options: FetchOptions; on: (p: LineProfile) => boolean }[] = [
      { label: "1 channel, 16 READs in flight", options: { tuning: { channels: 1, concurrency: 16 } }, on: () => true },
      {
        label: "≤ 4 channels of 8 MiB, opened after the OPEN and FSTAT (before)",
        options: { tuning: { maxChannels: 4, minBytesPerChannel: 8 * MiB, concurrency: 16, earlyChannels: false } },
        on: () => true,
      },
      {
        label: "≤ 4 channels of 8 MiB, opened beside the first OPEN",
        options: { tuning: { maxChannels: 4, minBytesPerChannel: 8 * MiB, concurrency: 16 } },
        on: unlimited,
      },
      { label: "8 channels × 16 READs, beside the first OPEN", options: { tuning: { channels: 8, concurrency: 16 } }, on: unlimited },
      { label: "shipped: ≤ 8 channels of 4 MiB, 12 MiB in flight, beside the first OPEN", options: {}, on: () => true },
    ];
    const results: LeverResult[] = [];
    for (const profile of LINE_PROFILES) {
      const e = await this.endpoint(profile);
      const { config, downloadDir } = await this.kitConfig(e, profile.file);
      const mine = variants.filter((v) => v.on(profile));
      const once = async (v: (typeof variants)[number]) => {
        await rm(downloadDir, { recursive: true, force: true });
        const s = await measure(process.execPath, ["-r", NO_NATIVE, FETCH, config, JSON.stringify(v.options)], {
          cwd: this.work,
          scratchDir: this.work,
          timeoutMs: 300_000,
        });
        const out = JSON.parse(s.stdout) as { verdict: string; downloads: { sha256: string; path: string; ms: number }[] };
        const d = out.downloads[0];
        if (s.code !== 0 || d === undefined || d.sha256 !== this.shas.get(profile.file))
          throw new Error(`lever "${v.label}" failed: ${s.stdout} ${s.stderr.slice(-500)}`);
        await this.verify(profile.file, d.path, `lever "${v.label}"`);
        return { ...s, transferMs: d.ms };
      };
      const samples = new Map<string, ToolSample[]>(mine.map((v) => [v.label, []]));
      const sftp: ProcessSample[] = [];
      const runs = profile.latencyMs === 0 ? this.args.runs : this.args.lineRuns;
      for (let i = 0; i < runs; i++) {
        sftp.push(await this.sftpDownload(e, profile.file));
        for (const v of i % 2 === 0 ? mine : [...mine].reverse()) samples.get(v.label)!.push(await once(v));
        log(`levers ${profile.label} ${i + 1}/${runs}`);
      }
      await rm(downloadDir, { recursive: true, force: true });
      const sftpWall = median(sftp.map((s) => s.wallMs));
      results.push({
        profile: profile.label,
        file: profile.file,
        sftp: summary(sftp),
        variants: mine.map((v) => {
          const s = samples.get(v.label)!;
          return {
            label: v.label,
            options: v.options,
            ...summary(s),
            transferMs: round(median(s.map((x) => x.transferMs ?? Number.NaN))),
            ratio: median(s.map((x) => x.wallMs)) / sftpWall,
          };
        }),
      });
    }
    return results;
  }
}

function lineResult(profile: LineProfile, samples: Record<Tool, ToolSample[]>, sessions: Record<Tool, ToolSample[]>): LineResult {
  const wall = (t: Tool) => median(samples[t].map((s) => s.wallMs));
  const session = (t: Tool) => median(sessions[t].map((s) => s.wallMs));
  // What the big file cost beyond a session that fetches one small file: the transfer, start-up and login taken out.
  const beyond = (t: Tool) => wall(t) - session(t);
  const bytes = SIZES[profile.file];
  const rate = lineBytesPerSecond(profile);
  const transferMs = median(samples.kit.map((s) => s.transferMs ?? Number.NaN));
  return {
    id: profile.id,
    profile: profile.label,
    latencyMsOneWay: profile.latencyMs,
    ...(profile.bitsPerSecond !== undefined ? { bitsPerSecond: profile.bitsPerSecond } : {}),
    file: profile.file,
    bytes,
    kit: summary(samples.kit),
    sftp: summary(samples.sftp),
    rclone: summary(samples.rclone),
    kitTransferMs: round(transferMs),
    ...(rate !== undefined ? { lineMs: round((bytes / rate) * 1000), lineShare: round(bytes / rate / (transferMs / 1000), 3) } : {}),
    ratioSftp: round(wall("kit") / wall("sftp"), 3),
    ratioRclone: round(wall("kit") / wall("rclone"), 3),
    sessionMs: { kit: round(session("kit")), sftp: round(session("sftp")), rclone: round(session("rclone")) },
    beyondSessionMs: { kit: round(beyond("kit")), sftp: round(beyond("sftp")), rclone: round(beyond("rclone")) },
    beyondSessionRatioSftp: round(beyond("kit") / beyond("sftp"), 3),
    beyondSessionRatioRclone: round(beyond("kit") / beyond("rclone"), 3),
  };
}

function sshdVersion(): string {
  // sshd has no --version; -V prints it on stderr (and exits non-zero on older releases).
  const r = spawnSync("/usr/sbin/sshd", ["-V"], { encoding: "utf8" });
  return /OpenSSH_[^\s,]+/.exec(`${r.stdout ?? ""}${r.stderr ?? ""}`)?.[0] ?? "unknown";
}

function rcloneVersion(): string {
  const r = spawnSync("rclone", ["version"], { encoding: "utf8" });
  return /rclone v\S+/.exec(r.stdout ?? "")?.[0] ?? "rclone unknown";
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const bench = new Bench(args);
  let stopping = false;
  const stop = (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log(`${why}: stopping and cleaning up`);
    void bench.tearDown().finally(() => process.exit(code));
  };
  process.once("SIGINT", () => stop("SIGINT", 130));
  process.once("SIGTERM", () => stop("SIGTERM", 143));
  const watchdog = setTimeout(() => stop(`still running after ${WATCHDOG_MS / 60000} minutes`, 1), WATCHDOG_MS);
  watchdog.unref();
  const loadBefore = loadavg();
  const wants = (part: Part) => args.only === undefined || args.only.includes(part);
  try {
    await bench.setUp();
    const measured: { -readonly [K in keyof Measured]: Measured[K] } & { levers?: LeverResult[] } = {};
    // Written after every part, so a run stopped by the watchdog or by hand keeps what it measured.
    const save = async () => {
      const results = {
        schema: 2,
        startedAt: bench.started.toISOString(),
        finishedAt: new Date().toISOString(),
        machine: {
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model?.trim() ?? "unknown",
          memoryGiB: round(totalmem() / 1024 ** 3, 1),
          node: process.version,
          openssh: sshdVersion(),
          rclone: rcloneVersion(),
          loadAverageBefore: loadBefore.map((n) => round(n, 2)),
          loadAverageAfter: loadavg().map((n) => round(n, 2)),
        },
        kit: {
          ssh2NativeBindingOnDisk: existsSync(
            join(REPO, "node_modules", "ssh2", "lib", "protocol", "crypto", "build", "Release", "sshcrypto.node"),
          ),
          ssh2NativeBindingUsed: false,
          downloadTuning: DOWNLOAD_TUNING,
          version: (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version,
        },
        runs: { loopback: args.runs, line: args.lineRuns },
        ...measured,
        targets: targets(measured),
      };
      await mkdir(join(REPO, "bench"), { recursive: true });
      await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
      return results;
    };
    const parts: [Part, () => Promise<void>][] = [
      [
        "lines",
        async () => {
          measured.lines = await bench.lines();
        },
      ],
      [
        "memory",
        async () => {
          measured.memory = (await bench.memory()) as Measured["memory"];
        },
      ],
      [
        "verdict",
        async () => {
          measured.timeToVerdict = (await bench.timeToVerdict()) as Measured["timeToVerdict"];
          measured.blackhole = (await bench.blackhole()) as Measured["blackhole"];
          measured.startup = (await bench.startup()) as Measured["startup"];
        },
      ],
    ];
    for (const [part, run] of parts) {
      if (!wants(part)) continue;
      await run();
      await save();
    }
    if (args.levers) {
      measured.levers = await bench.levers();
      await save();
    }
    printResults(await save(), RESULTS);
    return 0;
  } finally {
    clearTimeout(watchdog);
    if (!stopping) await bench.tearDown();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
