/**
 * Integrity of the tuned download path against the real OpenSSH sshd: whatever
 * the read size, the number of READs in flight, the number of SFTP channels
 * and which of them answers first or last, short answers, the flushing and the
 * GC nudges, the file on disk is byte-identical to the source. The sizes sit
 * on the chunk boundaries, where an off-by-one would lose or repeat a byte.
 * No timing is asserted here; speed is `npm run bench`'s business.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Client, type SFTPWrapper, type Stats } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOWNLOAD_TUNING, downloadVerified, type DownloadResult, type DownloadTuning } from "../../checks/download";
import { runSites } from "../../checks/run";
import { startOpenSsh, type OpenSshServer } from "../support/sshd";
import { contextFor, makeConfig, newUserKey, payload, tempDir, type TestKey } from "../support/facility";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
/** What OpenSSH's internal-sftp answers in one READ, and so the chunk the default tuning ends up using. */
const CHUNK = 255 * 1024;
const SIZES: Record<string, number> = {
  empty: 0,
  "one-byte": 1,
  "chunk-minus-1": CHUNK - 1,
  chunk: CHUNK,
  "chunk-plus-1": CHUNK + 1,
  "odd-multi": 3 * CHUNK + 12_345,
};

/** The session with some methods replaced; everything else goes to the real one (bound to it, so its request ids stay its own). */
function withMethods(real: SFTPWrapper, methods: Partial<Pick<SFTPWrapper, "read" | "fstat" | "open">>): SFTPWrapper {
  return new Proxy(real, {
    get(target, prop) {
      if (prop in methods) return methods[prop as keyof typeof methods];
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function withRead(real: SFTPWrapper, read: SFTPWrapper["read"]): SFTPWrapper {
  return withMethods(real, { read });
}

/** Counts the data READs a session sends (the one-byte end-of-file READ excluded). */
function counted(counts: number[], index: number) {
  counts[index] = 0;
  return (real: SFTPWrapper): SFTPWrapper =>
    withRead(real, ((handle, buf, off, len, pos, cb) => {
      if (len > 1) counts[index]!++;
      real.read(handle, buf, off, len, pos, cb);
    }) as SFTPWrapper["read"]);
}

/** Every answer on this session arrives `ms` late: one slow channel among fast ones. */
function slowAnswers(ms: number) {
  return (real: SFTPWrapper): SFTPWrapper =>
    withRead(real, ((handle, buf, off, len, pos, cb) =>
      real.read(handle, buf, off, len, pos, (err, bytes, data, at) =>
        setTimeout(() => cb(err, bytes, data, at), ms),
      )) as SFTPWrapper["read"]);
}

/**
 * Holds this session's answers until `gate` opens (or two seconds pass), so the
 * other channels have joined and read before this one finishes the file.
 */
function heldUntil(gate: Promise<unknown>) {
  const opened = Promise.race([gate, new Promise((resolve) => setTimeout(resolve, 2000))]);
  return (real: SFTPWrapper): SFTPWrapper =>
    withRead(real, ((handle, buf, off, len, pos, cb) =>
      real.read(
        handle,
        buf,
        off,
        len,
        pos,
        (err, bytes, data, at) => void opened.then(() => cb(err, bytes, data, at)),
      )) as SFTPWrapper["read"]);
}

const compose =
  (...wrappers: ((s: SFTPWrapper) => SFTPWrapper)[]) =>
  (s: SFTPWrapper): SFTPWrapper =>
    wrappers.reduce((acc, w) => w(acc), s);

/** OpenSSH answers in order; this delays each answer by 0-4 ms, so later chunks often arrive first. Records each download's offsets in the order they are answered. */
function outOfOrder(answered: number[][]) {
  return (real: SFTPWrapper): SFTPWrapper => {
    let n = 0;
    const order: number[] = [];
    answered.push(order);
    return withRead(real, ((handle, buf, off, len, pos, cb) =>
      real.read(handle, buf, off, len, pos, (err, bytes, data, at) => {
        setTimeout(
          () => {
            order.push(pos);
            cb(err, bytes, data, at);
          },
          (n++ * 7) % 5,
        );
      })) as SFTPWrapper["read"]);
  };
}

/** Every third READ of more than one byte asks the server for only half, as a server with a smaller limit would answer. Counts the halved ones. */
function shortAnswers(halved: { count: number }) {
  return (real: SFTPWrapper): SFTPWrapper => {
    let n = 0;
    return withRead(real, ((handle, buf, off, len, pos, cb) => {
      const half = n++ % 3 === 0 && len > 1;
      if (half) halved.count++;
      real.read(handle, buf, off, half ? Math.ceil(len / 2) : len, pos, cb);
    }) as SFTPWrapper["read"]);
  };
}

describe("download integrity at odd sizes (real OpenSSH)", () => {
  const dir = tempDir("download-sizes");
  const files = Object.fromEntries(Object.entries(SIZES).map(([name, size], i) => [name, payload(size, i + 7)]));
  let key: TestKey;
  let server: OpenSshServer;
  let client: Client;
  let sftp: SFTPWrapper;

  beforeAll(async () => {
    key = newUserKey(dir);
    server = await startOpenSsh({ authorizedKeys: [key.publicLine], files });
    const pinned = Buffer.from(server.hostKeyPublic.trim().split(/\s+/)[1]!, "base64");
    client = new Client();
    await new Promise<void>((resolve, reject) => {
      client.once("ready", resolve).once("error", reject);
      client.connect({
        host: server.host,
        port: server.port,
        username: server.user,
        privateKey: readFileSync(key.privatePath),
        hostVerifier: (blob: Buffer) => blob.equals(pinned),
      });
    });
    sftp = await new Promise<SFTPWrapper>((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
  });
  afterAll(async () => {
    client?.end();
    await server?.stop();
  });

  /** How each download reaches the server: its first session, and how it opens more (none by default). */
  interface Route {
    readonly first?: (s: SFTPWrapper) => SFTPWrapper;
    /** Wraps the n-th extra channel (1-based); undefined: no extra channels can be opened. */
    readonly extra?: (s: SFTPWrapper, n: number) => SFTPWrapper;
    /** The session's round trip, as the listing hands it on: the extra channels then open beside the first OPEN. */
    readonly roundTripMs?: number;
  }

  /** Opens another SFTP channel over the same connection, as the probe does. */
  const openSftp = () => new Promise<SFTPWrapper>((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));

  async function fetchOne(label: string, name: string, tuning: DownloadTuning, route: Route): Promise<DownloadResult> {
    let opened = 0;
    const extra = route.extra;
    return downloadVerified({
      sftp: (route.first ?? ((x) => x))(sftp),
      ...(extra ? { openChannel: async () => extra(await openSftp(), ++opened) } : {}),
      ...(route.roundTripMs !== undefined ? { roundTripMs: route.roundTripMs } : {}),
      remotePath: join(server.remoteDir, name),
      name,
      localDir: join(dir, label),
      expectedSize: files[name]!.length,
      signal: new AbortController().signal,
      ...tuning,
    });
  }

  async function fetchAll(label: string, tuning: DownloadTuning, route: Route | ((s: SFTPWrapper) => SFTPWrapper) = {}): Promise<void> {
    const localDir = join(dir, label);
    const r0 = typeof route === "function" ? { first: route } : route;
    for (const [name, source] of Object.entries(files)) {
      const r = await fetchOne(label, name, tuning, r0);
      expectSource(localDir, name, source, r);
    }
    // Only the final names are left: no temporary file.
    expect(readdirSync(localDir).sort()).toEqual(Object.keys(files).sort());
  }

  function expectSource(localDir: string, name: string, source: Buffer, r: DownloadResult): void {
    const onDisk = readFileSync(join(localDir, name));
    expect(r.bytes, name).toBe(source.length);
    expect(onDisk.length, name).toBe(source.length);
    expect(r.sha256, name).toBe(sha(source));
    expect(sha(onDisk), name).toBe(sha(source));
    expect(onDisk.equals(source), name).toBe(true);
  }

  it("the shipped tuning", async () => {
    expect(DOWNLOAD_TUNING.chunkSize).toBe(CHUNK);
    await fetchAll("default", {});
  });

  it("a chunk larger than the server's READ limit is capped, not split", async () => {
    await fetchAll("oversized", { chunkSize: 1024 * 1024, concurrency: 4 });
  });

  it("tiny chunks with many READs in flight and the GC nudged often", async () => {
    await fetchAll("tiny", { chunkSize: 1000, concurrency: 64, collectEveryBytes: 4096 });
  });

  it("answers arriving out of order, and short answers that need a second READ", async () => {
    const answered: number[][] = [];
    await fetchAll("reordered", { chunkSize: 4096, concurrency: 32 }, outOfOrder(answered));
    const reordered = answered.filter((order) => order.some((pos, i) => i > 0 && pos < order[i - 1]!));
    expect(reordered.length).toBeGreaterThan(0);
    const halved = { count: 0 };
    await fetchAll("short", { chunkSize: 4096, concurrency: 8 }, shortAnswers(halved));
    expect(halved.count).toBeGreaterThan(10);
  });

  it("one READ at a time, a flush after every chunk, no GC nudge", async () => {
    await fetchAll("plain", { chunkSize: 4096, concurrency: 1, syncEveryBytes: 1, collectEveryBytes: 0 });
  });

  describe.each([
    ["opened once the first OPEN and FSTAT are answered", undefined],
    ["opened beside the first OPEN (round trip known from the listing)", 100],
  ])("over several SFTP channels of the one connection, %s", (_when, roundTripMs) => {
    const multi: DownloadTuning = { channels: 3, chunkSize: 4096, concurrency: 4 };
    const early = roundTripMs !== undefined;
    const tag = early ? "early-" : "";

    it("every size, three channels, each answered as fast as it comes", async () => {
      await fetchAll(`${tag}multi`, multi, { extra: (s) => s, roundTripMs });
    });

    it("every size, answers out of order on every channel, and short answers", async () => {
      const answered: number[][] = [];
      await fetchAll(
        `${tag}multi-reordered`,
        { ...multi, concurrency: 8 },
        { first: outOfOrder(answered), extra: outOfOrder(answered), roundTripMs },
      );
      expect(answered.some((order) => order.some((pos, i) => i > 0 && pos < order[i - 1]!))).toBe(true);
      const halved = { count: 0 };
      await fetchAll(`${tag}multi-short`, multi, { first: shortAnswers(halved), extra: shortAnswers(halved), roundTripMs });
      expect(halved.count).toBeGreaterThan(10);
    });

    it("the chunks of one file come over every channel and are written in file order", async () => {
      const counts: number[] = [];
      let joined = 0;
      let allJoined!: () => void;
      const gate = new Promise<void>((resolve) => (allJoined = resolve));
      // The first channel's answers wait until both others have sent a READ, so all three carry data.
      const extra = (s: SFTPWrapper, n: number) => {
        counts[n] = 0;
        return withRead(s, ((handle, buf, off, len, pos, cb) => {
          if (len > 1 && ++counts[n]! === 1 && ++joined === 2) allJoined();
          s.read(handle, buf, off, len, pos, cb);
        }) as SFTPWrapper["read"]);
      };
      const r = await fetchOne(`${tag}multi-spread`, "odd-multi", multi, {
        first: compose(counted(counts, 0), heldUntil(gate)),
        extra,
        roundTripMs,
      });
      expectSource(join(dir, `${tag}multi-spread`), "odd-multi", files["odd-multi"]!, r);
      expect(r.channels).toBe(3);
      expect(counts.filter((n) => n > 0)).toHaveLength(3);
    });

    it("one slow channel: its answers come last, the file is still the source", async () => {
      for (const slow of [1, 2]) {
        const label = `${tag}multi-slow-${slow}`;
        const r = await fetchOne(label, "odd-multi", multi, { extra: (s, n) => (n === slow ? slowAnswers(25)(s) : s), roundTripMs });
        expectSource(join(dir, label), "odd-multi", files["odd-multi"]!, r);
      }
      // The first channel slow, the extra ones fast.
      await fetchAll(`${tag}multi-slow-first`, multi, { first: slowAnswers(10), extra: (s) => s });
    });

    it("a server that refuses more channels: the download goes on over the first", async () => {
      let asked = 0;
      const r = await downloadVerified({
        sftp,
        openChannel: () => {
          asked++;
          return Promise.reject(new Error("(SSH) Channel open failure: open failed"));
        },
        remotePath: join(server.remoteDir, "odd-multi"),
        name: "odd-multi",
        localDir: join(dir, `${tag}refused`),
        expectedSize: files["odd-multi"]!.length,
        ...(early ? { roundTripMs } : {}),
        signal: new AbortController().signal,
        ...multi,
      });
      expectSource(join(dir, `${tag}refused`), "odd-multi", files["odd-multi"]!, r);
      expect(asked).toBe(2);
      expect(r.channels).toBe(1);
    });

    it("a second handle that does not describe the same file fails the download, and nothing is left", async () => {
      const touched = (s: SFTPWrapper) =>
        withMethods(s, {
          fstat: ((handle: Buffer, cb: (err: Error | undefined, stats: Stats) => void) =>
            s.fstat(handle, (err, stats) =>
              cb(err, Object.assign(Object.create(Object.getPrototypeOf(stats)), stats, { mtime: stats.mtime + 1 })),
            )) as SFTPWrapper["fstat"],
        });
      const counts: number[] = [];
      let joined!: () => void;
      const gate = new Promise<void>((resolve) => (joined = resolve));
      const extra = (s: SFTPWrapper) =>
        withRead(touched(s), ((handle, buf, off, len, pos, cb) => {
          joined();
          s.read(handle, buf, off, len, pos, cb);
        }) as SFTPWrapper["read"]);
      await expect(
        fetchOne(
          `${tag}changed`,
          "odd-multi",
          { ...multi, channels: 2 },
          { first: compose(counted(counts, 0), heldUntil(gate)), extra, roundTripMs },
        ),
      ).rejects.toMatchObject({ code: "size-mismatch", message: expect.stringContaining("changed during the download (mtime") });
      expect(readdirSync(join(dir, `${tag}changed`))).toEqual([]);
    });
  });

  describe("when the extra channels open", () => {
    /** Records, in order, when the first session's OPEN and FSTAT are answered and when a channel is asked for. */
    function journal(events: string[]) {
      return (real: SFTPWrapper): SFTPWrapper =>
        withMethods(real, {
          open: ((path: string, flags: "r", cb: (err: Error | undefined, handle: Buffer) => void) =>
            real.open(path, flags, (err, handle) => {
              events.push(err ? "open failed" : "open answered");
              cb(err, handle);
            })) as SFTPWrapper["open"],
          fstat: ((handle: Buffer, cb: (err: Error | undefined, stats: Stats) => void) =>
            real.fstat(handle, (err, stats) => {
              events.push("fstat answered");
              cb(err, stats);
            })) as SFTPWrapper["fstat"],
        });
    }

    async function fetchJournaled(label: string, name: string, tuning: DownloadTuning, roundTripMs?: number) {
      const events: string[] = [];
      const ended: Promise<void>[] = [];
      const result = downloadVerified({
        sftp: journal(events)(sftp),
        openChannel: async () => {
          events.push("channel asked for");
          const s = await openSftp();
          ended.push(new Promise<void>((resolve) => s.once("close", () => resolve())));
          return s;
        },
        ...(roundTripMs !== undefined ? { roundTripMs } : {}),
        remotePath: join(server.remoteDir, name),
        name,
        localDir: join(dir, label),
        expectedSize: files[name]?.length ?? 3 * CHUNK,
        signal: new AbortController().signal,
        ...tuning,
      });
      return { result, events, ended };
    }

    it("with the listing's round trip, beside the first OPEN; without it, after the OPEN and the FSTAT", async () => {
      const early = await fetchJournaled("order-early", "odd-multi", { channels: 3, chunkSize: 4096 }, 100);
      expectSource(join(dir, "order-early"), "odd-multi", files["odd-multi"]!, await early.result);
      expect(early.events.indexOf("channel asked for")).toBeLessThan(early.events.indexOf("open answered"));
      expect(early.events.filter((e) => e === "channel asked for")).toHaveLength(2);

      const late = await fetchJournaled("order-late", "odd-multi", { channels: 3, chunkSize: 4096, earlyChannels: false }, 100);
      expectSource(join(dir, "order-late"), "odd-multi", files["odd-multi"]!, await late.result);
      expect(late.events.indexOf("channel asked for")).toBeGreaterThan(late.events.indexOf("fstat answered"));
    });

    it("a small file stays on one channel even on a long round trip", async () => {
      const small = await fetchJournaled("order-small", "chunk-plus-1", {}, 400);
      expect((await small.result).channels).toBe(1);
      expect(small.events).not.toContain("channel asked for");
    });

    it("the first OPEN fails: the download fails with the remote cause, and every channel it opened is closed", async () => {
      const missing = await fetchJournaled("order-missing", "no-such-file", { channels: 4, chunkSize: 4096 }, 100);
      await expect(missing.result).rejects.toMatchObject({ code: "file-missing" });
      expect(missing.events.filter((e) => e === "channel asked for")).toHaveLength(3);
      await expect.poll(() => missing.ended.length).toBe(3);
      await Promise.all(missing.ended);
      expect(readdirSync(join(dir, "order-missing"))).toEqual([]);
    });
  });

  it("through the readiness check itself (runSites), as the session downloads", async () => {
    const config = makeConfig(dir, {
      user: server.user,
      identityFile: key.privatePath,
      remoteDir: server.remoteDir,
      // The config takes one or two names or globs; one glob matches every size.
      files: ["*"],
      downloadDir: "./via-check",
      sites: { primary: { hosts: [`${server.host}:${server.port}`] }, secondary: { hosts: [`${server.host}:${server.port}`] } },
    });
    const run = await runSites(contextFor(config, `${server.knownHostsLine}\n`), ["primary"], { download: true });
    expect(run.endpoints[0]!.verdict).toBe("pass");
    expect(run.downloads).toHaveLength(Object.keys(files).length);
    for (const d of run.downloads) {
      const source = files[d.file]!;
      expect(d.bytes, d.file).toBe(source.length);
      expect(d.sha256, d.file).toBe(sha(source));
      expect(readFileSync(d.path).equals(source), d.file).toBe(true);
    }
  });
});
