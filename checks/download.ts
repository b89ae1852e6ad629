/**
 * Verified download: pipelined SFTP reads into a temporary file, SHA-256
 * taken while the data streams, size checked against the remote stat and
 * against EOF, fsync, and only then a rename into place. A partial file never
 * sits under the final name, and the temporary file is removed on any failure.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, unlink, type FileHandle } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import type { SFTPWrapper } from "ssh2";
import type { CauseCode } from "./report";
import { printable } from "./text";

export class PhaseError extends Error {
  constructor(
    readonly code: CauseCode,
    message: string,
  ) {
    super(message);
    this.name = "PhaseError";
  }
}

export const DOWNLOAD_TUNING = Object.freeze({
  /** Bytes asked for in one SFTP READ; ssh2 splits it to the server's limit. */
  chunkSize: 256 * 1024,
  /** READ requests kept in flight. */
  concurrency: 32,
});

/** A remote name is only ever used as a single path component inside the download folder. */
export function unsafeNameReason(name: string): string | undefined {
  if (name.length === 0) return "empty name";
  if (name === "." || name === "..") return `"${name}" is not a file name`;
  if (name.includes("/") || name.includes("\\")) return "contains a path separator";
  // C0, DEL and C1 (U+0080-U+009F: U+009B is a terminal's CSI), as printable() escapes them.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return "contains control characters";
  if (Buffer.byteLength(name) > 255) return "longer than 255 bytes";
  return undefined;
}

export interface DownloadRequest {
  readonly sftp: SFTPWrapper;
  readonly remotePath: string;
  readonly name: string;
  readonly localDir: string;
  /** Size from the listing's stat. */
  readonly expectedSize: number;
  readonly signal: AbortSignal;
  readonly chunkSize?: number;
  readonly concurrency?: number;
}

export interface DownloadResult {
  readonly bytes: number;
  readonly sha256: string;
  readonly path: string;
  readonly previous?: { readonly status: "identical" | "replaced"; readonly sha256: string };
}

function sftpCall<T>(fn: (cb: (err: Error | undefined | null, v: T) => void) => void): Promise<T> {
  return new Promise((res, rej) => fn((err, v) => (err ? rej(err) : res(v))));
}

function remoteError(err: unknown, what: string): PhaseError {
  const code = (err as { code?: number }).code;
  if (code === 2) return new PhaseError("file-missing", `${what}: no such file`);
  if (code === 3) return new PhaseError("permission-denied", `${what}: permission denied`);
  const msg = (err as Error)?.message ?? String(err);
  if (/No response from server|not connected|closed/i.test(msg)) return new PhaseError("connection-lost", `${what}: connection lost mid-transfer (${msg})`);
  return new PhaseError("error", `${what}: ${msg}`);
}

function localError(err: unknown, path: string): PhaseError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT") return new PhaseError("disk-full", `disk full writing ${path}`);
  return new PhaseError("local-write", `cannot write ${path}: ${code ?? (err as Error).message}`);
}

async function sha256OfFile(path: string): Promise<string | undefined> {
  try {
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest("hex");
  } catch {
    return undefined;
  }
}

/**
 * Test seam: how the temporary file is opened. Tests replace `open` to inject
 * local write failures (ENOSPC, EACCES) on machines where a full or read-only
 * file system cannot be mounted. Nothing else changes it.
 */
export const localFiles: { open: typeof open } = { open };

export async function ensureDownloadDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new PhaseError("local-folder", `download folder ${dir} cannot be created: ${(err as NodeJS.ErrnoException).code}`);
  }
}

export async function downloadVerified(req: DownloadRequest): Promise<DownloadResult> {
  const reason = unsafeNameReason(req.name);
  if (reason) throw new PhaseError("unsafe-name", `refused remote name "${printable(req.name)}": ${reason}`);
  const localDir = resolve(req.localDir);
  const finalPath = join(localDir, req.name);
  if (!finalPath.startsWith(localDir + sep)) throw new PhaseError("unsafe-name", `refused remote name "${printable(req.name)}"`);
  const label = printable(req.name);
  const chunkSize = req.chunkSize ?? DOWNLOAD_TUNING.chunkSize;
  const concurrency = req.concurrency ?? DOWNLOAD_TUNING.concurrency;

  await ensureDownloadDir(localDir);
  const tmpPath = join(localDir, `.${req.name}.${process.pid}.${randomBytes(4).toString("hex")}.partial`);
  let fh: FileHandle;
  try {
    fh = await localFiles.open(tmpPath, "wx", 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOSPC") throw new PhaseError("disk-full", `disk full creating a file in ${localDir}`);
    throw new PhaseError("local-folder", `download folder ${localDir} is not writable: ${code}`);
  }

  let handle: Buffer | undefined;
  let keepTmp = false;
  const abortPromise = new Promise<never>((_, rej) => {
    const onAbort = () => rej(req.signal.reason);
    if (req.signal.aborted) onAbort();
    else req.signal.addEventListener("abort", onAbort, { once: true });
  });
  abortPromise.catch(() => undefined);
  const raced = <T>(p: Promise<T>) => Promise.race([p, abortPromise]);

  try {
    handle = await raced(sftpCall<Buffer>((cb) => req.sftp.open(req.remotePath, "r", cb))).catch((err) => {
      throw err instanceof PhaseError ? err : remoteError(err, label);
    });
    const stats = await raced(sftpCall<{ size: number }>((cb) => req.sftp.fstat(handle!, cb))).catch((err) => {
      throw err instanceof PhaseError ? err : remoteError(err, label);
    });
    const size = stats.size;
    if (size !== req.expectedSize) {
      throw new PhaseError("size-mismatch", `${label}: size changed from ${req.expectedSize} (listing) to ${size} bytes (open)`);
    }

    const hash = createHash("sha256");
    await raced(pipelinedCopy(req.sftp, handle, fh, size, chunkSize, concurrency, hash, label, tmpPath));

    // One more READ at the end proves the file did not grow while we read it.
    const tail = Buffer.allocUnsafe(1);
    const extra = await raced(
      sftpCall<number>((cb) => req.sftp.read(handle!, tail, 0, 1, size, (err, n) => cb(err, n))),
    ).catch((err) => {
      throw err instanceof PhaseError ? err : remoteError(err, label);
    });
    if (extra > 0) throw new PhaseError("size-mismatch", `${label}: the file grew during the download (stat said ${size} bytes)`);

    const sha256 = hash.digest("hex");
    try {
      await fh.sync();
      await fh.close();
    } catch (err) {
      throw localError(err, tmpPath);
    }
    req.sftp.close(handle, () => undefined);
    handle = undefined;

    const previousSha = await sha256OfFile(finalPath);
    if (previousSha === sha256) {
      await unlink(tmpPath);
      return { bytes: size, sha256, path: finalPath, previous: { status: "identical", sha256: previousSha } };
    }
    try {
      await rename(tmpPath, finalPath);
      keepTmp = true;
      const dir = await open(localDir, "r");
      await dir.sync().catch(() => undefined);
      await dir.close();
    } catch (err) {
      throw localError(err, finalPath);
    }
    return {
      bytes: size,
      sha256,
      path: finalPath,
      ...(previousSha ? { previous: { status: "replaced" as const, sha256: previousSha } } : {}),
    };
  } finally {
    if (handle) req.sftp.close(handle, () => undefined);
    if (!keepTmp) {
      await fh.close().catch(() => undefined);
      await unlink(tmpPath).catch(() => undefined);
    }
  }
}

/**
 * Keeps `concurrency` READs in flight, writes completed chunks in order and
 * hashes them as they are written, so memory stays bounded by the window and
 * the data is never read back from disk.
 */
function pipelinedCopy(
  sftp: SFTPWrapper,
  handle: Buffer,
  fh: FileHandle,
  size: number,
  chunkSize: number,
  concurrency: number,
  hash: ReturnType<typeof createHash>,
  label: string,
  tmpPath: string,
): Promise<void> {
  return new Promise<void>((resolveCopy, rejectCopy) => {
    let nextRequest = 0;
    let nextWrite = 0;
    let inflight = 0;
    let writing = false;
    let failed = false;
    const ready = new Map<number, Buffer>();

    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      rejectCopy(err);
    };

    const readRange = (pos: number, len: number, buf: Buffer, filled: number, done: (b: Buffer) => void) => {
      sftp.read(handle, buf, filled, len - filled, pos + filled, (err, n) => {
        if (failed) return;
        if (err) return fail(remoteError(err, label));
        if (n === 0) {
          return fail(new PhaseError("size-mismatch", `${label}: the file ended at ${pos + filled} bytes, but its size was ${size} (it shrank or the transfer was cut)`));
        }
        if (filled + n < len) return readRange(pos, len, buf, filled + n, done);
        done(buf);
      });
    };

    const pump = () => {
      if (failed) return;
      // Chunks waiting to be written count against the window too, so a slow disk bounds memory.
      while (inflight + ready.size < concurrency && nextRequest < size) {
        const pos = nextRequest;
        const len = Math.min(chunkSize, size - pos);
        nextRequest += len;
        inflight++;
        readRange(pos, len, Buffer.allocUnsafe(len), 0, (buf) => {
          inflight--;
          ready.set(pos, buf);
          void drain();
        });
      }
      if (nextWrite >= size && inflight === 0 && !writing) resolveCopy();
    };

    const drain = async () => {
      if (writing || failed) return;
      writing = true;
      try {
        let buf: Buffer | undefined;
        while (!failed && (buf = ready.get(nextWrite)) !== undefined) {
          ready.delete(nextWrite);
          hash.update(buf);
          let written = 0;
          while (written < buf.length) {
            const { bytesWritten } = await fh.write(buf, written, buf.length - written, nextWrite + written);
            written += bytesWritten;
          }
          nextWrite += buf.length;
          pump();
        }
      } catch (err) {
        return fail(localError(err, tmpPath));
      } finally {
        writing = false;
      }
      pump();
    };

    pump();
  });
}
