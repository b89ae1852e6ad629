/**
 * One simulated endpoint: its listener, its ssh2 servers (one per host key
 * and algorithm set) and the sockets it accepted; and what a new connection
 * meets under each fault. The faults below SSH are played on the socket
 * itself; the others by the ssh2 server the socket is handed to.
 */
import type { Socket } from "node:net";
import type { Server as SshServer } from "ssh2";
import type { SiteName } from "../../catalogue";
import type { Fault } from "./faults";
import { generateHostKey } from "./keys";
import { EndpointListener } from "./listener";
import { makeSshServer, serveConnection, SERVER_IDENT, type HostKeyVariant, type SessionSettings } from "./ssh";

export interface SimulatedEndpoint {
  site: SiteName;
  /** The catalogue host this endpoint stands in for. */
  host: string;
  /** Where it actually listens. */
  bindHost: string;
  port: number;
  fault: Fault | "none";
}

export interface Endpoint {
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

/** What the endpoints of one simulator share: the host keys, the session settings and every socket accepted. */
export class SimulatedFacility {
  readonly sockets = new Set<Socket>();
  connections = 0;
  closed = false;
  /** The host key a site presents under hostkey-changed, made when first needed. */
  private readonly changedKeys: Partial<Record<SiteName, string>> = {};

  constructor(
    private readonly hostKeys: Readonly<Record<SiteName, string>>,
    private readonly settings: SessionSettings,
  ) {}

  endpoint(view: SimulatedEndpoint): Endpoint {
    const ep: Endpoint = {
      view,
      servers: {},
      accepted: new Map(),
      listener: new EndpointListener(view.bindHost, view.port, (s) => this.accept(ep, s)),
    };
    return ep;
  }

  /** Ends every connection; new ones are refused from now on. */
  closeConnections(): void {
    this.closed = true;
    for (const s of this.sockets) s.destroy();
  }

  private accept(ep: Endpoint, socket: Socket): void {
    if (this.closed) return void socket.destroy();
    this.connections++;
    this.sockets.add(socket);
    const peer = peerKey(socket.remoteAddress, socket.remotePort);
    const fault = ep.view.fault;
    socket.on("error", () => {});
    socket.setNoDelay(true);
    socket.once("close", () => {
      this.sockets.delete(socket);
      ep.accepted.delete(peer);
    });
    if (playedBelowSsh(socket, fault)) return;
    ep.accepted.set(peer, { socket, fault });
    this.serverFor(ep, hostKeyVariantFor(fault)).injectSocket(socket);
  }

  private serverFor(ep: Endpoint, variant: HostKeyVariant): SshServer {
    const existing = ep.servers[variant];
    if (existing) return existing;
    const srv = makeSshServer(this.hostKeyFor(ep.view.site, variant), variant);
    srv.on("connection", (client, info) => {
      // ssh2 does not say which socket a connection came on; the peer address does, within one endpoint.
      const accepted = ep.accepted.get(peerKey(info.ip, info.port));
      if (!accepted) return client.end();
      serveConnection(client, accepted.socket, accepted.fault, this.settings);
    });
    srv.on("error", () => {});
    ep.servers[variant] = srv;
    return srv;
  }

  private hostKeyFor(site: SiteName, variant: HostKeyVariant): string {
    if (variant !== "changed") return this.hostKeys[site];
    this.changedKeys[site] ??= generateHostKey(`hkex-sftp-simulator ${site} (changed)`);
    return this.changedKeys[site];
  }
}

function hostKeyVariantFor(fault: Fault | "none"): HostKeyVariant {
  return fault === "hostkey-changed" ? "changed" : fault === "no-common-algorithm" ? "legacy-kex" : "pinned";
}

/** Plays the faults that act before any SSH is spoken; false when the socket goes on to ssh2. */
function playedBelowSsh(socket: Socket, fault: Fault | "none"): boolean {
  switch (fault) {
    case "down":
    case "blackhole":
      // Only reachable in the moment a switch is under way.
      socket.destroy();
      return true;
    case "refuse":
      socket.resetAndDestroy();
      return true;
    case "silent":
      socket.resume();
      return true;
    case "non-ssh-banner":
      socket.resume();
      socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
      return true;
    case "close-during-kex":
      socket.write(`SSH-2.0-${SERVER_IDENT}\r\n`);
      // The client's identification line and KEXINIT arrive together or one after the other; either way, hang up.
      socket.once("data", () => socket.end());
      return true;
    default:
      return false;
  }
}
