/**
 * Integrity of the tuned download path against the real OpenSSH sshd: whatever
 * the read size, the number of READs in flight, the order the answers arrive
 * in, short answers, the flushing and the GC nudges, the file on disk is
 * byte-identical to the source. The sizes sit on the chunk boundaries, where an
 * off-by-one would lose or repeat a byte.
 * No timing is asserted here; speed is `npm run bench`'s business.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Client, type SFTPWrapper } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOWNLOAD_TUNING, downloadVerified, type DownloadTuning } from "../../checks/download";
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

/** The session with its `read` replaced; everything else goes to the real one (bound to it, so its request ids stay its own). */
function withRead(real: SFTPWrapper, read: SFTPWrapper["read"]): SFTPWrapper {
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "read") return read;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

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

  async function fetchAll(label: string, tuning: DownloadTuning, through: (s: SFTPWrapper) => SFTPWrapper = (s) => s): Promise<void> {
    const localDir = join(dir, label);
    for (const [name, source] of Object.entries(files)) {
      const r = await downloadVerified({
        sftp: through(sftp),
        remotePath: join(server.remoteDir, name),
        name,
        localDir,
        expectedSize: source.length,
        signal: new AbortController().signal,
        ...tuning,
      });
      const onDisk = readFileSync(join(localDir, name));
      expect(r.bytes, name).toBe(source.length);
      expect(onDisk.length, name).toBe(source.length);
      expect(r.sha256, name).toBe(sha(source));
      expect(sha(onDisk), name).toBe(sha(source));
      expect(onDisk.equals(source), name).toBe(true);
    }
    // Only the final names are left: no temporary file.
    expect(readdirSync(localDir).sort()).toEqual(Object.keys(files).sort());
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
