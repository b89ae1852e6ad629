/**
 * banner: starts ssh2 on the socket at once, as OpenSSH sends its own
 * identification line without waiting for the server's (handshake.ts), and
 * watches the bytes ssh2 reads for the server's SSH identification line (RFC
 * 4253 section 4.2). Needs the socket; yields the banner and the key exchange
 * under way.
 */
import type { Socket } from "node:net";
import { PhaseError } from "../../download";
import { printable } from "../../../core/text";
import { socketError } from "../errors";
import { startHandshake } from "../keyExchange";
import type { PhaseContext, ProbePhase } from "../phase";

const causes = ["connection-closed", "no-banner", "not-ssh"] as const;

const MAX_BANNER_BYTES = 8192;
/** Lines a server may send before its identification line (RFC 4253 allows some). */
const MAX_BANNER_LINES = 20;

function noBanner(timeoutMs: number): PhaseError {
  return new PhaseError("no-banner", `no SSH banner within ${timeoutMs} ms: the port accepts connections but nothing speaks SSH`);
}

export const banner: ProbePhase<"banner", "socket", "banner" | "handshake", typeof causes> = {
  name: "banner",
  timeout: "handshakeMs",
  needs: ["socket"],
  yields: ["banner", "handshake"],
  causes,
  inTrustRun: true,
  afterLogin: false,
  timeoutError: noBanner,
  async run({ socket }, ctx) {
    // Paused, the socket keeps every byte until ssh2 has attached its reader
    // (in a microtask) and resumes it; the watcher, added before that, sees
    // the same bytes first.
    socket.pause();
    const handshake = startHandshake(socket, ctx);
    return { banner: await watchBanner(socket, ctx), handshake };
  },
};

/** The identification line among the complete lines received so far, or why there is none. */
function identification(received: Buffer[], total: number): { line?: string; error?: PhaseError } {
  const lines = Buffer.concat(received).toString("latin1").split("\n");
  for (const raw of lines.slice(0, -1)) {
    const line = raw.replace(/\r$/, "");
    if (!line.startsWith("SSH-")) continue;
    if (!/^SSH-(2\.0|1\.99)-/.test(line)) {
      return { error: new PhaseError("not-ssh", `speaks an unsupported SSH protocol version: "${printable(line.slice(0, 80))}"`) };
    }
    return { line: printable(line.slice(0, 255)) };
  }
  if (total > MAX_BANNER_BYTES || lines.length > MAX_BANNER_LINES) {
    return { error: new PhaseError("not-ssh", `sent "${firstLine(received)}" instead of an SSH banner: not an SSH server`) };
  }
  return {};
}

function firstLine(received: Buffer[]): string {
  return printable(Buffer.concat(received).toString("latin1").split(/\r?\n/)[0]!.slice(0, 80));
}

/** Watches the socket's bytes, without taking them from ssh2, until the identification line or a reason there is none. */
function watchBanner(sock: Socket, ctx: PhaseContext): Promise<string> {
  const { signal, target: t } = ctx;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const finish = (err?: Error, line?: string) => {
      sock.removeListener("data", onData);
      sock.removeListener("end", onEnd);
      sock.removeListener("close", onEnd);
      sock.removeListener("error", onError);
      signal.removeEventListener("abort", onAbort);
      if (err) return reject(err);
      resolve(line!);
    };
    const onData = (d: Buffer) => {
      chunks.push(d);
      total += d.length;
      const found = identification(chunks, total);
      if (found.error || found.line !== undefined) finish(found.error, found.line);
    };
    const onEnd = () =>
      finish(
        total > 0
          ? new PhaseError("not-ssh", `sent "${firstLine(chunks)}" and closed: not an SSH server`)
          : new PhaseError("connection-closed", `${t.host}:${t.port} accepted the connection and closed it without an SSH banner`),
      );
    const onError = (err: NodeJS.ErrnoException) => finish(socketError(err, t));
    const onAbort = () => {
      const reason = signal.reason as PhaseError;
      const timedOut = reason instanceof PhaseError && reason.code === "no-banner";
      if (timedOut && total > 0) finish(new PhaseError("not-ssh", `sent "${firstLine(chunks)}" but no SSH banner within the timeout`));
      else finish(reason);
    };
    sock.on("data", onData);
    sock.once("end", onEnd);
    sock.once("close", onEnd);
    sock.once("error", onError);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
