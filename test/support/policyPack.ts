// biome-ignore-all lint/suspicious/noExplicitAny: the analyzer protocol classes come from untyped generated protobuf code
/**
 * The policy pack as the Pulumi CLI runs it, and a standalone install of it.
 *
 * Starting: for a Node.js pack the CLI runs its `pulumi-analyzer-policy` plugin
 * with the pack's folder as working directory and the arguments
 * `<engine address> . -<runtime option>=<value>...` (pulumi/pulumi,
 * sdk/go/common/resource/plugin/analyzer_plugin.go, NewPolicyAnalyzer). That
 * plugin is a shell script that resolves `@pulumi/pulumi/cmd/run-policy-pack`
 * from the pack's folder and runs it with node (sdk/nodejs/dist/pulumi-analyzer-policy).
 * run-policy-pack requires "." (so package.json `main`), the pack prints its
 * gRPC port on stdout, and the CLI speaks the analyzer protocol to that port.
 * startPolicyPack does the same, minus the shell script.
 *
 * Installing: `installPackOffline` runs `npm ci --offline` in a folder that
 * holds only the pack. The lockfile it writes there is cut from the root
 * package-lock.json (the declared dependencies and everything they need, at the
 * versions the root installed and tested), and npm takes the tarballs from its
 * own cache, which the root `npm ci` filled. Nothing is fetched from the
 * network; the versions are the root's, not whatever the registry says today.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parse } from "yaml";

/* eslint-disable @typescript-eslint/no-require-imports */
const grpc = require("@grpc/grpc-js");
const services = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
export const pb = require("@pulumi/pulumi/proto/analyzer_pb");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

export const REPO_ROOT = join(__dirname, "..", "..");
export const PACK_DIR = join(REPO_ROOT, "policies");

/** pulumirpc.EnforcementLevel, by number. */
export const LEVEL = ["advisory", "mandatory", "disabled", "remediate"];

export interface RunningPack {
  readonly process: ChildProcess;
  readonly port: number;
  rpc(name: string, request: unknown): Promise<any>;
  info(): Promise<any>;
  close(): void;
}

/** The runtime options of PulumiPolicy.yaml, as the CLI turns them into arguments. */
function runtimeOptionArgs(packDir: string): string[] {
  const text = readFileSync(join(packDir, "PulumiPolicy.yaml"), "utf8");
  const runtime = (parse(text) as { runtime?: string | { options?: Record<string, unknown> } }).runtime;
  const options = typeof runtime === "object" ? (runtime.options ?? {}) : {};
  return Object.entries(options)
    .map(([k, v]) => [k, String(v)])
    .filter(([, v]) => v !== "")
    .map(([k, v]) => `-${k}=${v}`);
}

/**
 * Starts the pack in `packDir` the way the CLI does, with @pulumi/pulumi
 * resolved from that folder (its own node_modules, or the repo's for policies/).
 * The engine address is one nobody listens on: the pack only serves.
 */
export async function startPolicyPack(packDir: string): Promise<RunningPack> {
  const runPolicyPack = createRequire(join(packDir, "package.json")).resolve("@pulumi/pulumi/cmd/run-policy-pack");
  const child = spawn(process.execPath, [runPolicyPack, "127.0.0.1:1", ".", ...runtimeOptionArgs(packDir)], {
    cwd: packDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += String(chunk);
  });
  // Like the CLI, read the port the analyzer prints first.
  const first = await Promise.race([
    once(child.stdout!, "data").then(([chunk]) => String(chunk)),
    once(child, "exit").then(([code]) => {
      throw new Error(`the policy pack in ${packDir} exited with ${code} before printing its port: ${stderr.trim()}`);
    }),
  ]);
  const port = Number(first.trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`the policy pack printed ${JSON.stringify(first)} instead of a port`);
  const client = new services.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const rpc = (name: string, request: unknown): Promise<any> =>
    new Promise((resolve, reject) => {
      const call = client[name];
      if (typeof call !== "function") return reject(new Error(`the analyzer client has no ${name} call`));
      call.call(client, request, (err: Error | null, res: any) => (err ? reject(err) : resolve(res)));
    });
  return {
    process: child,
    port,
    rpc,
    info: () => rpc("getAnalyzerInfo", new Empty()),
    close() {
      client.close();
      child.kill();
    },
  };
}

/** A resource for Analyze (AnalyzeRequest) or AnalyzeStack (AnalyzerResource), in stack `prod`. */
export function analyzerResource<T>(Ctor: new () => T, type: string, name: string, props: object): T {
  return (new Ctor() as any)
    .setType(type)
    .setName(name)
    .setUrn(`urn:pulumi:prod::hkex-sftp-readiness::${type}::${name}`)
    .setProperties(Struct.fromJavaScript(props))
    .setOptions(new pb.AnalyzerResourceOptions());
}

/** A diagnostic as [policy, level, message]: what the CLI prints of it. */
export function diagnostics(response: any): [string, string, string][] {
  return response.getDiagnosticsList().map((d: any) => [d.getPolicyname(), LEVEL[d.getEnforcementlevel()] ?? "?", d.getMessage()]);
}

interface LockEntry {
  version: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  devOptional?: boolean;
  [field: string]: unknown;
}

interface Manifest {
  name: string;
  version: string;
  license?: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
}

/** The folder that holds `node_modules/<name>` as Node would find it from `from`, walking up. */
function resolveInLock(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  for (let at = from; ; ) {
    const key = `${at === "" ? "" : `${at}/`}node_modules/${name}`;
    if (packages[key]) return key;
    if (at === "") return undefined;
    const cut = at.lastIndexOf("/node_modules/");
    at = cut < 0 ? "" : at.slice(0, cut);
  }
}

/**
 * A package-lock.json (v3) for `manifest`, taken from the root lockfile: each
 * declared dependency and what it needs (dependencies, optional ones that the
 * root installed, required peers), at the same paths and versions. The root
 * lockfile leaves out `resolved` (omit-lockfile-registry-resolved), so it is
 * put back as the registry's tarball address, which is how npm keys its cache.
 */
function packLockFromRoot(rootLock: { packages: Record<string, LockEntry> }, manifest: Manifest, registry: string): object {
  const base = registry.endsWith("/") ? registry : `${registry}/`;
  const packages: Record<string, object> = {
    "": {
      name: manifest.name,
      version: manifest.version,
      license: manifest.license,
      engines: manifest.engines,
      dependencies: manifest.dependencies,
    },
  };
  const queue: [from: string, name: string, optional: boolean][] = Object.keys(manifest.dependencies ?? {}).map((n) => ["", n, false]);
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const [from, name, optional] = next;
    const key = resolveInLock(rootLock.packages, from, name);
    if (key === undefined) {
      if (optional) continue;
      throw new Error(`the root package-lock.json has no ${name} (needed by ${from || manifest.name})`);
    }
    if (packages[key]) continue;
    const { dev: _dev, devOptional: _devOptional, ...entry } = rootLock.packages[key]!;
    const file = `${name.split("/").pop()}-${entry.version}.tgz`;
    packages[key] = { ...entry, resolved: entry.resolved ?? `${base}${name}/-/${file}` };
    for (const d of Object.keys(entry.dependencies ?? {})) queue.push([key, d, false]);
    for (const d of Object.keys(entry.optionalDependencies ?? {})) queue.push([key, d, true]);
    for (const d of Object.keys(entry.peerDependencies ?? {})) {
      if (entry.peerDependenciesMeta?.[d]?.optional !== true) queue.push([key, d, false]);
    }
  }
  return { name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages };
}

function npm(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("npm", args, { cwd, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

export async function npmOrThrow(args: string[], cwd: string): Promise<string> {
  const r = await npm(args, cwd);
  if (r.code !== 0) throw new Error(`npm ${args.join(" ")} in ${cwd} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** `npm ci --offline` of the pack in `dir` (a folder that holds only the pack), with a lockfile cut from the root's. */
export async function installPackOffline(dir: string): Promise<void> {
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
  const rootLock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8"));
  const registry = (await npmOrThrow(["config", "get", "registry"], dir)).trim();
  writeFileSync(join(dir, "package-lock.json"), `${JSON.stringify(packLockFromRoot(rootLock, manifest, registry), null, 2)}\n`);
  const r = await npm(["ci", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], dir);
  if (r.code !== 0) {
    const hint = /ENOTCACHED/.test(r.stderr)
      ? " (npm's cache lacks a package the root lockfile names: run `npm ci` at the repo root, which fills it)"
      : "";
    throw new Error(`npm ci --offline of the pack in ${dir} failed (${r.code})${hint}: ${r.stderr.trim()}`);
  }
}
