/**
 * Runs one command as a separate process and measures it as a user would
 * feel it: wall time from spawn to exit, plus peak RSS and CPU time from
 * GNU time (which also counts the children it waited for, such as the `ssh`
 * process under `sftp`). Every process is killed if it runs past its limit.
 */
import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";

export const GNU_TIME = "/usr/bin/time";

export interface ProcessSample {
  readonly wallMs: number;
  /** User + system CPU of the process and its waited-for children. */
  readonly cpuMs: number;
  /** Peak resident set size of the largest process in the tree, in MiB. */
  readonly peakRssMiB: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  /** Where GNU time may write its one line. */
  readonly scratchDir: string;
}

const MAX_CAPTURE = 4 * 1024 * 1024;
let sequence = 0;
/** Process groups still running, so an interrupted bench can stop them. */
const running = new Set<number>();

/** Kills every process group `measure` started that has not exited yet. */
export function killRunning(): void {
  for (const pgid of running) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  running.clear();
}

export async function measure(command: string, args: readonly string[], opts: RunOptions): Promise<ProcessSample> {
  const timeFile = join(opts.scratchDir, `time-${process.pid}-${sequence++}.txt`);
  const child = spawn(GNU_TIME, ["-f", "%M %U %S", "-o", timeFile, command, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so a timeout can stop the whole tree (sftp and its ssh).
    detached: true,
  });
  const started = performance.now();
  if (child.pid !== undefined) running.add(child.pid);
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => {
    if (stdout.length < MAX_CAPTURE) stdout += s;
  });
  child.stderr!.setEncoding("utf8").on("data", (s: string) => {
    if (stderr.length < MAX_CAPTURE) stderr += s;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }, opts.timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c) => resolve(c));
  }).finally(() => {
    clearTimeout(timer);
    if (child.pid !== undefined) running.delete(child.pid);
  });
  const wallMs = performance.now() - started;
  if (timedOut) throw new Error(`${command} ${args.join(" ")}: still running after ${opts.timeoutMs} ms, killed`);
  const line = (await readFile(timeFile, "utf8").catch(() => "")).trim().split("\n").pop() ?? "";
  await rm(timeFile, { force: true });
  const [rssKiB, user, system] = line.split(" ").map(Number);
  if (![rssKiB, user, system].every((n) => Number.isFinite(n))) {
    throw new Error(`${GNU_TIME} gave no measurement for ${command} (${line || "empty"}); stderr: ${stderr.slice(-500)}`);
  }
  return { wallMs, cpuMs: (user! + system!) * 1000, peakRssMiB: rssKiB! / 1024, code, stdout, stderr };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function max(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.max(...values);
}
