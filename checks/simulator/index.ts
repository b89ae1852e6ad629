/**
 * The built-in simulator of the HKEX derivatives SFTP facility.
 *
 * Each catalogue endpoint a.b.c.d listens on its loopback alias 127.0.b.d
 * (10.151.14.141 → 127.0.151.141), port 18801 unless told otherwise, and
 * serves a read-only SFTP folder holding TP001 and TP002 to one user with
 * public key authentication only. Where the aliases or the port cannot be
 * bound (macOS has no 127.0.0.0/8 aliases by default; the port may be taken),
 * `bind: "auto"` falls back to 127.0.0.1 with an ephemeral port per endpoint
 * and says so in `fallback` / `fallbackReason`.
 *
 * Endpoints can then differ in port, which a SiteTable (one port per site)
 * cannot express: a config addresses them with `host:port` entries, as
 * configSites() returns them ("127.0.151.141:40123").
 *
 * Fault switches (see FAULTS) break one layer of one endpoint. A switch
 * applies to connections accepted after it; connections already open keep the
 * behaviour they started with.
 */
import type { ParsedKey } from "ssh2";
import { HKEX_SITES, SFTP_PORT, SITE_NAMES, endpointsOf, type SiteName, type SiteTable } from "../../catalogue";
import { InputError, type InputProblem } from "../../core/errors";
import { printable } from "../../core/text";
import { hostPortEntry, loopbackAliasFor } from "./addresses";
import { parseAuthorizedKeys } from "./auth";
import { applyListenerFaults, bindEndpoints, listenerModeFor, siteTableOf, type BindMode, type Binding } from "./binding";
import { SimulatedFacility, type Endpoint, type SimulatedEndpoint } from "./endpoint";
import { validateFaults, type Fault } from "./faults";
import { buildFileSet, validateFileName, type FileSpec } from "./files";
import { fingerprintOf, generateHostKey, knownHostsLine, parseOneKey } from "./keys";

export { FAULT_NAMES, type Fault } from "./faults";
export type { SimulatedEndpoint };

export interface SimulatorOptions {
  /** The endpoints to simulate (default: the catalogue's four). */
  sites?: SiteTable;
  /** Port for every endpoint on its alias (default 18801); 0 gives each endpoint its own ephemeral port. */
  port?: number;
  /**
   * "aliases": 127.0.b.d or fail; "localhost": 127.0.0.1 with an ephemeral
   * port per endpoint; "auto" (default): aliases, else localhost with
   * `fallback: true`.
   */
  bind?: BindMode;
  /** The one user that may log in (default "hkexsim"). */
  user?: string;
  /** Public keys allowed to log in, as OpenSSH one-line "ssh-ed25519 AAAA… comment" strings. */
  authorizedKeys: string[];
  /** Host private keys (OpenSSH or PEM) per site; an ed25519 key is generated for a site without one. */
  hostKeys?: Partial<Record<SiteName, string>>;
  /** The served folder, relative to the session's home "/" (default "."). */
  remoteDir?: string;
  /** Files besides TP001 and TP002 (a same-named entry replaces them); `{size}` content is generated on demand. */
  files?: Record<string, Buffer | { size: number }>;
  /** Fault per catalogue host at start, e.g. { "10.152.14.142": "refuse" }. */
  faults?: Record<string, Fault>;
}

export interface ConfigSite {
  /** "bindHost:port" entries, one per endpoint. */
  hosts: string[];
  port: number;
}

export interface RunningSimulator {
  /** One per catalogue endpoint, primary first; `fault` follows setFault(). */
  endpoints: SimulatedEndpoint[];
  fallback: boolean;
  fallbackReason?: string;
  /**
   * The sites table pointing at the bind hosts. A site has one port, so when
   * its endpoints ended up on different ports (port 0 or fallback) `port` is
   * the first endpoint's: use `endpoints` or configSites() to address them all.
   */
  sites: SiteTable;
  hostKeyFingerprints: Record<SiteName, string>;
  /** The user that may log in, and the served folder and file names. */
  user: string;
  remoteDir: string;
  fileNames: string[];
  /** "[bindHost]:port ssh-ed25519 AAAA…" for every endpoint, pinning the site's host key. */
  knownHosts(): string;
  /** `sites:` for a config: each endpoint as a "bindHost:port" entry. */
  configSites(): Record<SiteName, ConfigSite>;
  /** Switches one endpoint's fault; resolves once the switch is in effect (down and blackhole re-bind the port). */
  setFault(host: string, fault: Fault | "none"): Promise<void>;
  stats(): { connections: number; activeConnections: number };
  /** Closes every listener and connection and stops blackhole holders. */
  close(): Promise<void>;
}

const DEFAULT_USER = "hkexsim";

function validateOptions(
  opts: SimulatorOptions,
  sites: SiteTable,
): {
  keys: ParsedKey[];
  hostKeys: Record<SiteName, string>;
  faults: Record<string, Fault>;
} {
  const problems = settingProblems(opts, sites);
  const collect = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof InputError) problems.push(...err.problems);
      else throw err;
      return undefined;
    }
  };
  const keys = collect(() => parseAuthorizedKeys(opts.authorizedKeys ?? [])) ?? [];
  const hostKeys = collect(() => hostKeysOf(opts)) ?? ({} as Record<SiteName, string>);
  const faults = collect(() => validateFaults(opts.faults ?? {}, sites)) ?? {};
  if (problems.length > 0) throw new InputError(problems);
  return { keys, hostKeys, faults };
}

/** What is wrong with the plain settings (port, bind, user, remoteDir, files, sites), all at once. */
function settingProblems(opts: SimulatorOptions, sites: SiteTable): InputProblem[] {
  const problems: InputProblem[] = [];
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)) {
    problems.push({ path: "port", message: "must be 0 (ephemeral) or 1-65535" });
  }
  if (opts.bind !== undefined && !["auto", "aliases", "localhost"].includes(opts.bind)) {
    problems.push({ path: "bind", message: 'must be "auto", "aliases" or "localhost"' });
  }
  if (opts.user !== undefined && !/^[A-Za-z0-9._-]{1,32}$/.test(opts.user)) {
    problems.push({ path: "user", message: "must be 1-32 letters, digits, '.', '_' or '-'" });
  }
  if (opts.remoteDir !== undefined && (opts.remoteDir === "" || opts.remoteDir.includes("\0"))) {
    problems.push({ path: "remoteDir", message: "must be a non-empty path" });
  }
  for (const [name, spec] of Object.entries(opts.files ?? {})) {
    const bad = validateFileName(name);
    if (bad) problems.push({ path: `files.${name}`, message: bad });
    else if (!Buffer.isBuffer(spec) && !(Number.isSafeInteger(spec?.size) && spec.size >= 0)) {
      problems.push({ path: `files.${name}`, message: "must be a Buffer or { size: n } with a whole number of bytes" });
    }
  }
  for (const { host } of endpointsOf(sites)) {
    try {
      loopbackAliasFor(host);
    } catch (err) {
      problems.push({ path: "sites", message: (err as Error).message });
    }
  }
  return problems;
}

/** Each site's host key: the one given (a private key), or a new ed25519 key. */
function hostKeysOf(opts: SimulatorOptions): Record<SiteName, string> {
  const problems: InputProblem[] = [];
  const hostKeys = {} as Record<SiteName, string>;
  for (const site of SITE_NAMES) {
    const given = opts.hostKeys?.[site];
    if (given === undefined) {
      hostKeys[site] = generateHostKey(`hkex-sftp-simulator ${site}`);
      continue;
    }
    try {
      if (!parseOneKey(given, `hostKeys.${site}`).isPrivateKey()) throw new Error("must be a private key");
      hostKeys[site] = given;
    } catch (err) {
      problems.push({ path: `hostKeys.${site}`, message: (err as Error).message.replace(/^hostKeys\.\w+: /, "") });
    }
  }
  if (problems.length > 0) throw new InputError(problems);
  return hostKeys;
}

export async function startSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  const sites = opts.sites ?? HKEX_SITES;
  const { keys, hostKeys, faults } = validateOptions(opts, sites);
  // Computed before anything is bound, so a bad key cannot leave listeners open behind a throw.
  const hostKeyFingerprints = Object.fromEntries(SITE_NAMES.map((s) => [s, fingerprintOf(hostKeys[s])])) as Record<SiteName, string>;
  const requestedPort = opts.port ?? SFTP_PORT;
  const user = opts.user ?? DEFAULT_USER;
  const remoteDir = opts.remoteDir ?? ".";
  const files = buildFileSet(opts.files as Record<string, FileSpec> | undefined);
  const facility = new SimulatedFacility(hostKeys, { user, authorizedKeys: keys, remoteDir, files });
  const plan = endpointsOf(sites);
  const make = (bindHostOf: (host: string) => string, port: number): Endpoint[] =>
    plan.map(({ site, host }) => facility.endpoint({ site, host, bindHost: bindHostOf(host), port, fault: faults[host] ?? "none" }));
  const binding = await bindEndpoints(make, opts.bind ?? "auto", requestedPort, plan.length);
  await applyListenerFaults(binding.endpoints);
  return runningSimulator({
    binding,
    facility,
    sites,
    requestedPort,
    hostKeys,
    hostKeyFingerprints,
    user,
    remoteDir,
    fileNames: [...files.keys()],
  });
}

interface Started {
  readonly binding: Binding;
  readonly facility: SimulatedFacility;
  readonly sites: SiteTable;
  readonly requestedPort: number;
  readonly hostKeys: Readonly<Record<SiteName, string>>;
  readonly hostKeyFingerprints: Record<SiteName, string>;
  readonly user: string;
  readonly remoteDir: string;
  readonly fileNames: string[];
}

/** The handle on a started simulator. */
function runningSimulator(s: Started): RunningSimulator {
  const { endpoints } = s.binding;
  const onSite = (name: SiteName) => endpoints.filter((e) => e.view.site === name);
  return {
    endpoints: endpoints.map((ep) => ep.view),
    fallback: s.binding.fallback,
    fallbackReason: s.binding.fallbackReason,
    sites: siteTableOf(s.sites, endpoints, s.requestedPort),
    hostKeyFingerprints: s.hostKeyFingerprints,
    user: s.user,
    remoteDir: s.remoteDir,
    fileNames: s.fileNames,
    knownHosts: () => `${endpoints.map((e) => knownHostsLine(e.view.bindHost, e.view.port, s.hostKeys[e.view.site])).join("\n")}\n`,
    configSites: () =>
      Object.fromEntries(
        SITE_NAMES.map((name) => {
          const eps = onSite(name);
          return [name, { hosts: eps.map((e) => hostPortEntry(e.view.bindHost, e.view.port)), port: eps[0]?.view.port ?? s.requestedPort }];
        }),
      ) as Record<SiteName, ConfigSite>,
    setFault: (host, fault) => setFault(s, host, fault),
    stats: () => ({ connections: s.facility.connections, activeConnections: s.facility.sockets.size }),
    async close() {
      if (s.facility.closed) return;
      s.facility.closeConnections();
      await Promise.all(endpoints.map((ep) => ep.listener.close()));
      s.facility.closeConnections();
    },
  };
}

function setFault(s: Started, host: string, fault: Fault | "none"): Promise<void> {
  const targets = s.binding.endpoints.filter((e) => e.view.host === host);
  if (targets.length === 0) {
    const hosts = endpointsOf(s.sites).map((e) => e.host);
    throw new InputError({ path: "host", message: `unknown host "${printable(host)}" (the endpoints are ${hosts.join(", ")})` });
  }
  if (fault !== "none") validateFaults({ [host]: fault }, s.sites);
  if (s.facility.closed) throw new Error("the simulator is closed");
  for (const ep of targets) ep.view.fault = fault;
  const switched = Promise.all(targets.map((ep) => ep.listener.switchTo(listenerModeFor(fault)))).then(() => undefined);
  // Callers that do not wait must not see an unhandled rejection; those that wait still get the error.
  switched.catch(() => {});
  return switched;
}
