/**
 * `npm run bench`: the kit against OpenSSH's own client, on this machine, on
 * loopback only. It starts its own sshd (installing OpenSSH when missing),
 * measures whole processes as an operator would run them, prints a table and
 * writes bench/results.json. It is not a test: timing never makes it fail; it
 * exits non-zero only when something could not be measured or a downloaded
 * file was not byte-identical to its source.
 *
 *   npm run bench                   the figures of issue 5 (a few minutes)
 *   npm run bench -- --runs 9       more alternating runs per side (default 7, at least 5)
 *   npm run bench -- --levers       also measure each tuning lever on its own
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
import { ensureTools, sftpArgs, writeKitConfig, writeRandomFile, writeUserKey, type UserKeyFiles } from "./fixture";
import { killRunning, max, measure, median, type ProcessSample } from "./measure";
import { DEFAULT_TIMEOUTS } from "../checks/config";
import { sha256OfFile } from "../core/hash";

const REPO = resolve(__dirname, "..", "..");
const BIN = join(REPO, "bin", "hkex-ready.js");
const NO_NATIVE = join(__dirname, "no-native-binding.js");
const FETCH = join(__dirname, "fetch.js");
const RESULTS = join(REPO, "bench", "results.json");
const MiB = 1024 * 1024;

const SIZES = { BIG64: 64 * MiB, BIG256: 256 * MiB, BIG1G: 1024 * MiB } as const;
type BigFile = keyof typeof SIZES;
/** The reports the time-to-verdict check lists and downloads, about the size of real DCASS reports. */
const REPORT_SIZES = { TP001: 48 * 1024, TP002: 320 * 1024 } as const;
const ENDPOINT_HOSTS = ["127.0.151.141", "127.0.151.142", "127.0.152.141", "127.0.152.142"] as const;
const LATENCY_MS = 20;
/** The connect timeout operators run with: the kit's default. */
const BLACKHOLE_CONNECT_MS = DEFAULT_TIMEOUTS.connectMs;
/** Whole-bench watchdog: it stops by itself whatever happens. */
const WATCHDOG_MS = 25 * 60 * 1000;

const TARGETS = {
  downloadRatio: 0.8,
  peakRssMiB: 128,
  rssSpread: 0.1,
  verdictSpeedup: 3,
  blackholeRatio: 1.1,
  versionMs: 150,
} as const;

interface Args {
  runs: number;
  levers: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { runs: 7, levers: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--levers") args.levers = true;
    else if (a === "--runs") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 5 || n > 51) throw new Error("--runs must be an integer from 5 to 51");
      args.runs = n;
    } else throw new Error(`unknown argument ${a} (use --runs N, --levers)`);
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
  downloads: { host: string; file: string; bytes: number; sha256: string; path: string }[];
}

function parseReport(sample: ProcessSample, what: string): KitReport {
  try {
    return JSON.parse(sample.stdout) as KitReport;
  } catch {
    throw new Error(`${what}: no JSON report (exit ${sample.code}); stderr: ${sample.stderr.slice(-800)}`);
  }
}

class Bench {
  readonly started = new Date();
  readonly cleanups: (() => Promise<unknown>)[] = [];
  work!: string;
  key!: UserKeyFiles;
  server!: OpenSshServer;
  readonly shas = new Map<string, string>();

  constructor(readonly args: Args) {}

  async setUp(): Promise<void> {
    const installed = await ensureTools(log);
    if (installed.length > 0) log(`installed ${installed.join(", ")}`);
    this.work = await mkdtemp(join(tmpdir(), "hkex-bench-"));
    this.cleanups.push(() => rm(this.work, { recursive: true, force: true }));
    this.key = await writeUserKey(this.work);
    this.server = await startOpenSsh({ bindHost: "127.0.0.1", authorizedKeys: [this.key.publicLine] });
    this.cleanups.push(() => this.server.stop());
    log(`sshd ${sshdVersion()} on ${this.server.host}:${this.server.port}, serving ${this.server.remoteDir}`);
    for (const [name, size] of Object.entries(REPORT_SIZES)) {
      this.shas.set(name, await writeRandomFile(join(this.server.remoteDir, name), size));
    }
    for (const [name, size] of Object.entries(SIZES)) {
      log(`writing ${name} (${size / MiB} MiB of random data)`);
      this.shas.set(name, await writeRandomFile(join(this.server.remoteDir, name), size));
    }
    await writeFile(join(this.work, "known_hosts"), `${this.server.knownHostsLine}\n`);
  }

  async tearDown(): Promise<void> {
    killRunning();
    for (const c of this.cleanups.reverse()) await c().catch((err: unknown) => log(`cleanup: ${(err as Error).message}`));
    this.cleanups.length = 0;
  }

  private get endpoint(): string {
    return `${this.server.host}:${this.server.port}`;
  }

  /** One-endpoint config that downloads `file`. */
  private async singleConfig(file: string): Promise<{ config: string; downloadDir: string }> {
    const downloadDir = join(this.work, `dl-${file}`);
    const config = await writeKitConfig(join(this.work, `check-${file}.yaml`), {
      user: this.server.user,
      identityFile: this.key.privatePath,
      knownHostsFile: join(this.work, "known_hosts"),
      files: [file],
      downloadDir,
      primary: [this.endpoint],
      secondary: [this.endpoint],
    });
    return { config, downloadDir };
  }

  /** `hkex-ready check --download` on one file, as its own process; verifies the file on disk afterwards. */
  async kitDownload(file: BigFile, config: string, downloadDir: string): Promise<ProcessSample> {
    await rm(downloadDir, { recursive: true, force: true });
    const sample = await measure(
      process.execPath,
      ["-r", NO_NATIVE, BIN, "check", "--config", config, "--site", "primary", "--download", "--json"],
      {
        cwd: this.work,
        scratchDir: this.work,
        timeoutMs: 300_000,
      },
    );
    const report = parseReport(sample, `check --download ${file}`);
    const d = report.downloads[0];
    if (sample.code !== 0 || report.verdict !== "pass" || !d)
      throw new Error(`check --download ${file} did not pass: ${sample.stdout.slice(0, 2000)}`);
    await this.verify(file, d.path, d.sha256, d.bytes);
    return sample;
  }

  private async verify(file: string, path: string, reported: string, bytes: number): Promise<void> {
    const expected = this.shas.get(file)!;
    if (reported !== expected) throw new Error(`${file}: the kit reported sha256 ${reported}, the source is ${expected}`);
    const size = (await stat(path)).size;
    const onDisk = await sha256OfFile(path, 4 * MiB);
    if (size !== bytes || onDisk !== expected) throw new Error(`${file}: the file on disk (${size} bytes, ${onDisk}) is not the source`);
  }

  async sftpDownload(file: BigFile): Promise<ProcessSample> {
    const out = join(this.work, `sftp-${file}.out`);
    const batch = join(this.work, `sftp-${file}.batch`);
    await rm(out, { force: true });
    await writeFile(batch, `get ${file} ${out}\n`);
    const sample = await measure(
      "sftp",
      sftpArgs({
        batchFile: batch,
        key: this.key.privatePath,
        knownHosts: join(this.work, "known_hosts"),
        user: this.server.user,
        host: this.server.host,
        port: this.server.port,
      }),
      { cwd: this.work, scratchDir: this.work, timeoutMs: 300_000 },
    );
    if (sample.code !== 0) throw new Error(`sftp -b get ${file} failed (exit ${sample.code}): ${sample.stderr.slice(-800)}`);
    if ((await stat(out)).size !== SIZES[file]) throw new Error(`sftp -b get ${file}: wrong size`);
    return sample;
  }

  async throughput(): Promise<Record<string, unknown>> {
    const { config, downloadDir } = await this.singleConfig("BIG256");
    log("throughput: warm-up");
    await this.kitDownload("BIG256", config, downloadDir);
    await this.sftpDownload("BIG256");
    const kit: ProcessSample[] = [];
    const sftp: ProcessSample[] = [];
    for (let i = 0; i < this.args.runs; i++) {
      // Alternate which side goes first, so neither always follows the other.
      if (i % 2 === 0) {
        kit.push(await this.kitDownload("BIG256", config, downloadDir));
        sftp.push(await this.sftpDownload("BIG256"));
      } else {
        sftp.push(await this.sftpDownload("BIG256"));
        kit.push(await this.kitDownload("BIG256", config, downloadDir));
      }
      log(`throughput ${i + 1}/${this.args.runs}: kit ${round(kit.at(-1)!.wallMs)} ms, sftp ${round(sftp.at(-1)!.wallMs)} ms`);
    }
    await rm(downloadDir, { recursive: true, force: true });
    return {
      file: "BIG256",
      bytes: SIZES.BIG256,
      kit: summary(kit),
      sftp: summary(sftp),
      ratio: median(kit.map((s) => s.wallMs)) / median(sftp.map((s) => s.wallMs)),
    };
  }

  async memory(): Promise<Record<string, unknown>> {
    const result: Record<string, unknown> = {};
    for (const [file, runs] of [
      ["BIG64", 3],
      ["BIG1G", 2],
    ] as const) {
      const { config, downloadDir } = await this.singleConfig(file);
      const samples: ProcessSample[] = [];
      for (let i = 0; i < runs; i++) {
        samples.push(await this.kitDownload(file, config, downloadDir));
        log(`memory ${file} ${i + 1}/${runs}: peak RSS ${round(samples.at(-1)!.peakRssMiB, 1)} MiB`);
      }
      await rm(downloadDir, { recursive: true, force: true });
      result[file] = summary(samples);
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
          : await startProxy({ listenHost: host, targetHost: this.server.host, targetPort: this.server.port, latencyMs: LATENCY_MS });
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
      for (const d of report.downloads) await this.verify(d.file, d.path, d.sha256, d.bytes);
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
      latencyMsEachWay: LATENCY_MS,
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

  /** One lever at a time, through bench/fetch.js (the probe and download the CLI runs), alternating with sftp. */
  async levers(): Promise<Record<string, unknown>> {
    const { config, downloadDir } = await this.singleConfig("BIG256");
    const off = { syncEveryBytes: 0, collectEveryBytes: 0 };
    const variants: { label: string; options: FetchOptions; native?: boolean }[] = [
      {
        label: "32 KiB READs, 64 in flight (ssh2 fastGet defaults)",
        options: { tuning: { chunkSize: 32 * 1024, concurrency: 64, ...off } },
      },
      { label: "255 KiB READs, 8 in flight", options: { tuning: { chunkSize: 255 * 1024, concurrency: 8, ...off } } },
      { label: "255 KiB READs, 16 in flight", options: { tuning: { chunkSize: 255 * 1024, concurrency: 16, ...off } } },
      { label: "255 KiB READs, 32 in flight", options: { tuning: { chunkSize: 255 * 1024, concurrency: 32, ...off } } },
      { label: "+ flush every 32 MiB", options: { tuning: { chunkSize: 255 * 1024, concurrency: 16, ...off, syncEveryBytes: 32 * MiB } } },
      { label: "+ young GC every 2 MiB (= shipped)", options: {} },
      { label: "shipped, chacha20-poly1305", options: { ciphers: ["chacha20-poly1305@openssh.com"] } },
      { label: "shipped, aes256-gcm", options: { ciphers: ["aes256-gcm@openssh.com"] } },
      { label: "shipped, hash by re-reading the file", options: { rereadToHash: true } },
      { label: "shipped, with ssh2's native binding", options: {}, native: true },
    ];
    const once = async (v: (typeof variants)[number]) => {
      await rm(downloadDir, { recursive: true, force: true });
      const s = await measure(process.execPath, [...(v.native ? [] : ["-r", NO_NATIVE]), FETCH, config, JSON.stringify(v.options)], {
        cwd: this.work,
        scratchDir: this.work,
        timeoutMs: 300_000,
      });
      const out = JSON.parse(s.stdout) as { verdict: string; downloads: { sha256: string }[]; nativeBinding: boolean };
      if (s.code !== 0 || out.downloads[0]?.sha256 !== this.shas.get("BIG256"))
        throw new Error(`lever "${v.label}" failed: ${s.stdout} ${s.stderr.slice(-500)}`);
      if (out.nativeBinding !== Boolean(v.native))
        throw new Error(`lever "${v.label}": native binding ${out.nativeBinding ? "in use" : "not available"}`);
      return s;
    };
    const samples = new Map<string, ProcessSample[]>(variants.map((v) => [v.label, []]));
    const sftp: ProcessSample[] = [];
    for (let i = 0; i < this.args.runs; i++) {
      sftp.push(await this.sftpDownload("BIG256"));
      const order = i % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) samples.get(v.label)!.push(await once(v));
      log(`levers ${i + 1}/${this.args.runs}`);
    }
    await rm(downloadDir, { recursive: true, force: true });
    const sftpWall = median(sftp.map((s) => s.wallMs));
    return {
      sftp: summary(sftp),
      variants: variants.map((v) => {
        const s = samples.get(v.label)!;
        return {
          label: v.label,
          options: v.options,
          native: Boolean(v.native),
          ...summary(s),
          ratio: median(s.map((x) => x.wallMs)) / sftpWall,
        };
      }),
    };
  }
}

function summary(samples: readonly ProcessSample[]) {
  return {
    runs: samples.length,
    medianWallMs: round(median(samples.map((s) => s.wallMs))),
    medianCpuMs: round(median(samples.map((s) => s.cpuMs))),
    peakRssMiB: round(max(samples.map((s) => s.peakRssMiB)), 1),
    medianPeakRssMiB: round(median(samples.map((s) => s.peakRssMiB)), 1),
    wallMs: samples.map((s) => round(s.wallMs)),
  };
}

function sshdVersion(): string {
  // sshd has no --version; -V prints it on stderr (and exits non-zero on older releases).
  const r = spawnSync("/usr/sbin/sshd", ["-V"], { encoding: "utf8" });
  return /OpenSSH_[^\s,]+/.exec(`${r.stdout ?? ""}${r.stderr ?? ""}`)?.[0] ?? "unknown";
}

function cpuModel(): string {
  return cpus()[0]?.model?.trim() ?? "unknown";
}

interface Target {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly target: string;
  readonly holds: boolean;
}

function targets(r: {
  throughput: { ratio: number; kit: { peakRssMiB: number } };
  memory: { BIG64: { peakRssMiB: number }; BIG1G: { peakRssMiB: number } };
  timeToVerdict: { speedup: number };
  blackhole: { ratio: number };
  startup: { version: { medianWallMs: number } };
}): Target[] {
  const rss64 = r.memory.BIG64.peakRssMiB;
  const rss1g = r.memory.BIG1G.peakRssMiB;
  const worstRss = Math.max(r.throughput.kit.peakRssMiB, rss64, rss1g);
  const spread = Math.abs(rss1g - rss64) / rss64;
  return [
    {
      name: "download wall time vs OpenSSH sftp (256 MiB)",
      value: round(r.throughput.ratio, 2),
      unit: "×",
      target: `≤ ${TARGETS.downloadRatio}×`,
      holds: r.throughput.ratio <= TARGETS.downloadRatio,
    },
    {
      name: "kit peak RSS (64 MiB, 256 MiB, 1 GiB)",
      value: round(worstRss, 1),
      unit: "MiB",
      target: `≤ ${TARGETS.peakRssMiB} MiB`,
      holds: worstRss <= TARGETS.peakRssMiB,
    },
    {
      name: "peak RSS 1 GiB vs 64 MiB",
      value: round(spread * 100, 1),
      unit: "%",
      target: `within ${TARGETS.rssSpread * 100}%`,
      holds: spread <= TARGETS.rssSpread,
    },
    {
      name: "time to verdict, 4 endpoints, vs sequential sftp",
      value: round(r.timeToVerdict.speedup, 2),
      unit: "× faster",
      target: `≥ ${TARGETS.verdictSpeedup}×`,
      holds: r.timeToVerdict.speedup >= TARGETS.verdictSpeedup,
    },
    {
      name: "blackholed endpoint: total / connect timeout",
      value: round(r.blackhole.ratio, 2),
      unit: "×",
      target: `≤ ${TARGETS.blackholeRatio}×`,
      holds: r.blackhole.ratio <= TARGETS.blackholeRatio,
    },
    {
      name: "hkex-ready --version",
      value: round(r.startup.version.medianWallMs),
      unit: "ms",
      target: `≤ ${TARGETS.versionMs} ms`,
      holds: r.startup.version.medianWallMs <= TARGETS.versionMs,
    },
  ];
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: readonly string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  return [line(rows[0]!), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}

type Summary = ReturnType<typeof summary>;

function printResults(results: {
  throughput: { kit: Summary; sftp: Summary; ratio: number };
  memory: { BIG64: Summary; BIG1G: Summary };
  timeToVerdict: { kit: Summary; sequentialSftp: Summary; speedup: number };
  blackhole: { kit: Summary; inCheckMs: number; ratio: number; inCheckRatio: number; connectMs: number };
  startup: { version: Summary; checkHelp: Summary; nodeItself: Summary };
  targets: Target[];
  levers?: { sftp: Summary; variants: (Summary & { label: string; ratio: number })[] };
}): void {
  const t = results.throughput;
  const ms = (n: number) => `${round(n)} ms`;
  const mib = (n: number) => `${round(n, 1)} MiB`;
  const out: string[] = [];
  out.push("", "Measurements (medians of whole processes; peak RSS is the highest of the runs)", "");
  out.push(
    table([
      ["measurement", "kit (hkex-ready)", "OpenSSH", "result"],
      [
        `download 256 MiB, wall (${t.kit.runs} alternating runs each)`,
        ms(t.kit.medianWallMs),
        ms(t.sftp.medianWallMs),
        `${round(t.ratio, 2)}× sftp`,
      ],
      ["download 256 MiB, CPU (user+sys)", ms(t.kit.medianCpuMs), ms(t.sftp.medianCpuMs), ""],
      ["download 256 MiB, peak RSS", mib(t.kit.peakRssMiB), mib(t.sftp.peakRssMiB), ""],
      ["download 64 MiB, peak RSS", mib(results.memory.BIG64.peakRssMiB), "", ""],
      ["download 1 GiB, peak RSS", mib(results.memory.BIG1G.peakRssMiB), "", `${ms(results.memory.BIG1G.medianWallMs)} wall`],
      [
        `time to verdict, 4 endpoints, +${LATENCY_MS} ms each way`,
        ms(results.timeToVerdict.kit.medianWallMs),
        ms(results.timeToVerdict.sequentialSftp.medianWallMs),
        `${round(results.timeToVerdict.speedup, 2)}× faster`,
      ],
      [
        `one endpoint blackholed, connectMs ${results.blackhole.connectMs}`,
        ms(results.blackhole.kit.medianWallMs),
        "",
        `${round(results.blackhole.ratio, 2)}× connectMs (check itself ${round(results.blackhole.inCheckRatio, 2)}×)`,
      ],
      ["hkex-ready --version", ms(results.startup.version.medianWallMs), "", `node -e 0: ${ms(results.startup.nodeItself.medianWallMs)}`],
      ["hkex-ready check --help", ms(results.startup.checkHelp.medianWallMs), "", mib(results.startup.checkHelp.peakRssMiB)],
    ]),
  );
  out.push("", "Targets", "");
  out.push(
    table([
      ["target", "measured", "wanted", "holds"],
      ...results.targets.map((x) => [x.name, `${x.value} ${x.unit}`, x.target, x.holds ? "yes" : "NO"]),
    ]),
  );
  if (results.levers) {
    out.push("", `Levers (bench/fetch.js, 256 MiB, alternating with sftp at ${ms(results.levers.sftp.medianWallMs)})`, "");
    out.push(
      table([
        ["variant", "wall", "× sftp", "CPU", "peak RSS"],
        ...results.levers.variants.map((v) => [v.label, ms(v.medianWallMs), `${round(v.ratio, 2)}`, ms(v.medianCpuMs), mib(v.peakRssMiB)]),
      ]),
    );
  }
  out.push("", `written to ${RESULTS}`, "");
  process.stdout.write(`${out.join("\n")}\n`);
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
  try {
    await bench.setUp();
    const throughput = await bench.throughput();
    const memory = await bench.memory();
    const timeToVerdict = await bench.timeToVerdict();
    const blackhole = await bench.blackhole();
    const startup = await bench.startup();
    const levers = args.levers ? await bench.levers() : undefined;
    const measured = { throughput, memory, timeToVerdict, blackhole, startup } as unknown as Parameters<typeof targets>[0];
    const results = {
      schema: 1,
      startedAt: bench.started.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpuModel: cpuModel(),
        memoryGiB: round(totalmem() / 1024 ** 3, 1),
        node: process.version,
        openssh: sshdVersion(),
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
      runs: args.runs,
      ...measured,
      ...(levers ? { levers } : {}),
      targets: targets(measured),
    };
    await mkdir(join(REPO, "bench"), { recursive: true });
    await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    printResults(results as unknown as Parameters<typeof printResults>[0]);
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
