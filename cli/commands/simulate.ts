/**
 * `hkex-ready simulate`: the built-in simulator of the HKEX SFTP facility on
 * loopback, with a user key, known_hosts and a ready-to-use config written to
 * --dir, until SIGINT or SIGTERM.
 *
 * Files already in --dir are reused (keys) or replaced only when this command
 * wrote them, so pointing --dir at a folder with real keys cannot destroy them.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { SFTP_PORT, SITE_NAMES, type SiteName } from "../../catalogue";
import { InputError } from "../../core/errors";
import { startSimulator, type RunningSimulator } from "../../checks/simulator";
import { parseFaultFlags } from "../../checks/simulator/faults";
import { SAMPLE_FILE_NAMES } from "../../checks/simulator/files";
import { parseOneKey, publicKeyLine } from "../../checks/simulator/keys";
import { interruptSignal } from "../common";
import { EXIT } from "../exitCodes";
import { generateEd25519KeyPair } from "../../checks/keygen";

export interface SimulateOptions {
  readonly dir: string;
  readonly fault?: string[];
  /** Tests only (they must not take 18801): the CLI has no flag for it. */
  readonly port?: number;
}

export const SIMULATOR_USER = "CP0001";
const MARK = "# Written by hkex-ready simulate; it rewrites this file on every start.";

export interface SimulationFiles {
  readonly dir: string;
  readonly identityFile: string;
  readonly knownHostsFile: string;
  readonly configFile: string;
}

/** Reuses a private key file, or writes a new ed25519 one (mode 0600). */
function ensureKey(path: string, comment: string, flag: string): string {
  if (existsSync(path)) {
    try {
      const key = parseOneKey(readFileSync(path), path);
      if (!key.isPrivateKey()) throw new Error("is not a private key");
      return readFileSync(path, "utf8");
    } catch (err) {
      throw new InputError({
        path: flag,
        message: `${path} exists but cannot be used as an unencrypted private key (${(err as Error).message}); remove it or choose another --dir`,
      });
    }
  }
  const pair = generateEd25519KeyPair(comment);
  writeFileSync(path, pair.private, { mode: 0o600 });
  return pair.private;
}

/** Writes a file this command owns; refuses to replace one it did not write. */
function writeOwned(path: string, body: string): void {
  if (existsSync(path) && !readFileSync(path, "utf8").startsWith(MARK)) {
    throw new InputError({
      path: "--dir",
      message: `${path} exists and was not written by hkex-ready simulate; remove it or choose another --dir`,
    });
  }
  writeFileSync(path, `${MARK}\n${body}`);
}

/** Starts the simulator and writes the files a client needs; the caller closes it. */
export async function startSimulation(opts: SimulateOptions): Promise<{ sim: RunningSimulator; files: SimulationFiles }> {
  const faults = parseFaultFlags(opts.fault ?? []);
  const dir = resolve(opts.dir);
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw new Error("is not a folder");
  } catch (err) {
    throw new InputError({ path: "--dir", message: `${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
  }
  const files: SimulationFiles = {
    dir,
    identityFile: join(dir, "id_ed25519"),
    knownHostsFile: join(dir, "known_hosts"),
    configFile: join(dir, "hkex.yaml"),
  };
  const userKey = ensureKey(files.identityFile, `${SIMULATOR_USER}@hkex-ready-simulate`, "--dir");
  writeFileSync(`${files.identityFile}.pub`, `${publicKeyLine(userKey, `${SIMULATOR_USER}@hkex-ready-simulate`)}\n`, { mode: 0o644 });
  // Host keys are kept, so a restart does not look like a changed host key to other clients.
  const hostKeys = {} as Record<SiteName, string>;
  for (const site of SITE_NAMES) hostKeys[site] = ensureKey(join(dir, `ssh_host_${site}_ed25519`), `hkex-sftp-simulator ${site}`, "--dir");

  const sim = await startSimulator({
    port: opts.port ?? SFTP_PORT,
    user: SIMULATOR_USER,
    authorizedKeys: [publicKeyLine(userKey)],
    hostKeys,
    faults,
  });
  try {
    writeOwned(files.knownHostsFile, sim.knownHosts());
    const config = {
      user: SIMULATOR_USER,
      identityFile: "./id_ed25519",
      knownHostsFile: "./known_hosts",
      remoteDir: sim.remoteDir,
      files: [...SAMPLE_FILE_NAMES],
      downloadDir: "./downloads",
      sites: sim.configSites(),
    };
    writeOwned(
      files.configFile,
      `# The simulator's loopback endpoints stand in for the HKEX hosts: ${sim.endpoints.map((e) => `${e.host} → ${e.bindHost}:${e.port}`).join(", ")}\n${stringify(config)}`,
    );
  } catch (err) {
    await sim.close();
    throw err;
  }
  return { sim, files };
}

export function describeSimulation(sim: RunningSimulator, files: SimulationFiles): string {
  const lines = ["HKEX SFTP facility simulator (loopback only)", "", "endpoints:"];
  for (const e of sim.endpoints) {
    const fault = e.fault === "none" ? "" : `  [fault: ${e.fault}]`;
    lines.push(`  ${e.site.padEnd(9)} ${e.host.padEnd(15)} → ${e.bindHost}:${e.port}${fault}`);
  }
  lines.push("", "host key fingerprints:");
  for (const site of SITE_NAMES) lines.push(`  ${site.padEnd(9)} ${sim.hostKeyFingerprints[site]}`);
  lines.push(
    "",
    `user ${sim.user}, key ${files.identityFile}`,
    `known_hosts ${files.knownHostsFile}`,
    `config ${files.configFile}`,
    "",
    "check against it with:",
    `  hkex-ready check --config ${files.configFile}`,
    "",
    "Ctrl-C (SIGINT) or SIGTERM stops it.",
    "",
  );
  return lines.join("\n");
}

export async function run(opts: SimulateOptions): Promise<number> {
  const { sim, files } = await startSimulation(opts);
  const stop = interruptSignal();
  try {
    if (sim.fallback) process.stderr.write(`hkex-ready: simulator: ${sim.fallbackReason}\n`);
    process.stdout.write(describeSimulation(sim, files));
    if (!stop.signal.aborted) await new Promise((r) => stop.signal.addEventListener("abort", r, { once: true }));
    process.stdout.write(`\n${stop.interrupted()}: stopping the simulator\n`);
    return EXIT.ok;
  } finally {
    stop.dispose();
    await sim.close();
  }
}
