/** Builds configs and run contexts for integration tests: everything on loopback, in a temp folder. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { normaliseConfig, type Config } from "../../checks/config";
import { loadUserKey } from "../../checks/keys";
import { parseKnownHosts } from "../../checks/knownHosts";
import type { RunContext } from "../../checks/run";
import type { RunningSimulator } from "../../checks/simulator";
import { generateEd25519KeyPair } from "../../checks/keygen";

export interface TestKey {
  readonly privatePath: string;
  readonly publicLine: string;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

export function newUserKey(dir: string, name = "id_ed25519"): TestKey {
  const pair = generateEd25519KeyPair();
  const privatePath = join(dir, name);
  writeFileSync(privatePath, pair.private, { mode: 0o600 });
  writeFileSync(`${privatePath}.pub`, `${pair.public}\n`);
  return { privatePath, publicLine: pair.public };
}

export function makeConfig(dir: string, fields: Record<string, unknown>): Config {
  return normaliseConfig(
    {
      user: "CP0001",
      knownHostsFile: "./known_hosts",
      files: ["TP001", "TP002"],
      downloadDir: "./downloads",
      timeouts: { connectMs: 2000, handshakeMs: 4000, operationMs: 4000, transferMs: 20000 },
      ...fields,
    },
    join(dir, "hkex.yaml"),
  );
}

export function contextFor(config: Config, knownHosts: string, extra: Partial<RunContext> = {}): RunContext {
  writeFileSync(config.knownHostsFile, knownHosts);
  return { config, key: loadUserKey(config, {}), knownHosts: parseKnownHosts(knownHosts), ...extra };
}

/**
 * A run context against the simulator: one primary endpoint (the first) and
 * both secondary ones, the simulator's host keys pinned.
 */
export function simulatorContext(dir: string, sim: RunningSimulator, key: TestKey, fields: Record<string, unknown>): RunContext {
  const sites = sim.configSites();
  const config = makeConfig(dir, {
    identityFile: key.privatePath,
    sites: { primary: { hosts: [sites.primary.hosts[0]] }, secondary: sites.secondary },
    ...fields,
  });
  return contextFor(config, sim.knownHosts());
}

/** A deterministic payload of any size, for byte-exact comparisons. */
export function payload(size: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
