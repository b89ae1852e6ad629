/**
 * Shared by the fault, input, security and endurance tests: the compiled CLI
 * as a child process, YAML configs in a temp folder, and scans of a folder
 * for temporary or partial files. Everything stays on loopback.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { stringify } from "yaml";
import type { PhaseResult } from "../../checks/report";

const BIN = join(__dirname, "..", "..", "bin", "hkex-ready.js");
const MODULES = join(__dirname, "..", "..", "dist", "cli", "main.js");

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the compiled command to completion (60 s at most; the tests' own timeouts are far shorter). */
export function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<CliResult> {
  return runNode([BIN, ...args], env, cwd);
}

/**
 * The same command run from the compiled modules (dist/cli/main.js) instead of
 * the launcher's bundle, for a test that instruments a package in node_modules
 * with `node --require` (countKdf.cjs): the bundle carries its own copy of
 * every package it bundles, which no preload can reach.
 */
export function cliFromModules(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const script = `require(${JSON.stringify(MODULES)}).main([process.argv[0], "hkex-ready", ...process.argv.slice(1)]).then((code) => process.exit(code));`;
  return runNode(["-e", script, "--", ...args], env);
}

function runNode(nodeArgs: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      nodeArgs,
      { env: { ...process.env, CI: "true", NO_COLOR: "1", ...env }, timeout: 60_000, cwd, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals }) | null;
        resolve({ code: e ? (typeof e.code === "number" ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
      },
    );
  });
}

/** The same, synchronously, for the many quick bad-input cases. */
export function cliSync(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, CI: "true", NO_COLOR: "1", ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A running CLI whose stdout and stderr are collected as they arrive. */
export interface RunningCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<CliResult>;
}

export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, CI: "true", NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (err += s));
  const exited = new Promise<CliResult>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal, stdout: out, stderr: err })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Writes a YAML config (relative paths resolve from `dir`) and returns its path. */
export function writeConfig(dir: string, fields: Record<string, unknown>, name = "hkex.yaml"): string {
  const path = join(dir, name);
  writeFileSync(path, stringify(fields));
  return path;
}

/** Every file below `dir`, relative to it ("" when the folder does not exist). */
export function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

/** Temporary names the kit uses: downloads (`.NAME.pid.rand.partial`) and atomic writes (`.NAME.pid.rand.tmp`). */
export function temporaryFiles(dir: string): string[] {
  return filesBelow(dir).filter((f) => /\.(partial|tmp)$/.test(f));
}

/** Polls until `pred` is true; the caller's test timeout bounds the wait. */
export async function waitUntil(pred: () => boolean, intervalMs = 10): Promise<void> {
  while (!pred()) await new Promise((r) => setTimeout(r, intervalMs));
}

/** Each phase as "name:status", in order: what a test compares against the phase table. */
export function phaseStatuses(phases: readonly PhaseResult[]): string[] {
  return phases.map((p) => `${p.name}:${p.status}`);
}

/** The first failed phase of an endpoint's phases. */
export function firstFailure(phases: readonly PhaseResult[]): PhaseResult | undefined {
  return phases.find((p) => p.status === "fail");
}

/** Text of every file below `dir`, for searching outputs. */
export function allFileTexts(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of filesBelow(dir)) out[relative(dir, join(dir, f))] = readFileSync(join(dir, f), "utf8");
  return out;
}

export function mkdirp(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

/**
 * The bound a phase may take: its own timeout, plus the grace the probe gives
 * an aborted phase to remove temporary files, plus generous scheduling slack
 * for a loaded 2-core CI machine. A hang would blow far past it.
 */
export function withinTimeout(p: PhaseResult): boolean {
  return p.timeoutMs !== undefined && p.ms <= p.timeoutMs + 2000 + 3000;
}
