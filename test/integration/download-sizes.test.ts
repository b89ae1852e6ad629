/**
 * Integrity of the tuned download path against the real OpenSSH sshd: whatever
 * the read size, the number of READs in flight, the batching, the window and the
 * flushing, the file on disk is byte-identical to the source. The sizes sit on
 * the chunk boundaries, where an off-by-one would lose or repeat a byte.
 * No timing is asserted here; speed is `npm run bench`'s business.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Client, type SFTPWrapper } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOWNLOAD_TUNING, downloadVerified, type DownloadTuning } from "../../checks/download";
import { runSites } from "../../checks/run";
import { startOpenSsh, type OpenSshServer } from "../harness/sshd";
import { contextFor, makeConfig, newUserKey, payload, tempDir, type TestKey } from "./helpers";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
/** What OpenSSH's internal-sftp answers in one READ, and so the chunk the default tuning ends up using. */
const CHUNK = 255 * 1024;
const SIZES: Record<string, number> = {
  "empty": 0,
  "one-byte": 1,
  "chunk-minus-1": CHUNK - 1,
  "chunk": CHUNK,
  "chunk-plus-1": CHUNK + 1,
  "odd-multi": 3 * CHUNK + 12_345,
};

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

  async function fetchAll(label: string, tuning: DownloadTuning): Promise<void> {
    const localDir = join(dir, label);
    for (const [name, source] of Object.entries(files)) {
      const r = await downloadVerified({
        sftp,
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

  it("tiny chunks with many READs in flight, so answers are reordered and batched, and GC nudged often", async () => {
    await fetchAll("tiny", { chunkSize: 1000, concurrency: 64, requestBatch: 7, collectEveryBytes: 4096 });
  });

  it("one READ at a time, ssh2's own window, no batching, a flush after every chunk", async () => {
    await fetchAll("plain", { chunkSize: 4096, concurrency: 1, requestBatch: 1, windowBytes: 0, syncEveryBytes: 1, collectEveryBytes: 0 });
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
