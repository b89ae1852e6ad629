import { randomBytes } from "node:crypto";
import net from "node:net";
import { performance } from "node:perf_hooks";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startProxy, TokenBucket, validateProxyOptions, type TcpProxy } from "./proxy";

/** Things to close after each test, newest first. */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function listen(onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, onConnection);
  const sockets = new Set<net.Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return server;
}

const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;

/** Echoes everything and ends its side when the client does. */
const startEchoServer = () => listen((socket) => socket.pipe(socket));

async function proxyTo(server: net.Server, options: Partial<Parameters<typeof startProxy>[0]> = {}): Promise<TcpProxy> {
  const proxy = await startProxy({ targetHost: "127.0.0.1", targetPort: portOf(server), ...options });
  cleanups.push(() => proxy.close());
  return proxy;
}

async function connect(port: number, host = "127.0.0.1"): Promise<net.Socket> {
  const socket = net.connect({ host, port });
  cleanups.push(() => void socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return socket;
}

/** Collects everything until the peer ends or closes the connection. */
function collectUntilClosed(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => socket.once("close", () => resolve(Buffer.concat(chunks))));
}

function readBytes(socket: net.Socket, count: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= count) {
        socket.off("data", onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.once("close", () => reject(new Error(`closed after ${length} of ${count} bytes`)));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("validateProxyOptions", () => {
  const valid = { targetHost: "127.0.0.1", targetPort: 2222 };

  it("fills in the defaults", () => {
    expect(validateProxyOptions(valid)).toEqual({
      listenHost: "127.0.0.1",
      listenPort: 0,
      targetHost: "127.0.0.1",
      targetPort: 2222,
      latencyMs: 0,
      bandwidth: undefined,
      mode: "forward",
      dropAfterBytes: Number.POSITIVE_INFINITY,
    });
  });

  it("refuses a non-loopback target", () => {
    expect(() => validateProxyOptions({ ...valid, targetHost: "10.0.0.1" })).toThrow("'targetHost' must be a loopback address");
    expect(() => validateProxyOptions({ ...valid, targetHost: "hkex.example" })).toThrow("'targetHost' must be a loopback address");
  });

  it("refuses a non-loopback listener", () => {
    expect(() => validateProxyOptions({ ...valid, listenHost: "0.0.0.0" })).toThrow("'listenHost' must be a loopback address");
  });

  it("requires dropAfterBytes for drop-after-bytes, and only there", () => {
    expect(() => validateProxyOptions({ ...valid, mode: "drop-after-bytes" })).toThrow(
      "'dropAfterBytes' is required when 'mode' is 'drop-after-bytes'.",
    );
    expect(() => validateProxyOptions({ ...valid, dropAfterBytes: 5 })).toThrow("'dropAfterBytes' is only allowed");
  });

  it("reports every problem at once", () => {
    let message = "";
    try {
      validateProxyOptions({ targetHost: "192.0.2.1", targetPort: 0, latencyMs: -1, listenPort: 70000 });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("'targetHost'");
    expect(message).toContain("'targetPort' must be an integer from 1 to 65535");
    expect(message).toContain("'latencyMs' must be a finite number >= 0");
    expect(message).toContain("'listenPort' must be an integer from 0 to 65535");
  });

  it("makes startProxy throw before it listens", async () => {
    await expect(startProxy({ targetHost: "198.51.100.7", targetPort: 18801 })).rejects.toThrow("'targetHost' must be a loopback");
  });
});

describe("forward mode", () => {
  it("passes a megabyte both ways byte-exact and counts it", async () => {
    const proxy = await proxyTo(await startEchoServer());
    const client = await connect(proxy.port);
    const payload = randomBytes(1024 * 1024);
    const echoed = collectUntilClosed(client);
    client.end(payload);
    expect((await echoed).equals(payload)).toBe(true);
    expect(proxy.stats()).toEqual({ connections: 1, bytesUp: payload.length, bytesDown: payload.length });
  });

  it("delays a round trip by at least twice the latency", async () => {
    const latencyMs = 60;
    const proxy = await proxyTo(await startEchoServer(), { latencyMs });
    const client = await connect(proxy.port);
    const reply = readBytes(client, 4);
    const started = performance.now();
    client.write("ping");
    expect((await reply).toString()).toBe("ping");
    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * latencyMs);
  });

  it("keeps the order of many small chunks under latency", async () => {
    const proxy = await proxyTo(await startEchoServer(), { latencyMs: 25 });
    const client = await connect(proxy.port);
    const messages = Array.from({ length: 200 }, (_, i) => `<${i}>`);
    const expected = messages.join("");
    const echoed = readBytes(client, Buffer.byteLength(expected));
    for (const [i, message] of messages.entries()) {
      client.write(message);
      // Separate writes into separate chunks, some spread over several latency periods.
      if (i % 20 === 0) await sleep(7);
      else await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await echoed).toString()).toBe(expected);
  });

  it("turns Nagle's algorithm off on both of its sockets, as a line and OpenSSH's sshd do", async () => {
    const target = await startEchoServer();
    const spy = vi.spyOn(net.Socket.prototype, "setNoDelay");
    try {
      const proxy = await proxyTo(target, { latencyMs: 5 });
      const client = await connect(proxy.port);
      const reply = readBytes(client, 4);
      client.write("ping");
      await reply;
      const sockets = spy.mock.contexts as net.Socket[];
      const withNoDelay = sockets.filter((_, i) => spy.mock.calls[i]![0] !== false);
      // The accepted side listens on the proxy's port; the upstream side talks to the target's.
      expect(withNoDelay.some((s) => s.localPort === proxy.port && s.remotePort === client.localPort)).toBe(true);
      expect(withNoDelay.some((s) => s.remotePort === portOf(target))).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it("carries a large transfer under latency without reordering", async () => {
    const proxy = await proxyTo(await startEchoServer(), { latencyMs: 15 });
    const client = await connect(proxy.port);
    const payload = randomBytes(4 * 1024 * 1024);
    const echoed = collectUntilClosed(client);
    client.end(payload);
    expect((await echoed).equals(payload)).toBe(true);
  });

  it("passes the client's end of stream to the target after the data", async () => {
    let receivedByTarget = "";
    const targetSawEnd = new Promise<void>((resolve) => {
      void listen((socket) => {
        socket.setEncoding("utf8").on("data", (text: string) => (receivedByTarget += text));
        socket.on("end", () => {
          resolve();
          socket.end();
        });
      }).then((server) => proxyTo(server, { latencyMs: 20 }).then(async (proxy) => (await connect(proxy.port)).end("last words")));
    });
    await targetSawEnd;
    expect(receivedByTarget).toBe("last words");
  });

  it("closes the client when the target refuses", async () => {
    const server = await startEchoServer();
    const port = portOf(server);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const proxy = await startProxy({ targetHost: "127.0.0.1", targetPort: port });
    cleanups.push(() => proxy.close());
    const client = await connect(proxy.port);
    expect((await collectUntilClosed(client)).length).toBe(0);
  });
});

/** A clock the test moves by hand. */
function manualClock(start = 1000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("TokenBucket", () => {
  it("lets the burst go at once, then the rate per tick", () => {
    const clock = manualClock();
    const bucket = new TokenBucket(1_000_000, 50_000, clock.now);
    expect(bucket.take(80_000)).toBe(50_000);
    expect(bucket.take(1)).toBe(0);
    const perTick: number[] = [];
    for (let tick = 0; tick < 5; tick++) {
      clock.advance(10);
      perTick.push(bucket.take(1_000_000));
    }
    // 1 MB/s is 10 000 bytes per 10 ms tick.
    expect(perTick).toEqual([10_000, 10_000, 10_000, 10_000, 10_000]);
  });

  it("fills up to the burst and no further while idle", () => {
    const clock = manualClock();
    const bucket = new TokenBucket(1_000_000, 50_000, clock.now);
    bucket.take(50_000);
    clock.advance(20);
    expect(bucket.take(1_000_000)).toBe(20_000);
    clock.advance(10_000);
    expect(bucket.take(1_000_000)).toBe(50_000);
  });

  it("says how long to wait for a number of bytes, capped at the burst", () => {
    const clock = manualClock();
    const bucket = new TokenBucket(2_000_000, 40_000, clock.now);
    expect(bucket.waitMs(40_000)).toBe(0);
    bucket.take(40_000);
    expect(bucket.waitMs(10_000)).toBe(5);
    expect(bucket.waitMs(1_000_000)).toBe(20);
    clock.advance(5);
    expect(bucket.waitMs(10_000)).toBe(0);
    expect(bucket.take(10_000)).toBe(10_000);
  });

  it("a clock that steps back grants nothing extra", () => {
    let now = 500;
    const bucket = new TokenBucket(1000, 100, () => now);
    bucket.take(100);
    now = 400;
    expect(bucket.take(100)).toBe(0);
    now = 500;
    expect(bucket.take(100)).toBe(0);
    now = 510;
    expect(bucket.take(100)).toBe(10);
  });

  it("never releases more than rate × elapsed + burst, whatever the demand and the ticks", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 20_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.record({ stepMs: fc.double({ min: 0, max: 50, noNaN: true }), wanted: fc.integer({ min: 0, max: 2_000_000 }) }), {
          maxLength: 200,
        }),
        (rate, burst, steps) => {
          const clock = manualClock();
          const bucket = new TokenBucket(rate, burst, clock.now);
          let released = 0;
          let elapsed = 0;
          for (const { stepMs, wanted } of steps) {
            clock.advance(stepMs);
            elapsed += stepMs;
            const granted = bucket.take(wanted);
            expect(granted).toBeGreaterThanOrEqual(0);
            expect(granted).toBeLessThanOrEqual(wanted);
            released += granted;
            expect(released).toBeLessThanOrEqual((rate * elapsed) / 1000 + burst + 1e-6);
          }
        },
      ),
    );
  });

  it("keeps up with the rate when always asked for more than it has", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 20_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 200 }),
        (rate, burst, fractions) => {
          const clock = manualClock();
          const bucket = new TokenBucket(rate, burst, clock.now);
          // Ticks no longer than the bucket takes to fill, so no token overflows.
          const fillMs = (burst * 1000) / rate;
          let released = bucket.take(Number.MAX_SAFE_INTEGER);
          let elapsed = 0;
          for (const f of fractions) {
            clock.advance(f * fillMs);
            elapsed += f * fillMs;
            released += bucket.take(Number.MAX_SAFE_INTEGER);
          }
          // Whole bytes only: the takes leave less than one byte's token behind, and a tick that
          // fills the bucket to the brim may lose a rounding error of the clock's arithmetic.
          expect(released).toBeGreaterThanOrEqual(burst + (rate * elapsed) / 1000 - 2);
        },
      ),
    );
  });
});

describe("bandwidth limit", () => {
  it("carries data byte-exact and in order, no faster than the rate allows", async () => {
    const bytesPerSecond = 4 * 1024 * 1024;
    const burstBytes = 64 * 1024;
    const proxy = await proxyTo(await startEchoServer(), { latencyMs: 5, bandwidth: { bytesPerSecond, burstBytes } });
    const client = await connect(proxy.port);
    const payload = randomBytes(1024 * 1024);
    const echoed = collectUntilClosed(client);
    const started = performance.now();
    client.end(payload);
    expect((await echoed).equals(payload)).toBe(true);
    // A lower bound only: each direction has its own bucket, so the echo takes at
    // least (size - burst) / rate. A busy machine can only make it slower.
    expect(performance.now() - started).toBeGreaterThanOrEqual(((payload.length - burstBytes) / bytesPerSecond) * 1000);
    expect(proxy.stats()).toEqual({ connections: 1, bytesUp: payload.length, bytesDown: payload.length });
  });

  it("shapes each direction on its own: a download is not slowed by the upload's bucket", async () => {
    const bytesPerSecond = 2 * 1024 * 1024;
    const burstBytes = 32 * 1024;
    const download = randomBytes(512 * 1024);
    // The target sends as soon as the client connects, while the client uploads at the same time.
    const server = await listen((socket) => {
      socket.resume();
      socket.on("error", () => undefined);
      socket.end(download);
    });
    const proxy = await proxyTo(server, { bandwidth: { bytesPerSecond, burstBytes } });
    const client = await connect(proxy.port);
    client.on("error", () => undefined);
    const received = collectUntilClosed(client);
    const started = performance.now();
    client.write(randomBytes(512 * 1024));
    expect((await received).equals(download)).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(((download.length - burstBytes) / bytesPerSecond) * 1000);
  });
});

describe("blackhole mode", () => {
  it("makes a connect hang instead of being refused", async () => {
    const proxy = await startProxy({ targetHost: "127.0.0.1", targetPort: 9, mode: "blackhole" });
    cleanups.push(() => proxy.close());
    const socket = net.connect({ host: proxy.host, port: proxy.port });
    cleanups.push(() => void socket.destroy());
    const outcome = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve("timed out"), 300);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve("connected");
      });
      socket.once("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(`error ${error.code}`);
      });
    });
    expect(outcome).toBe("timed out");
    expect(proxy.stats()).toEqual({ connections: 0, bytesUp: 0, bytesDown: 0 });
  });

  it("frees its port on close, so a connect is refused afterwards", async () => {
    const proxy = await startProxy({ targetHost: "127.0.0.1", targetPort: 9, mode: "blackhole" });
    await proxy.close();
    const error = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
      const socket = net.connect({ host: proxy.host, port: proxy.port });
      socket.once("connect", () => {
        socket.destroy();
        reject(new Error("connected to a closed blackhole"));
      });
      socket.once("error", resolve);
    });
    expect(error.code).toBe("ECONNREFUSED");
  });
});

describe("never-forward mode", () => {
  it("accepts but never delivers the target's banner", async () => {
    const banner = "SSH-2.0-Fake_1.0\r\n";
    const server = await listen((socket) => socket.write(banner));
    // Control: the target itself does speak.
    expect((await readBytes(await connect(portOf(server)), banner.length)).toString()).toBe(banner);

    const proxy = await proxyTo(server, { mode: "never-forward" });
    const client = await connect(proxy.port);
    let received = 0;
    let closed = false;
    client.on("data", (chunk: Buffer) => (received += chunk.length));
    client.on("close", () => (closed = true));
    client.write("SSH-2.0-Client\r\n");
    await sleep(300);
    expect(received).toBe(0);
    expect(closed).toBe(false);
    expect(proxy.stats()).toEqual({ connections: 1, bytesUp: 0, bytesDown: 0 });
  });
});

describe("drop-after-bytes mode", () => {
  it("delivers exactly N bytes from the target, then closes both sides", async () => {
    const stream = Buffer.from("0123456789".repeat(100));
    let targetSawEnd!: Promise<void>;
    const server = await listen((socket) => {
      // The proxy's side of the target connection is gone once the target reads end of stream.
      targetSawEnd = new Promise((resolve) => socket.once("end", () => resolve()));
      socket.resume();
      socket.on("error", () => undefined);
      // Written and left open: any close must come from the proxy.
      socket.write(stream);
    });
    const proxy = await proxyTo(server, { mode: "drop-after-bytes", dropAfterBytes: 25, latencyMs: 5 });
    const client = await connect(proxy.port);
    client.on("error", () => undefined);
    const received = await collectUntilClosed(client);
    expect(received.toString()).toBe(stream.subarray(0, 25).toString());
    await targetSawEnd;
    expect(proxy.stats().bytesDown).toBe(25);
  });
});

describe("close", () => {
  it("destroys open connections and leaves no timers behind", async () => {
    const countTimers = () => process.getActiveResourcesInfo().filter((name) => name === "Timeout").length;
    const server = await startEchoServer();
    const before = countTimers();
    const proxy = await startProxy({ targetHost: "127.0.0.1", targetPort: portOf(server), latencyMs: 60_000 });
    const client = await connect(proxy.port);
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.on("error", () => undefined);
    client.write("held in the latency queue");
    // The bytes reach the proxy's latency queue when the event loop gets to them (later on a busy machine).
    for (let waited = 0; countTimers() <= before && waited < 5_000; waited += 10) await sleep(10);
    expect(countTimers()).toBeGreaterThan(before);
    await proxy.close();
    await closed;
    expect(countTimers()).toBe(before);
  });
});
