/**
 * Verified download: pipelined SFTP reads into a temporary file, SHA-256
 * taken while the data streams, size checked against the remote stat and
 * against EOF, fsync, and only then a rename into place. A partial file never
 * sits under the final name, and the temporary file is removed on any failure.
 */
import { createHash, randomBytes, type Hash } from "node:crypto";
import { mkdir, open, rename, unlink, type FileHandle } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { SFTPWrapper } from "ssh2";
import type { CauseCode } from "./report";
import { fromCallback } from "../core/callback";
import { sha256OfFile } from "../core/hash";
import { printable } from "../core/text";

export class PhaseError extends Error {
  constructor(
    readonly code: CauseCode,
    message: string,
  ) {
    super(message);
    this.name = "PhaseError";
  }
}

/**
 * How the download drives the SFTP session. The figures behind each value are
 * in docs/performance.md (measured with `npm run bench` against OpenSSH's
 * internal-sftp on loopback, pure-JS ssh2 without its native binding).
 */
export const DOWNLOAD_TUNING = Object.freeze({
  /**
   * Bytes asked for in one SFTP READ. OpenSSH answers at most 261120 bytes
   * (255 KiB, announced through limits@openssh.com); ssh2 splits a larger
   * request into a second READ that is only sent once the first returns, so
   * 256 KiB cost two round trips per chunk. The size is also capped at run time
   * by whatever limit the server announced.
   */
  chunkSize: 255 * 1024,
  /** READ requests kept in flight, counting chunks waiting to be written. */
  concurrency: 16,
  /** Start flushing the temporary file to disk every this many bytes, so the final fsync has little left to do. */
  syncEveryBytes: 32 * 1024 * 1024,
  /**
   * Collect V8's young generation every this many bytes received. ssh2 makes a
   * new buffer for every socket read, decrypted packet and SFTP reply; left to
   * itself V8 lets tens of MiB of them pile up before collecting, and that pile
   * is most of a large download's peak RSS.
   */
  collectEveryBytes: 2 * 1024 * 1024,
});

export interface DownloadTuning {
  readonly chunkSize?: number;
  readonly concurrency?: number;
  /** 0 leaves all flushing to the final fsync. */
  readonly syncEveryBytes?: number;
  /** 0 leaves garbage collection to V8. */
  readonly collectEveryBytes?: number;
  /**
   * Unattended probes only (the exporter, the VPC probe): a file listed larger
   * than this fails with `file-too-large` before any byte of it is read.
   */
  readonly maxFileBytes?: number;
}

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

export interface DownloadRequest extends DownloadTuning {
  readonly sftp: SFTPWrapper;
  readonly remotePath: string;
  readonly name: string;
  readonly localDir: string;
  /** Size from the listing's stat. */
  readonly expectedSize: number;
  readonly signal: AbortSignal;
}

export interface DownloadResult {
  readonly bytes: number;
  readonly sha256: string;
  readonly path: string;
  readonly previous?: { readonly status: "identical" | "replaced"; readonly sha256: string };
}

function remoteError(err: unknown, what: string): PhaseError {
  const code = (err as { code?: number }).code;
  if (code === 2) return new PhaseError("file-missing", `${what}: no such file`);
  if (code === 3) return new PhaseError("permission-denied", `${what}: permission denied`);
  const msg = (err as Error)?.message ?? String(err);
  if (/No response from server|not connected|closed/i.test(msg))
    return new PhaseError("connection-lost", `${what}: connection lost mid-transfer (${msg})`);
  return new PhaseError("error", `${what}: ${msg}`);
}

function localError(err: unknown, path: string): PhaseError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT") return new PhaseError("disk-full", `disk full writing ${path}`);
  return new PhaseError("local-write", `cannot write ${path}: ${code ?? (err as Error).message}`);
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
  if (req.maxFileBytes !== undefined && req.expectedSize > req.maxFileBytes) {
    throw new PhaseError(
      "file-too-large",
      `${label} is ${req.expectedSize} bytes, more than the ${req.maxFileBytes} bytes monitoring.maxFileBytes allows; not downloaded`,
    );
  }

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
  let copy: RemoteCopy | undefined;
  let keepTmp = false;
  const abortPromise = new Promise<never>((_, rej) => {
    const onAbort = () => rej(req.signal.reason);
    if (req.signal.aborted) onAbort();
    else req.signal.addEventListener("abort", onAbort, { once: true });
  });
  abortPromise.catch(() => undefined);
  const raced = <T>(p: Promise<T>) => Promise.race([p, abortPromise]);
  const asPhaseError = (err: unknown) => (err instanceof PhaseError ? err : remoteError(err, label));

  try {
    handle = await raced(fromCallback<Buffer>((cb) => req.sftp.open(req.remotePath, "r", cb))).catch((err) => {
      throw asPhaseError(err);
    });
    // FSTAT and the first READs leave in the same round trip: the READs are
    // sized from the listing, and FSTAT, answered first, must agree with it
    // before any byte counts. A file that changed since the listing fails here.
    const stat = fromCallback<{ size: number }>((cb) => req.sftp.fstat(handle!, cb));
    stat.catch(() => undefined);
    const size = req.expectedSize;
    const hash = createHash("sha256");
    copy = startRemoteCopy({ sftp: req.sftp, handle, fh, size, hash, label, tmpPath, tuning: req });
    const stats = await raced(stat).catch((err) => {
      throw asPhaseError(err);
    });
    if (stats.size !== req.expectedSize) {
      throw new PhaseError("size-mismatch", `${label}: size changed from ${req.expectedSize} (listing) to ${stats.size} bytes (open)`);
    }
    await raced(copy.done);
    copy = undefined;

    const sha256 = hash.digest("hex");
    try {
      await fh.sync();
      await fh.close();
    } catch (err) {
      throw localError(err, tmpPath);
    }
    req.sftp.close(handle, () => undefined);
    handle = undefined;

    const previousSha = await sha256OfFile(finalPath).catch(() => undefined);
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
    // Stop issuing READs and wait for the local writes already started, so the
    // temporary file is closed and gone before we return.
    if (copy) await copy.cancel();
    if (handle) req.sftp.close(handle, () => undefined);
    if (!keepTmp) {
      await fh.close().catch(() => undefined);
      await unlink(tmpPath).catch(() => undefined);
    }
  }
}

interface RemoteCopy {
  /** Resolves once every byte is hashed and written and the end of the file was confirmed. */
  readonly done: Promise<void>;
  /** Stops the copy and resolves once no local write is pending. */
  cancel(): Promise<void>;
}

/**
 * The one part of ssh2 1.17's SFTPWrapper the download reads beyond the public
 * API. It is checked before use; a different ssh2 simply gets the configured
 * chunk size.
 */
interface Ssh2SftpInternals {
  readonly _maxReadLen?: unknown;
}

/** The largest READ the server answers in one go, as ssh2 learnt it (limits@openssh.com, or its own default). */
function serverReadLimit(sftp: SFTPWrapper): number | undefined {
  const limit = (sftp as unknown as Ssh2SftpInternals)._maxReadLen;
  return typeof limit === "number" && Number.isInteger(limit) && limit > 0 ? limit : undefined;
}

type YoungCollector = () => void;
let youngCollector: YoungCollector | null | undefined;

/**
 * A young-generation GC, or undefined where this V8 offers none. Scripts do
 * not get `gc` by default: the flag is set once and the function is taken from
 * a fresh context; the main context's globals are left as they were.
 */
function collectYoungGeneration(): YoungCollector | undefined {
  if (youngCollector === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      const gc = runInNewContext("gc") as unknown;
      if (typeof gc !== "function") throw new Error("no gc");
      const collect = () => (gc as (options: { type: string }) => void)({ type: "minor" });
      collect();
      youngCollector = collect;
    } catch {
      youngCollector = null;
    }
  }
  return youngCollector ?? undefined;
}

function positiveInt(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
}

function nonNegativeInt(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isInteger(value) && value >= 0 ? value : fallback;
}

/**
 * Keeps up to `concurrency` READs in flight, writes completed chunks in order
 * and hashes them as they are written, so the data is never read back from
 * disk and memory stays bounded by concurrency × chunk size whatever the file
 * size: chunk buffers are reused, and chunks waiting for the disk count
 * against the window. Once the last data READ is sent, one more READ at the
 * file's size must find the end of the file; the server answers requests in
 * order, so it proves the file did not grow while we read it.
 */
function startRemoteCopy(args: {
  sftp: SFTPWrapper;
  handle: Buffer;
  fh: FileHandle;
  size: number;
  hash: Hash;
  label: string;
  tmpPath: string;
  tuning: DownloadTuning;
}): RemoteCopy {
  const { sftp, handle, fh, size, hash, label, tmpPath, tuning } = args;
  const limit = serverReadLimit(sftp);
  const wanted = positiveInt(tuning.chunkSize, DOWNLOAD_TUNING.chunkSize);
  const chunkSize = limit !== undefined ? Math.min(wanted, limit) : wanted;
  const concurrency = positiveInt(tuning.concurrency, DOWNLOAD_TUNING.concurrency);
  const syncEvery = nonNegativeInt(tuning.syncEveryBytes, DOWNLOAD_TUNING.syncEveryBytes);
  const collectEvery = nonNegativeInt(tuning.collectEveryBytes, DOWNLOAD_TUNING.collectEveryBytes);
  const collect = collectEvery > 0 && size > collectEvery ? collectYoungGeneration() : undefined;
  let received = 0;
  let collectedAt = 0;

  let nextRequest = 0;
  let nextWrite = 0;
  let inflight = 0;
  let tailState: "unsent" | "sent" | "done" = "unsent";
  let writing = false;
  let written: Promise<void> = Promise.resolve();
  let syncing: Promise<void> | undefined;
  let syncedTo = 0;
  let stopped = false;
  const ready = new Map<number, Buffer>();
  const spare: Buffer[] = [];

  let resolveDone!: () => void;
  let rejectDone!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  done.catch(() => undefined);

  const fail = (err: unknown) => {
    if (stopped) return;
    stopped = true;
    rejectDone(err);
  };

  const readRange = (pos: number, len: number, buf: Buffer, filled: number) => {
    sftp.read(handle, buf, filled, len - filled, pos + filled, (err, n) => {
      if (stopped) return;
      if (err) return fail(remoteError(err, label));
      if (n === 0) {
        return fail(
          new PhaseError(
            "size-mismatch",
            `${label}: the file ended at ${pos + filled} bytes, but its size was ${size} (it shrank or the transfer was cut)`,
          ),
        );
      }
      received += n;
      if (collect && received - collectedAt >= collectEvery) {
        collectedAt = received;
        collect();
      }
      // A short answer that is not the end: ask for the rest of this chunk.
      if (filled + n < len) return readRange(pos, len, buf, filled + n);
      inflight--;
      ready.set(pos, buf.length === len ? buf : buf.subarray(0, len));
      if (!writing) {
        writing = true;
        written = drain();
      }
    });
  };

  const readTail = () => {
    tailState = "sent";
    const probe = Buffer.allocUnsafe(1);
    sftp.read(handle, probe, 0, 1, size, (err, n) => {
      if (stopped) return;
      if (err) return fail(remoteError(err, label));
      if (n > 0) return fail(new PhaseError("size-mismatch", `${label}: the file grew during the download (stat said ${size} bytes)`));
      tailState = "done";
      finishIfDone();
    });
  };

  const finishIfDone = () => {
    if (stopped || nextWrite < size || tailState !== "done" || writing) return;
    const flushed = syncing ?? Promise.resolve();
    flushed.then(
      () => {
        if (stopped) return;
        stopped = true;
        resolveDone();
      },
      (err: unknown) => fail(localError(err, tmpPath)),
    );
  };

  const pump = () => {
    if (stopped) return;
    while (inflight + ready.size < concurrency && nextRequest < size) {
      const pos = nextRequest;
      const len = Math.min(chunkSize, size - pos);
      nextRequest += len;
      inflight++;
      readRange(pos, len, spare.pop() ?? Buffer.allocUnsafeSlow(chunkSize), 0);
    }
    if (nextRequest >= size && tailState === "unsent") readTail();
  };

  const drain = async (): Promise<void> => {
    try {
      for (let buf = ready.get(nextWrite); !stopped && buf !== undefined; buf = ready.get(nextWrite)) {
        hash.update(buf);
        let off = 0;
        while (off < buf.length) {
          const { bytesWritten } = await fh.write(buf, off, buf.length - off, nextWrite + off);
          off += bytesWritten;
        }
        ready.delete(nextWrite);
        nextWrite += buf.length;
        if (buf.length === chunkSize) spare.push(buf);
        if (syncEvery > 0 && !syncing && nextWrite - syncedTo >= syncEvery) {
          const upTo = nextWrite;
          syncing = fh.datasync().then(() => {
            syncedTo = upTo;
            syncing = undefined;
          });
          syncing.catch((err: unknown) => fail(localError(err, tmpPath)));
        }
        pump();
      }
    } catch (err) {
      fail(localError(err, tmpPath));
    } finally {
      writing = false;
    }
    finishIfDone();
  };

  pump();
  return {
    done,
    cancel: async () => {
      fail(new PhaseError("cancelled", "download cancelled"));
      await written;
      await syncing?.catch(() => undefined);
    },
  };
}
