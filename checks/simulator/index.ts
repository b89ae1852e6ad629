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
import type { Socket } from "node:net";
import type { Server as SshServer, ParsedKey } from "ssh2";
import { HKEX_SITES, SFTP_PORT, SITE_NAMES, endpointsOf, type SiteDefinition, type SiteName, type SiteTable } from "../../catalogue";
import { InputError, type InputProblem } from "../../core/errors";
import { printable } from "../../core/text";
import { LOCALHOST, hostPortEntry, loopbackAliasFor } from "./addresses";
import { parseAuthorizedKeys } from "./auth";
import { isListenerFault, validateFaults, type Fault } from "./faults";
import { buildFileSet, validateFileName, type FileSpec } from "./files";
import { fingerprintOf, generateHostKey, knownHostsLine, parseOneKey } from "./keys";
import { EndpointListener, type ListenerMode } from "./listener";
import { makeSshServer, serveConnection, SERVER_IDENT, type HostKeyVariant, type SessionSettings } from "./ssh";

export { FAULTS, FAULT_NAMES, isFault, parseFaultFlags, type Fault, type FaultDescription } from "./faults";
export { fingerprintOf, knownHostsLine, publicKeyLine } from "./keys";
export { SAMPLE_FILE_NAMES, sampleFiles } from "./files";
export { SERVER_IDENT };

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
  bind?: "auto" | "aliases" | "localhost";
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

export interface SimulatedEndpoint {
  site: SiteName;
  /** The catalogue host this endpoint stands in for. */
  host: string;
  /** Where it actually listens. */
  bindHost: string;
  port: number;
  fault: Fault | "none";
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

interface Endpoint {
  /** What RunningSimulator.endpoints shows; kept current. */
  readonly view: SimulatedEndpoint;
  readonly listener: EndpointListener;
  readonly servers: Partial<Record<HostKeyVariant, SshServer>>;
  /** Sockets handed to ssh2, by peer address, with the fault they were accepted under. */
  readonly accepted: Map<string, { socket: Socket; fault: Fault | "none" }>;
}

function peerKey(ip: string | undefined, port: number | undefined): string {
  return `${ip}|${port}`;
}

function listenerModeFor(fault: Fault | "none"): ListenerMode {
  return fault === "down" ? "closed" : fault === "blackhole" ? "blackhole" : "listening";
}

function validateOptions(
  opts: SimulatorOptions,
  sites: SiteTable,
): {
  keys: ParsedKey[];
  hostKeys: Record<SiteName, string>;
  faults: Record<string, Fault>;
} {
  const problems: InputProblem[] = [];
  const collect = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof InputError) problems.push(...err.problems);
      else throw err;
      return undefined;
    }
  };
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
    collect(() => {
      try {
        loopbackAliasFor(host);
      } catch (err) {
        throw new InputError({ path: "sites", message: (err as Error).message });
      }
    });
  }
  const keys = collect(() => parseAuthorizedKeys(opts.authorizedKeys ?? [])) ?? [];
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
  const faults = collect(() => validateFaults(opts.faults ?? {}, sites)) ?? {};
  if (problems.length > 0) throw new InputError(problems);
  return { keys, hostKeys, faults };
}

function describeBindError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case "EADDRNOTAVAIL":
      return "EADDRNOTAVAIL: the loopback alias is not configured (on macOS: sudo ifconfig lo0 alias <address>)";
    case "EADDRINUSE":
      return "EADDRINUSE: the port is already in use";
    case "EACCES":
      return "EACCES: not allowed to bind there";
    default:
      return code ?? (err as Error).message;
  }
}

export async function startSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  const sites = opts.sites ?? HKEX_SITES;
  const { keys, hostKeys, faults } = validateOptions(opts, sites);
  // Computed before anything is bound, so a bad key cannot leave listeners open behind a throw.
  const hostKeyFingerprints = Object.fromEntries(SITE_NAMES.map((s) => [s, fingerprintOf(hostKeys[s])])) as Record<SiteName, string>;
  const bindMode = opts.bind ?? "auto";
  const requestedPort = opts.port ?? SFTP_PORT;
  const user = opts.user ?? DEFAULT_USER;
  const remoteDir = opts.remoteDir ?? ".";
  const files = buildFileSet(opts.files as Record<string, FileSpec> | undefined);
  const settings: SessionSettings = { user, authorizedKeys: keys, remoteDir, files };
  const altHostKeys: Partial<Record<SiteName, string>> = {};

  const sockets = new Set<Socket>();
  let connections = 0;
  let closed = false;

  const serverFor = (ep: Endpoint, variant: HostKeyVariant): SshServer => {
    const existing = ep.servers[variant];
    if (existing) return existing;
    if (variant === "changed") altHostKeys[ep.view.site] ??= generateHostKey(`hkex-sftp-simulator ${ep.view.site} (changed)`);
    const key = variant === "changed" ? altHostKeys[ep.view.site]! : hostKeys[ep.view.site];
    const srv = makeSshServer(key, variant);
    srv.on("connection", (client, info) => {
      // ssh2 does not say which socket a connection came on; the peer address does, within one endpoint.
      const accepted = ep.accepted.get(peerKey(info.ip, info.port));
      if (!accepted) return client.end();
      serveConnection(client, accepted.socket, accepted.fault, settings);
    });
    srv.on("error", () => {});
    ep.servers[variant] = srv;
    return srv;
  };

  const onConnection = (ep: Endpoint) => (socket: Socket) => {
    if (closed) return void socket.destroy();
    connections++;
    sockets.add(socket);
    const peer = peerKey(socket.remoteAddress, socket.remotePort);
    const fault = ep.view.fault;
    socket.on("error", () => {});
    socket.setNoDelay(true);
    socket.once("close", () => {
      sockets.delete(socket);
      ep.accepted.delete(peer);
    });
    switch (fault) {
      case "down":
      case "blackhole":
        // Only reachable in the moment a switch is under way.
        return void socket.destroy();
      case "refuse":
        return void socket.resetAndDestroy();
      case "silent":
        return void socket.resume();
      case "non-ssh-banner":
        socket.resume();
        return void socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
      case "close-during-kex":
        socket.write(`SSH-2.0-${SERVER_IDENT}\r\n`);
        // The client's identification line and KEXINIT arrive together or one after the other; either way, hang up.
        socket.once("data", () => socket.end());
        return;
      default:
        ep.accepted.set(peer, { socket, fault });
        serverFor(ep, fault === "hostkey-changed" ? "changed" : fault === "no-common-algorithm" ? "legacy-kex" : "pinned").injectSocket(
          socket,
        );
    }
  };

  const plan = endpointsOf(sites);
  const makeEndpoints = (bindHostOf: (host: string) => string, port: number): Endpoint[] =>
    plan.map(({ site, host }) => {
      const view: SimulatedEndpoint = { site, host, bindHost: bindHostOf(host), port, fault: faults[host] ?? "none" };
      const ep: Endpoint = {
        view,
        servers: {},
        accepted: new Map(),
        listener: new EndpointListener(view.bindHost, port, (s) => onConnection(ep)(s)),
      };
      return ep;
    });

  /** Binds every endpoint; on any failure closes those already bound and throws. */
  const bindAll = async (eps: Endpoint[]): Promise<void> => {
    const bound: Endpoint[] = [];
    try {
      for (const ep of eps) {
        try {
          await ep.listener.switchTo("listening");
        } catch (err) {
          throw new Error(`could not listen on ${hostPortEntry(ep.view.bindHost, ep.view.port)} (${describeBindError(err)})`, {
            cause: err,
          });
        }
        bound.push(ep);
        ep.view.port = ep.listener.boundPort;
      }
    } catch (err) {
      await Promise.all(bound.map((ep) => ep.listener.close()));
      throw err;
    }
  };

  let endpoints: Endpoint[];
  let fallback = false;
  let fallbackReason: string | undefined;
  if (bindMode === "localhost") {
    if (requestedPort !== 0 && plan.length > 1) {
      throw new InputError({ path: "port", message: `with bind "localhost" the ${plan.length} endpoints need a port each: use port 0` });
    }
    endpoints = makeEndpoints(() => LOCALHOST, requestedPort);
    await bindAll(endpoints);
  } else {
    endpoints = makeEndpoints(loopbackAliasFor, requestedPort);
    try {
      await bindAll(endpoints);
    } catch (err) {
      if (bindMode === "aliases") throw err;
      fallback = true;
      fallbackReason = `${(err as Error).message}; listening on ${LOCALHOST} with an ephemeral port per endpoint instead`;
      endpoints = makeEndpoints(() => LOCALHOST, 0);
      await bindAll(endpoints);
    }
  }

  // Every endpoint now has its port; the listener-level faults take effect.
  const bound = endpoints;
  try {
    await Promise.all(
      bound.filter((ep) => isListenerFault(ep.view.fault)).map((ep) => ep.listener.switchTo(listenerModeFor(ep.view.fault))),
    );
  } catch (err) {
    await Promise.all(bound.map((ep) => ep.listener.close().catch(() => {})));
    throw err;
  }

  const siteTable = Object.fromEntries(
    SITE_NAMES.map((name): [SiteName, SiteDefinition] => {
      const eps = endpoints.filter((e) => e.view.site === name);
      const first = eps[0];
      const range =
        first === undefined
          ? sites[name].range
          : first.view.bindHost === LOCALHOST
            ? `${LOCALHOST}/32`
            : `${first.view.bindHost.split(".").slice(0, 3).join(".")}.0/24`;
      return [
        name,
        Object.freeze({
          ...sites[name],
          hosts: Object.freeze(eps.map((e) => e.view.bindHost)),
          port: first?.view.port ?? requestedPort,
          range,
        }),
      ];
    }),
  ) as unknown as SiteTable;

  return {
    endpoints: endpoints.map((ep) => ep.view),
    fallback,
    fallbackReason,
    sites: siteTable,
    hostKeyFingerprints,
    user,
    remoteDir,
    fileNames: [...files.keys()],
    knownHosts: () => `${endpoints.map((e) => knownHostsLine(e.view.bindHost, e.view.port, hostKeys[e.view.site])).join("\n")}\n`,
    configSites: () =>
      Object.fromEntries(
        SITE_NAMES.map((name) => {
          const eps = endpoints.filter((e) => e.view.site === name);
          return [name, { hosts: eps.map((e) => hostPortEntry(e.view.bindHost, e.view.port)), port: eps[0]?.view.port ?? requestedPort }];
        }),
      ) as Record<SiteName, ConfigSite>,
    setFault(host, fault) {
      const targets = endpoints.filter((e) => e.view.host === host);
      if (targets.length === 0)
        throw new InputError({
          path: "host",
          message: `unknown host "${printable(host)}" (the endpoints are ${plan.map((e) => e.host).join(", ")})`,
        });
      if (fault !== "none") validateFaults({ [host]: fault }, sites);
      if (closed) throw new Error("the simulator is closed");
      for (const ep of targets) ep.view.fault = fault;
      const switched = Promise.all(targets.map((ep) => ep.listener.switchTo(listenerModeFor(fault)))).then(() => undefined);
      // Callers that do not wait must not see an unhandled rejection; those that wait still get the error.
      switched.catch(() => {});
      return switched;
    },
    stats: () => ({ connections, activeConnections: sockets.size }),
    async close() {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      await Promise.all(endpoints.map((ep) => ep.listener.close()));
      for (const s of sockets) s.destroy();
    },
  };
}
