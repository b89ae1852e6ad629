/**
 * What listens on one simulated endpoint's address and port: a normal
 * listener, nothing at all (`down`), or a blackhole. Switches are queued so
 * that they happen one at a time and in order.
 */
import { createServer, type Server, type Socket } from "node:net";
import { startBlackhole, type Blackhole } from "./blackhole";

export type ListenerMode = "listening" | "closed" | "blackhole";

function listen(host: string, port: number, onConnection: (s: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer(onConnection);
    srv.once("error", reject);
    srv.listen({ host, port }, () => {
      srv.removeListener("error", reject);
      srv.on("error", () => {});
      resolve(srv);
    });
  });
}

export class EndpointListener {
  private mode: ListenerMode = "closed";
  private server?: Server;
  private blackhole?: Blackhole;
  private queue: Promise<void> = Promise.resolve();
  private port: number;

  constructor(
    readonly host: string,
    port: number,
    private readonly onConnection: (s: Socket) => void,
  ) {
    this.port = port;
  }

  get currentMode(): ListenerMode {
    return this.mode;
  }

  /** The bound port; known once the first switch to "listening" is done. */
  get boundPort(): number {
    return this.port;
  }

  /** Queues a switch; the promise settles when it has happened. */
  switchTo(mode: ListenerMode): Promise<void> {
    const next = this.queue.then(() => this.apply(mode));
    this.queue = next.catch(() => {});
    return next;
  }

  private async apply(mode: ListenerMode): Promise<void> {
    if (mode === this.mode) return;
    if (this.server) {
      const srv = this.server;
      this.server = undefined;
      // close() stops accepting at once; existing connections are the caller's to end.
      srv.close();
    }
    if (this.blackhole) {
      const bh = this.blackhole;
      this.blackhole = undefined;
      await bh.stop();
    }
    this.mode = "closed";
    if (mode === "listening") {
      this.server = await listen(this.host, this.port, this.onConnection);
      this.port = (this.server.address() as { port: number }).port;
    } else if (mode === "blackhole") {
      this.blackhole = await startBlackhole(this.host, this.port);
      this.port = this.blackhole.port;
    }
    this.mode = mode;
  }

  /** Stops listening for good; waits for queued switches first. */
  async close(): Promise<void> {
    await this.switchTo("closed");
    this.queue = Promise.reject(new Error("listener closed"));
    this.queue.catch(() => {});
  }
}
