/** tcp: opens the TCP connection to the endpoint. Needs nothing; yields the socket. */
import { connect, type Socket } from "node:net";
import { PhaseError } from "../../download";
import { socketError } from "../errors";
import type { PhaseContext, ProbePhase, ProbeTarget } from "../phase";

const causes = ["refused", "timeout", "unreachable", "connection-closed"] as const;

function noAnswer(timeoutMs: number, t: ProbeTarget): PhaseError {
  return new PhaseError(
    "timeout",
    `no answer to TCP connect within ${timeoutMs} ms: packets to ${t.host}:${t.port} are dropped or filtered`,
  );
}

export const tcp: ProbePhase<"tcp", never, "socket", typeof causes> = {
  name: "tcp",
  timeout: "connectMs",
  needs: [],
  yields: ["socket"],
  causes,
  inTrustRun: true,
  afterLogin: false,
  timeoutError: noAnswer,
  async run(_input, ctx) {
    return { socket: await connectSocket(ctx) };
  },
};

function connectSocket(ctx: PhaseContext): Promise<Socket> {
  const t = ctx.target;
  return new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: t.host, port: t.port });
    ctx.own(s);
    s.setNoDelay(true);
    // A socket error after connect must never crash the process.
    s.on("error", () => undefined);
    // Destroying a socket that is still connecting emits no error: settle the phase here.
    const onAbort = () => {
      s.destroy();
      reject(ctx.signal.reason);
    };
    const onError = (err: NodeJS.ErrnoException) => {
      const e = socketError(err, t);
      // The kernel's own connect timeout (ETIMEDOUT) means the same as ours.
      reject(e.code === "timeout" ? noAnswer(ctx.timeoutMs, t) : e);
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    s.once("error", onError);
    s.once("connect", () => {
      ctx.signal.removeEventListener("abort", onAbort);
      s.removeListener("error", onError);
      resolve(s);
    });
  });
}
