/**
 * What the bench prints and judges: summaries of whole-process samples, the
 * targets of issues 5 and 13, and the tables.
 */
import { max, median, type ProcessSample } from "./measure";

const round = (n: number, digits = 0) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

export function summary(samples: readonly ProcessSample[]) {
  return {
    runs: samples.length,
    medianWallMs: round(median(samples.map((s) => s.wallMs))),
    medianCpuMs: round(median(samples.map((s) => s.cpuMs))),
    peakRssMiB: round(max(samples.map((s) => s.peakRssMiB)), 1),
    medianPeakRssMiB: round(median(samples.map((s) => s.peakRssMiB)), 1),
    wallMs: samples.map((s) => round(s.wallMs)),
  };
}

export type Summary = ReturnType<typeof summary>;

export interface LineResult {
  readonly id: string;
  readonly profile: string;
  readonly latencyMsOneWay: number;
  readonly bitsPerSecond?: number;
  readonly file: string;
  readonly bytes: number;
  readonly kit: Summary;
  readonly sftp: Summary;
  readonly rclone: Summary;
  /** Median of the kit's own transfer time for the file (open to rename), from its report. */
  readonly kitTransferMs: number;
  /** Capped lines: the file's size at the line's rate. */
  readonly lineMs?: number;
  /** Capped lines: the kit's transfer rate as a share of the line's rate. */
  readonly lineShare?: number;
  readonly ratioSftp: number;
  readonly ratioRclone: number;
  /** Median wall time of each client fetching one 48 KiB file over the same line: start-up, handshake, login, logout. */
  readonly sessionMs: Record<"kit" | "sftp" | "rclone", number>;
  /** Median wall time of the big file less the session's: what the bytes themselves cost each client. */
  readonly beyondSessionMs: Record<"kit" | "sftp" | "rclone", number>;
  readonly beyondSessionRatioSftp: number;
  readonly beyondSessionRatioRclone: number;
}

export interface LeverResult {
  readonly profile: string;
  readonly file: string;
  readonly sftp: Summary;
  readonly variants: (Summary & { label: string; options: unknown; ratio: number; transferMs: number })[];
}

/** What the bench measured; every part is optional (`--only`). */
export interface Measured {
  readonly lines?: LineResult[];
  readonly memory?: Record<string, Summary & { profile: string }>;
  readonly timeToVerdict?: { speedup: number; kit: Summary; sequentialSftp: Summary };
  readonly blackhole?: { ratio: number; inCheckRatio: number; inCheckMs: number; connectMs: number; kit: Summary };
  readonly startup?: { version: Summary; checkHelp: Summary; nodeItself: Summary };
}

const TARGETS = {
  /** Issue 13: loopback no worse than before (1.35× sftp) and ahead of rclone. */
  loopbackRatio: 1.35,
  /** Issue 13: on unlimited long lines at most 0.7× sftp's wall time and ahead of rclone. */
  longLineRatio: 0.7,
  /** Issue 13: on capped lines within 5 % of the line's capacity and no slower than sftp. */
  lineShare: 0.95,
  cappedRatio: 1,
  peakRssMiB: 128,
  rssSpread: 0.1,
  verdictSpeedup: 3,
  blackholeRatio: 1.1,
  versionMs: 150,
} as const;

export interface Target {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly target: string;
  readonly holds: boolean;
}

function lineTargets(l: LineResult): Target[] {
  const out: Target[] = [];
  const wanted = l.latencyMsOneWay === 0 ? TARGETS.loopbackRatio : l.lineShare === undefined ? TARGETS.longLineRatio : TARGETS.cappedRatio;
  out.push({
    name: `${l.profile}: kit vs sftp, wall`,
    value: round(l.ratioSftp, 2),
    unit: "×",
    target: `≤ ${wanted}×`,
    holds: l.ratioSftp <= wanted,
  });
  if (l.lineShare === undefined) {
    out.push({
      name: `${l.profile}: kit vs rclone, wall`,
      value: round(l.ratioRclone, 2),
      unit: "×",
      target: "< 1×",
      holds: l.ratioRclone < 1,
    });
  } else {
    out.push({
      name: `${l.profile}: kit's transfer rate / line rate`,
      value: round(l.lineShare * 100, 1),
      unit: "%",
      target: `≥ ${TARGETS.lineShare * 100}%`,
      holds: l.lineShare >= TARGETS.lineShare,
    });
  }
  return out;
}

function memoryTargets(memory: NonNullable<Measured["memory"]>): Target[] {
  const out: Target[] = [];
  for (const [key, m] of Object.entries(memory)) {
    if (!key.startsWith("BIG1G")) continue;
    out.push({
      name: `peak RSS, 1 GiB, ${m.profile}`,
      value: m.peakRssMiB,
      unit: "MiB",
      target: `≤ ${TARGETS.peakRssMiB} MiB`,
      holds: m.peakRssMiB <= TARGETS.peakRssMiB,
    });
  }
  const rss64 = memory.BIG64?.peakRssMiB;
  const rss1g = memory.BIG1G?.peakRssMiB;
  if (rss64 !== undefined && rss1g !== undefined) {
    const spread = Math.abs(rss1g - rss64) / rss64;
    out.push({
      name: "peak RSS 1 GiB vs 64 MiB (loopback)",
      value: round(spread * 100, 1),
      unit: "%",
      target: `within ${TARGETS.rssSpread * 100}%`,
      holds: spread <= TARGETS.rssSpread,
    });
  }
  return out;
}

export function targets(r: Measured): Target[] {
  const out: Target[] = [...(r.lines ?? []).flatMap(lineTargets), ...(r.memory ? memoryTargets(r.memory) : [])];
  if (r.timeToVerdict) {
    out.push({
      name: "time to verdict, 4 endpoints, vs sequential sftp",
      value: round(r.timeToVerdict.speedup, 2),
      unit: "× faster",
      target: `≥ ${TARGETS.verdictSpeedup}×`,
      holds: r.timeToVerdict.speedup >= TARGETS.verdictSpeedup,
    });
  }
  if (r.blackhole) {
    out.push({
      name: "blackholed endpoint: total / connect timeout",
      value: round(r.blackhole.ratio, 2),
      unit: "×",
      target: `≤ ${TARGETS.blackholeRatio}×`,
      holds: r.blackhole.ratio <= TARGETS.blackholeRatio,
    });
  }
  if (r.startup) {
    out.push({
      name: "hkex-ready --version",
      value: round(r.startup.version.medianWallMs),
      unit: "ms",
      target: `≤ ${TARGETS.versionMs} ms`,
      holds: r.startup.version.medianWallMs <= TARGETS.versionMs,
    });
  }
  return out;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: readonly string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  return [line(rows[0]!), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}

const ms = (n: number) => `${round(n)} ms`;
const mib = (n: number) => `${round(n, 1)} MiB`;

function linesTable(lines: readonly LineResult[]): string {
  return table([
    [
      "profile",
      "file",
      "kit",
      "sftp",
      "rclone",
      "kit/sftp",
      "kit/rclone",
      "CPU kit/sftp/rclone",
      "peak RSS kit/sftp/rclone",
      "kit transfer",
    ],
    ...lines.map((l) => [
      l.profile,
      `${l.bytes / (1024 * 1024)} MiB`,
      ms(l.kit.medianWallMs),
      ms(l.sftp.medianWallMs),
      ms(l.rclone.medianWallMs),
      `${round(l.ratioSftp, 2)}×`,
      `${round(l.ratioRclone, 2)}×`,
      `${round(l.kit.medianCpuMs)}/${round(l.sftp.medianCpuMs)}/${round(l.rclone.medianCpuMs)} ms`,
      `${round(l.kit.peakRssMiB, 1)}/${round(l.sftp.peakRssMiB, 1)}/${round(l.rclone.peakRssMiB, 1)} MiB`,
      `${ms(l.kitTransferMs)}${l.lineShare !== undefined ? ` (${round(l.lineShare * 100, 1)}% of the line)` : ""}`,
    ]),
  ]);
}

function sessionsTable(lines: readonly LineResult[]): string {
  return table([
    ["profile", "session (48 KiB) kit/sftp/rclone", "big file less session kit/sftp/rclone", "kit/sftp", "kit/rclone"],
    ...lines.map((l) => [
      l.profile,
      `${l.sessionMs.kit}/${l.sessionMs.sftp}/${l.sessionMs.rclone} ms`,
      `${l.beyondSessionMs.kit}/${l.beyondSessionMs.sftp}/${l.beyondSessionMs.rclone} ms`,
      `${round(l.beyondSessionRatioSftp, 2)}×`,
      `${round(l.beyondSessionRatioRclone, 2)}×`,
    ]),
  ]);
}

function othersTable(r: Measured): string {
  const rows: string[][] = [["measurement", "kit (hkex-ready)", "OpenSSH", "result"]];
  for (const [key, m] of Object.entries(r.memory ?? {})) {
    rows.push([`download ${key.replace(/@.*/, "")}, peak RSS, ${m.profile}`, mib(m.peakRssMiB), "", `${ms(m.medianWallMs)} wall`]);
  }
  if (r.timeToVerdict) {
    rows.push([
      "time to verdict, 4 endpoints, +20 ms each way",
      ms(r.timeToVerdict.kit.medianWallMs),
      ms(r.timeToVerdict.sequentialSftp.medianWallMs),
      `${round(r.timeToVerdict.speedup, 2)}× faster`,
    ]);
  }
  if (r.blackhole) {
    rows.push([
      `one endpoint blackholed, connectMs ${r.blackhole.connectMs}`,
      ms(r.blackhole.kit.medianWallMs),
      "",
      `${round(r.blackhole.ratio, 2)}× connectMs (check itself ${round(r.blackhole.inCheckRatio, 2)}×)`,
    ]);
  }
  if (r.startup) {
    rows.push(["hkex-ready --version", ms(r.startup.version.medianWallMs), "", `node -e 0: ${ms(r.startup.nodeItself.medianWallMs)}`]);
    rows.push(["hkex-ready check --help", ms(r.startup.checkHelp.medianWallMs), "", mib(r.startup.checkHelp.peakRssMiB)]);
  }
  return table(rows);
}

function leversTable(levers: readonly LeverResult[]): string {
  return table([
    ["profile", "variant", "wall", "× sftp", "transfer", "CPU", "peak RSS"],
    ...levers.flatMap((l) => [
      [l.profile, `sftp (${l.file})`, ms(l.sftp.medianWallMs), "1", "", ms(l.sftp.medianCpuMs), mib(l.sftp.peakRssMiB)],
      ...l.variants.map((v) => [
        l.profile,
        v.label,
        ms(v.medianWallMs),
        `${round(v.ratio, 2)}`,
        ms(v.transferMs),
        ms(v.medianCpuMs),
        mib(v.peakRssMiB),
      ]),
    ]),
  ]);
}

export function printResults(results: Measured & { targets: Target[]; levers?: LeverResult[] }, written: string): void {
  const out: string[] = [];
  if (results.lines) {
    out.push(
      "",
      "Downloads per line (medians of whole processes, alternating; peak RSS is the highest run)",
      "",
      linesTable(results.lines),
    );
    out.push("", "Session cost and the bytes themselves (48 KiB file, same rounds)", "", sessionsTable(results.lines));
  }
  if (results.memory || results.timeToVerdict || results.startup)
    out.push("", "Memory, time to verdict, start-up", "", othersTable(results));
  out.push("", "Targets", "");
  out.push(
    table([
      ["target", "measured", "wanted", "holds"],
      ...results.targets.map((x) => [x.name, `${x.value} ${x.unit}`, x.target, x.holds ? "yes" : "NO"]),
    ]),
  );
  if (results.levers) out.push("", "Levers (bench/fetch.js, alternating with sftp)", "", leversTable(results.levers));
  out.push("", `written to ${written}`, "");
  process.stdout.write(`${out.join("\n")}\n`);
}
