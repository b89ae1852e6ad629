import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { performance } from "node:perf_hooks";
import { assertLoopbackHost } from "./loopback";

/**
 * TCP proxies on loopback that simulate the network faults and lines the
 * readiness checks must cope with: a long line (latency) of limited capacity
 * (a token bucket per direction), a firewall that drops SYNs, a server that
 * accepts but never speaks, and a connection cut mid-transfer.
 */

export type ProxyMode = "forward" | "blackhole" | "never-forward" | "drop-after-bytes";

const PROXY_MODES: readonly ProxyMode[] = ["forward", "blackhole", "never-forward", "drop-after-bytes"];

export interface ProxyOptions {
  /** Default 127.0.0.1; must be loopback. */
  listenHost?: string;
  /** Default 0: the kernel picks a free port. */
  listenPort?: number;
  /** Must be loopback: the proxy refuses to reach anywhere else. */
  targetHost: string;
  targetPort: number;
  /** Added to every chunk in each direction, order preserved. Default 0. */
  latencyMs?: number;
  /** The line's capacity: each direction gets its own token bucket of this rate and burst. Default: unlimited. */
  bandwidth?: BandwidthLimit;
  /** Default "forward". */
  mode?: ProxyMode;
  /** Required for "drop-after-bytes": server→client bytes delivered before both sides are destroyed. */
  dropAfterBytes?: number;
}

export interface BandwidthLimit {
  /** Sustained rate in bytes per second, in each direction. */
  bytesPerSecond: number;
  /**
   * The bucket's depth: bytes that may leave at once after an idle spell.
   * Default: 25 ms at the rate, at least 16 KiB, so that a timer firing late on
   * a busy machine does not cost the line capacity.
   */
  burstBytes?: number;
}

export interface ProxyStats {
  /** Connections the proxy accepted (a blackhole accepts none). */
  connections: number;
  /** Bytes relayed from clients to the target. */
  bytesUp: number;
  /** Bytes relayed from the target to clients. */
  bytesDown: number;
}

export interface TcpProxy {
  host: string;
  port: number;
  stats(): ProxyStats;
  /** Destroys every connection, the listener and any helper process; leaves no timers. */
  close(): Promise<void>;
}

export interface ResolvedProxyOptions {
  listenHost: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
  latencyMs: number;
  /** Undefined for an unlimited line. */
  bandwidth: Required<BandwidthLimit> | undefined;
  mode: ProxyMode;
  /** Infinity unless mode is "drop-after-bytes". */
  dropAfterBytes: number;
}

function isPort(value: unknown, allowZero: boolean): boolean {
  return Number.isInteger(value) && (value as number) >= (allowZero ? 0 : 1) && (value as number) <= 65535;
}

/** Checks every option and reports all problems at once; the host checks enforce the loopback-only rule. */
export function validateProxyOptions(opts: ProxyOptions): ResolvedProxyOptions {
  const problems: string[] = [];
  const listenHost = opts.listenHost ?? "127.0.0.1";
  const listenPort = opts.listenPort ?? 0;
  const latencyMs = opts.latencyMs ?? 0;
  const mode = opts.mode ?? "forward";
  const hostProblem = (field: string, host: unknown) => {
    if (typeof host !== "string") return `'${field}' must be a string.`;
    try {
      assertLoopbackHost(field, host);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };
  for (const problem of [hostProblem("listenHost", listenHost), hostProblem("targetHost", opts.targetHost)]) {
    if (problem) problems.push(problem);
  }
  if (!isPort(listenPort, true)) problems.push(`'listenPort' must be an integer from 0 to 65535, got ${String(listenPort)}.`);
  if (!isPort(opts.targetPort, false)) problems.push(`'targetPort' must be an integer from 1 to 65535, got ${String(opts.targetPort)}.`);
  if (typeof latencyMs !== "number" || !Number.isFinite(latencyMs) || latencyMs < 0) {
    problems.push(`'latencyMs' must be a finite number >= 0, got ${String(latencyMs)}.`);
  }
  const bandwidth = resolveBandwidth(opts.bandwidth, problems);
  if (!PROXY_MODES.includes(mode)) problems.push(`'mode' must be one of ${PROXY_MODES.join(", ")}, got '${String(mode)}'.`);
  let dropAfterBytes = Number.POSITIVE_INFINITY;
  if (mode === "drop-after-bytes") {
    if (opts.dropAfterBytes === undefined) {
      problems.push("'dropAfterBytes' is required when 'mode' is 'drop-after-bytes'.");
    } else if (!Number.isInteger(opts.dropAfterBytes) || opts.dropAfterBytes < 0) {
      problems.push(`'dropAfterBytes' must be an integer >= 0, got ${String(opts.dropAfterBytes)}.`);
    } else {
      dropAfterBytes = opts.dropAfterBytes;
    }
  } else if (opts.dropAfterBytes !== undefined) {
    problems.push("'dropAfterBytes' is only allowed when 'mode' is 'drop-after-bytes'.");
  }
  if (problems.length > 0) throw new Error(`Invalid proxy options:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  return { listenHost, listenPort, targetHost: opts.targetHost, targetPort: opts.targetPort, latencyMs, bandwidth, mode, dropAfterBytes };
}

const MIN_BURST_BYTES = 16 * 1024;
const DEFAULT_BURST_MS = 25;

function resolveBandwidth(limit: BandwidthLimit | undefined, problems: string[]): Required<BandwidthLimit> | undefined {
  if (limit === undefined) return undefined;
  const { bytesPerSecond, burstBytes } = limit;
  if (typeof bytesPerSecond !== "number" || !Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) {
    problems.push(`'bandwidth.bytesPerSecond' must be a finite number > 0, got ${String(bytesPerSecond)}.`);
    return undefined;
  }
  if (burstBytes !== undefined && (!Number.isInteger(burstBytes) || burstBytes < 1)) {
    problems.push(`'bandwidth.burstBytes' must be an integer >= 1, got ${String(burstBytes)}.`);
    return undefined;
  }
  return { bytesPerSecond, burstBytes: burstBytes ?? Math.max(MIN_BURST_BYTES, Math.ceil((bytesPerSecond * DEFAULT_BURST_MS) / 1000)) };
}

/**
 * A token bucket: tokens (bytes) accrue at `rate` per second up to `burst`,
 * and a byte leaves only with a token. Over any interval it releases at most
 * rate × elapsed + burst bytes. The clock is injectable so tests can drive it.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly bytesPerSecond: number,
    readonly burstBytes: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burstBytes;
    this.last = now();
  }

  /** Takes tokens for up to `wanted` bytes and returns how many bytes may leave now. */
  take(wanted: number): number {
    this.refill();
    const granted = Math.max(0, Math.min(wanted, Math.floor(this.tokens)));
    this.tokens -= granted;
    return granted;
  }

  /** Milliseconds until `bytes` (at most the burst) may leave; 0 when they may now. */
  waitMs(bytes: number): number {
    this.refill();
    const missing = Math.min(bytes, this.burstBytes) - this.tokens;
    return missing <= 0 ? 0 : (missing * 1000) / this.bytesPerSecond;
  }

  private refill(): void {
    const now = this.now();
    if (now > this.last) this.tokens = Math.min(this.burstBytes, this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000);
    this.last = Math.max(this.last, now);
  }
}

/**
 * Without a rate limit, a long line holds whatever the sender puts in flight
 * (SSH's channel windows bound that); this cap only protects the proxy's memory.
 */
const UNSHAPED_QUEUE_LIMIT_BYTES = 64 * 1024 * 1024;
/** With a rate limit: what the wire holds (rate × latency) plus this much queued at the bottleneck, as a router would. */
const BOTTLENECK_QUEUE_BYTES = 1024 * 1024;
/** While waiting for tokens, wait for at least this many bytes' worth (or the burst), not for every byte. */
const SHAPER_QUANTUM_BYTES = 16 * 1024;

interface QueuedChunk {
  due: number;
  /** null marks the end of the source stream, delivered in order after the data before it. */
  chunk: Buffer | null;
}

/**
 * One direction of a connection. Every chunk waits in a FIFO queue until
 * `latencyMs` after it arrived, then leaves as fast as the direction's token
 * bucket allows (a chunk may leave in parts). One timer serves the whole
 * queue, so chunks can never overtake each other as they could with a timer
 * per chunk. A fixed delay and a FIFO rate limit commute, so this is the same
 * line as shaping first and delaying after.
 */
class DelayedRelay {
  private readonly queue: QueuedChunk[] = [];
  /** Bytes of the queue's first chunk already delivered. */
  private headSent = 0;
  private timer: NodeJS.Timeout | undefined;
  private queuedBytes = 0;
  private delivered = 0;
  private waitingForDrain = false;
  private stopped = false;
  private readonly highWaterBytes: number;

  constructor(
    private readonly source: net.Socket,
    private readonly destination: net.Socket,
    private readonly latencyMs: number,
    private readonly bucket: TokenBucket | undefined,
    /** Bytes to deliver before `onLimit` is called; Infinity for no limit. */
    private readonly limit: number,
    private readonly countBytes: (bytes: number) => void,
    private readonly onLimit: () => void,
  ) {
    this.highWaterBytes = bucket
      ? Math.ceil((bucket.bytesPerSecond * latencyMs) / 1000) + BOTTLENECK_QUEUE_BYTES
      : UNSHAPED_QUEUE_LIMIT_BYTES;
    source.on("data", (chunk: Buffer) => this.push(chunk));
    source.on("end", () => this.push(null));
    destination.on("drain", () => {
      this.waitingForDrain = false;
      this.flush();
    });
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private push(chunk: Buffer | null): void {
    if (this.stopped) return;
    this.queue.push({ due: performance.now() + this.latencyMs, chunk });
    if (chunk) this.queuedBytes += chunk.length;
    this.flush();
  }

  private flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const now = performance.now();
    let waitMs = 0;
    while (!this.stopped && this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.due > now) {
        waitMs = head.due - now;
        break;
      }
      if (head.chunk === null) {
        this.queue.shift();
        if (!this.destination.destroyed) this.destination.end();
        continue;
      }
      const remaining = head.chunk.length - this.headSent;
      // Tokens trickle in continuously: taking whatever is there would hand out a few bytes per loop and never yield.
      const tokenWait = this.bucket ? this.bucket.waitMs(Math.min(remaining, SHAPER_QUANTUM_BYTES)) : 0;
      if (tokenWait > 0) {
        waitMs = tokenWait;
        break;
      }
      const allowed = this.bucket ? this.bucket.take(remaining) : remaining;
      const part = head.chunk.subarray(this.headSent, this.headSent + allowed);
      this.headSent += allowed;
      if (this.headSent === head.chunk.length) {
        this.queue.shift();
        this.headSent = 0;
      }
      this.deliver(part);
    }
    if (!this.stopped && this.queue.length > 0) {
      // Timers have millisecond resolution and may fire a little early; flush() then simply waits again.
      this.timer = setTimeout(() => this.flush(), Math.max(1, Math.ceil(waitMs)));
    }
    this.updateFlow();
  }

  private deliver(chunk: Buffer): void {
    this.queuedBytes -= chunk.length;
    if (this.destination.destroyed) return;
    const room = this.limit - this.delivered;
    if (chunk.length >= room) {
      const last = chunk.subarray(0, room);
      this.delivered += last.length;
      this.countBytes(last.length);
      this.stop();
      // Cut only once the last allowed bytes have been handed to the kernel.
      this.destination.write(last, () => this.onLimit());
      return;
    }
    this.delivered += chunk.length;
    this.countBytes(chunk.length);
    if (!this.destination.write(chunk)) this.waitingForDrain = true;
  }

  private updateFlow(): void {
    if (this.stopped || this.source.destroyed) return;
    if (this.waitingForDrain || this.queuedBytes > this.highWaterBytes) this.source.pause();
    else this.source.resume();
  }
}

/** Kept tiny and dependency-free: it runs as `node -e` in a child process. */
const BLACKHOLE_LISTENER_SCRIPT = `
const net = require("node:net");
const [host, port] = process.argv.slice(1);
const parent = process.ppid;
const server = net.createServer();
server.on("error", (error) => { process.stderr.write(String(error && error.message) + "\\n"); process.exit(1); });
server.listen({ host, port: Number(port), backlog: 1 }, () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\\n");
  // Blocking the event loop means node never calls accept(), so the kernel's
  // accept queue fills and later SYNs are dropped. Exit once the parent is gone.
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    Atomics.wait(cell, 0, 0, 200);
    try { process.kill(parent, 0); } catch { process.exit(0); }
  }
});
`;

/** How long a loopback connect may take before we treat it as hanging; loopback handshakes complete in microseconds. */
const FILLER_CONNECT_WAIT_MS = 250;
const MAX_FILLERS = 16;

function connectsWithin(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off("connect", onConnect);
      socket.off("error", onError);
      resolve(false);
    }, ms);
    const onConnect = () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve(true);
    };
    const onError = (error: Error) => {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      reject(error);
    };
    socket.once("connect", onConnect);
    socket.once("error", onError);
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * A listener whose accept queue is full, so that a TCP connect to it hangs
 * (SYNs are silently dropped) instead of being refused — what a firewall
 * that drops packets looks like to a client.
 */
async function startBlackhole(host: string, port: number): Promise<TcpProxy> {
  const child = spawn(process.execPath, ["-e", BLACKHOLE_LISTENER_SCRIPT, host, String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const fillers: net.Socket[] = [];
  const close = async () => {
    for (const socket of fillers) socket.destroy();
    child.kill("SIGKILL");
    await waitForExit(child);
  };
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  try {
    const boundPort = await new Promise<number>((resolve, reject) => {
      let stdout = "";
      child.stdout!.setEncoding("utf8").on("data", (text: string) => {
        stdout += text;
        const newline = stdout.indexOf("\n");
        if (newline >= 0) resolve((JSON.parse(stdout.slice(0, newline)) as { port: number }).port);
      });
      child.once("error", reject);
      child.once("exit", (code, signal) =>
        reject(new Error(`blackhole listener on ${host}:${port} exited early (code ${code}, signal ${signal}): ${stderr.trim()}`)),
      );
    });
    for (let i = 0; i < MAX_FILLERS; i++) {
      const socket = net.connect({ host, port: boundPort });
      socket.on("error", () => undefined);
      fillers.push(socket);
      if (!(await connectsWithin(socket, FILLER_CONNECT_WAIT_MS))) {
        // This SYN was dropped: the queue is full. The hanging filler itself is not needed.
        socket.destroy();
        return { host, port: boundPort, stats: () => ({ connections: 0, bytesUp: 0, bytesDown: 0 }), close };
      }
    }
    throw new Error(`blackhole on ${host}:${boundPort}: the accept queue still took connections after ${MAX_FILLERS} fillers`);
  } catch (error) {
    await close();
    throw error;
  }
}

interface Connection {
  sockets: net.Socket[];
  relays: DelayedRelay[];
}

function bucketFor(limit: Required<BandwidthLimit> | undefined): TokenBucket | undefined {
  return limit ? new TokenBucket(limit.bytesPerSecond, limit.burstBytes) : undefined;
}

/** Starts a proxy on loopback; see ProxyOptions for the modes. Throws on a non-loopback host before touching the network. */
export async function startProxy(opts: ProxyOptions): Promise<TcpProxy> {
  const options = validateProxyOptions(opts);
  if (options.mode === "blackhole") return startBlackhole(options.listenHost, options.listenPort);

  const counters: ProxyStats = { connections: 0, bytesUp: 0, bytesDown: 0 };
  const connections = new Set<Connection>();
  const teardown = (connection: Connection) => {
    for (const relay of connection.relays) relay.stop();
    for (const socket of connection.sockets) socket.destroy();
    connections.delete(connection);
  };

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    counters.connections += 1;
    // A line delays segments; it does not hold one back until the peer has
    // acknowledged the last (Nagle's algorithm). Left on, Nagle here held the
    // second of two small replies sent together (NAME then HANDLE) until the
    // client's delayed ACK, ~40 ms, on every profile, a wait the real path does
    // not have: OpenSSH's sshd sets TCP_NODELAY on the connection of an SFTP
    // session too (packet.c, ssh_packet_set_interactive; seen with strace on
    // Debian's 9.2p1: setsockopt(TCP_NODELAY, 1), then IP_TOS).
    client.setNoDelay(true);
    const connection: Connection = { sockets: [client], relays: [] };
    connections.add(connection);
    client.on("error", () => teardown(connection));
    if (options.mode === "never-forward") {
      client.on("close", () => teardown(connection));
      client.resume();
      return;
    }
    const upstream = net.connect({ host: options.targetHost, port: options.targetPort, allowHalfOpen: true });
    upstream.setNoDelay(true);
    connection.sockets.push(upstream);
    upstream.on("error", () => teardown(connection));
    connection.relays.push(
      new DelayedRelay(
        client,
        upstream,
        options.latencyMs,
        bucketFor(options.bandwidth),
        Number.POSITIVE_INFINITY,
        (n) => (counters.bytesUp += n),
        () => undefined,
      ),
      new DelayedRelay(
        upstream,
        client,
        options.latencyMs,
        bucketFor(options.bandwidth),
        options.dropAfterBytes,
        (n) => (counters.bytesDown += n),
        () => teardown(connection),
      ),
    );
    // Each side closes on its own once both halves have ended; forget the pair when both have.
    let closed = 0;
    const onClose = () => {
      closed += 1;
      if (closed === 2) teardown(connection);
    };
    client.on("close", onClose);
    upstream.on("close", onClose);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.listenHost, port: options.listenPort }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    host: options.listenHost,
    port: address.port,
    stats: () => ({ ...counters }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const connection of [...connections]) teardown(connection);
      });
      return closing;
    },
  };
}
