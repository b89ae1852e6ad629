/**
 * A port whose SYNs are never answered, without root or a firewall.
 *
 * The kernel completes a handshake only while the listening socket's accept
 * queue has room; once the queue is full, Linux drops further SYNs and
 * connect() hangs, exactly as behind a firewall that drops packets. Node
 * accepts every connection as soon as it can, so the listener lives in a
 * small child process that blocks its own event loop and so never calls
 * accept(); the queue is then filled with a few local connections.
 * (test/support/proxy.ts uses the same trick for its blackhole mode.)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { connect, type Socket } from "node:net";

/** How long a filler connect may take before the queue counts as full; loopback handshakes take microseconds. */
const FILL_PROBE_MS = 250;
const MAX_FILLERS = 16;

/**
 * Runs as `node -e`. Listens with the smallest queue Node allows (0 would
 * mean the default, 511), says which port, then blocks; it exits within
 * 200 ms of the simulator's process going away.
 */
const HOLDER_SCRIPT = `
const net = require("node:net");
const [host, port] = process.argv.slice(1);
const parent = process.ppid;
const server = net.createServer();
server.on("error", (e) => { process.stderr.write(String(e && e.code || e) + "\\n"); process.exit(1); });
server.listen({ host, port: Number(port), backlog: 1 }, () => {
  process.stdout.write(server.address().port + "\\n");
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    Atomics.wait(cell, 0, 0, 200);
    try { process.kill(parent, 0); } catch { process.exit(0); }
  }
});
`;

export interface Blackhole {
  readonly host: string;
  readonly port: number;
  /** Kills the holder and closes the fillers; resolves once the port is free again. */
  stop(): Promise<void>;
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

function holderPort(child: ChildProcess, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr!.setEncoding("utf8").on("data", (t: string) => (err += t));
    child.stdout!.setEncoding("utf8").on("data", (t: string) => {
      out += t;
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      const why = err.trim() || `exit code ${code}`;
      const e = Object.assign(new Error(`cannot listen on ${host}:${port}: ${why}`), { code: err.trim() || undefined });
      reject(e);
    });
  });
}

/** Resolves with the connected socket, or undefined when the handshake did not complete in time. */
function tryConnect(host: string, port: number, ms: number): Promise<Socket | undefined> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    const timer = setTimeout(() => {
      // Give the poll phase a turn, so a connect that completed while timers ran late still counts.
      setImmediate(() => {
        if (!s.connecting) return;
        s.destroy();
        resolve(undefined);
      });
    }, ms);
    s.once("connect", () => {
      clearTimeout(timer);
      s.removeAllListeners("error");
      s.on("error", () => {});
      resolve(s);
    });
    s.once("error", (err) => {
      clearTimeout(timer);
      s.destroy();
      reject(err);
    });
  });
}

export async function startBlackhole(host: string, port: number): Promise<Blackhole> {
  const child = spawn(process.execPath, ["-e", HOLDER_SCRIPT, host, String(port)], { stdio: ["ignore", "pipe", "pipe"], env: {} });
  const fillers: Socket[] = [];
  const stop = async () => {
    for (const f of fillers) f.destroy();
    child.kill("SIGKILL");
    await waitExit(child);
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  try {
    const actualPort = await holderPort(child, host, port);
    for (;;) {
      const s = await tryConnect(host, actualPort, FILL_PROBE_MS);
      if (!s) return { host, port: actualPort, stop };
      fillers.push(s);
      if (fillers.length > MAX_FILLERS) throw new Error(`the accept queue still took connections after ${MAX_FILLERS}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
}
