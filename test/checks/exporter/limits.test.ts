/** The exporter's pure parts: where it may listen, the scrape budget, and the sharing of probes. */
import { describe, expect, it } from "vitest";
import { cappedTimeouts, DEFAULT_TIMEOUTS } from "../../../checks/config";
import { parseListen } from "../../../checks/exporter/listen";
import { isLoopbackAddress } from "../../../core/loopback";
import { probeBudgetMs } from "../../../checks/exporter/request";
import { QueueDeadlineError, SharedProbes } from "../../../checks/exporter/sharing";
import { InputError } from "../../../core/errors";

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("exporter listen address", () => {
  it("accepts loopback addresses and refuses others unless --allow-remote, naming the flag", () => {
    expect(parseListen("127.0.0.1:9918", false)).toEqual({ host: "127.0.0.1", port: 9918 });
    expect(parseListen("[::1]:0", false)).toEqual({ host: "::1", port: 0 });
    expect(parseListen("localhost:9918", false)).toEqual({ host: "localhost", port: 9918 });
    for (const remote of ["0.0.0.0:9918", "[::]:9918", "10.0.0.5:9918"]) {
      const err = (() => {
        try {
          parseListen(remote, false);
        } catch (e) {
          return e as InputError;
        }
      })();
      expect(err, remote).toBeInstanceOf(InputError);
      expect(err!.problems[0]!.path).toBe("--listen");
      expect(err!.message).toContain("--allow-remote");
    }
    expect(parseListen("0.0.0.0:9918", true)).toEqual({ host: "0.0.0.0", port: 9918 });
    expect(() => parseListen("9918", false)).toThrow(/is not HOST:PORT/);
    expect(() => parseListen("example.org:9918", true)).toThrow(/is not an IP address/);
    expect(() => parseListen("127.0.0.1:70000", false)).toThrow(/out of range/);
    expect(isLoopbackAddress("127.0.151.141")).toBe(true);
    expect(isLoopbackAddress("::ffff:127.0.0.1")).toBe(true);
    expect(isLoopbackAddress("128.0.0.1")).toBe(false);
  });
});

describe("scrape budget", () => {
  it("takes the scrape timeout less the margin, leaves half of a very short one, and caps each phase timeout", () => {
    expect(probeBudgetMs(undefined, 500)).toBeUndefined();
    expect(probeBudgetMs("10", 500)).toBe(9500);
    expect(probeBudgetMs("0.6", 500)).toBe(300);
    expect(probeBudgetMs("-1", 500)).toMatchObject({ status: 400 });
    expect(probeBudgetMs("", 500)).toMatchObject({ status: 400 });
    expect(cappedTimeouts(DEFAULT_TIMEOUTS, 9500)).toEqual({ connectMs: 5000, handshakeMs: 9500, operationMs: 9500, transferMs: 9500 });
    expect(cappedTimeouts(DEFAULT_TIMEOUTS, undefined)).toBe(DEFAULT_TIMEOUTS);
  });
});

describe("shared probes", () => {
  it("starts one probe per key, shares it, queues past maxRunning and refuses past the limits", async () => {
    const probes = new SharedProbes<string>({ maxRunning: 1, maxQueued: 1, maxWaiters: 2 });
    const first = deferred<string>();
    let starts = 0;
    const counted =
      <T>(p: Promise<T>) =>
      () => {
        starts++;
        return p;
      };
    const a = probes.attach("a", counted(first.promise), undefined);
    const a2 = probes.attach("a", counted(Promise.resolve("other")), undefined);
    expect(probes.attach("a", () => Promise.resolve("x"), undefined)).toBe("too-many-waiters");
    const b = probes.attach("b", counted(Promise.resolve("b done")), undefined);
    expect(probes.attach("c", () => Promise.resolve("c"), undefined)).toBe("queue-full");
    expect([probes.running, probes.queued, starts]).toEqual([1, 1, 1]);
    if (typeof a === "string" || typeof a2 === "string" || typeof b === "string") throw new Error("refused");
    expect([a.how, a2.how, b.how]).toEqual(["started", "shared", "started"]);
    first.resolve("a done");
    expect(await Promise.all([a.result, a2.result, b.result])).toEqual(["a done", "a done", "b done"]);
    expect([probes.running, probes.queued, starts]).toEqual([0, 0, 2]);
  });

  it("aborts a running probe when its last scrape leaves, drops a queued one, and refuses one queued past its deadline", async () => {
    const probes = new SharedProbes<string>({ maxRunning: 1, maxQueued: 2, maxWaiters: 4 });
    let signal: AbortSignal | undefined;
    const running = probes.attach(
      "slow",
      (s) =>
        new Promise<string>((_, reject) => {
          signal = s;
          s.addEventListener("abort", () => reject(new Error(String(s.reason))));
        }),
      undefined,
    );
    const late = probes.attach("late", () => Promise.resolve("never"), Date.now() - 1);
    let droppedStarted = false;
    const dropped = probes.attach(
      "dropped",
      () => {
        droppedStarted = true;
        return Promise.resolve("never");
      },
      undefined,
    );
    if (typeof running === "string" || typeof late === "string" || typeof dropped === "string") throw new Error("refused");
    dropped.detach();
    await expect(dropped.result).rejects.toThrow(/no scrape is waiting/);
    running.detach();
    expect(signal?.aborted).toBe(true);
    await expect(running.result).rejects.toThrow(/no scrape is waiting/);
    await expect(late.result).rejects.toBeInstanceOf(QueueDeadlineError);
    expect(droppedStarted).toBe(false);
    expect([probes.running, probes.queued]).toEqual([0, 0]);
  });
});
