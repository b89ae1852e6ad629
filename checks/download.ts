/**
 * Verified download: pipelined SFTP reads into a temporary file, SHA-256
 * taken while the data streams, size checked against the remote stat and
 * against EOF, fsync, and only then a rename into place. A partial file never
 * sits under the final name, and the temporary file is removed on any failure.
 *
 * On a long line the reads can be spread over several SFTP channels of the
 * one SSH connection (one login): each channel brings its own flow-control
 * window, and the chunks, whichever channel answers them, are hashed and
 * written in file order.
 */
import { createHash, randomBytes, type Hash } from "node:crypto";
import { mkdir, open, rename, unlink, type FileHandle } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { SFTPWrapper, Stats } from "ssh2";
import { fromCallback } from "../core/callback";
import { sha256OfFile } from "../core/hash";
import { printable } from "../core/text";

export class PhaseError extends Error {
  constructor(
    /** One of the phase's declared causes (checks/probe/table.ts derives CAUSE_CODES from them). */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "PhaseError";
  }
}

const MiB = 1024 * 1024;

/**
 * How the download drives the SFTP session. The figures behind each value are
 * in docs/performance.md (measured with `npm run bench` against OpenSSH's
 * internal-sftp, on loopback and through a latency proxy, pure-JS ssh2
 * without its native binding).
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
  /**
   * The flow-control window ssh2 gives every channel it opens, fixed at 2 MiB
   * and topped up only once half of it is used (ssh2 1.17, lib/Channel.js
   * MAX_WINDOW and WINDOW_THRESHOLD). On a long line that means one top-up of
   * about 1 MiB per round trip, so one channel moves about 1 MiB per round
   * trip whatever the line (10 MiB/s at 100 ms), and OpenSSH's sftp, whose
   * client keeps the same 2 MiB window, about as much. The READs in flight per
   * channel are sized from it: two windows' worth (16 READs of 255 KiB; 132 of
   * the 31 KiB ssh2 assumes for a server that announces no limit), so that the
   * server has answers queued the moment the window opens again, and never
   * less than half a window's worth when many channels share `maxBytesInFlight`.
   */
  channelWindowBytes: 2 * MiB,
  /**
   * Bytes asked for and not yet written, over all channels: two windows on
   * each of up to three channels, 1.5 MiB on each of eight. It bounds the
   * chunk buffers, and so the peak RSS, whatever the number of channels: at
   * 16 MiB (one window on each of eight) a 1 GiB download at 50 ms one way
   * peaked at 130-135 MiB, over the kit's 128 MiB bound; at 12 MiB, with the
   * young generation collected every 1 MiB, at 117-125 MiB, its transfer
   * about 5 % slower (docs/performance.md).
   */
  maxBytesInFlight: 12 * MiB,
  /**
   * SFTP channels at most, the first one included, over the one SSH
   * connection. OpenSSH's sshd allows 10 sessions per connection by default
   * (sshd_config(5), MaxSessions); eight leaves room below that. A server
   * that refuses a channel only means fewer: the download goes on with the
   * channels it has.
   */
  maxChannels: 8,
  /**
   * One channel per this many milliseconds of round trip (the quicker of the
   * listing's two round trips, or of the OPEN and the FSTAT that follows it),
   * at least one: loopback, a LAN and a busy machine's scheduling hiccups stay
   * on one channel, a 40 ms round trip gets four, 80 ms and more eight.
   */
  roundTripPerChannelMs: 10,
  /**
   * And only as many channels as the file has this many bytes for. An extra
   * channel takes five round trips before its first READ (channel, subsystem,
   * SFTP version, limits, OPEN), in which the first channel alone moves about
   * 5 MiB; the DCASS reports (kilobytes) always stay on one channel.
   */
  minBytesPerChannel: 4 * MiB,
  /** Start flushing the temporary file to disk every this many bytes, so the final fsync has little left to do. */
  syncEveryBytes: 32 * MiB,
  /**
   * Collect V8's young generation every this many bytes received. ssh2 makes a
   * new buffer for every socket read, decrypted packet and SFTP reply; left to
   * itself V8 lets tens of MiB of them pile up before collecting, and that pile
   * is most of a large download's peak RSS. Every 2 MiB was enough on one
   * channel; on eight, every 1 MiB keeps 1 GiB under 128 MiB.
   */
  collectEveryBytes: 1 * MiB,
});

export interface DownloadTuning {
  readonly chunkSize?: number;
  /**
   * READs in flight per channel, counting chunks waiting to be written; default:
   * two windows' worth, less when many channels share `maxBytesInFlight`.
   */
  readonly concurrency?: number;
  /**
   * "auto" (the default) picks the number of channels from the round trip and
   * the file's size; a number uses exactly that many whenever the caller can
   * open more channels (the bench's levers and the integrity tests use it).
   */
  readonly channels?: number | "auto";
  readonly maxChannels?: number;
  readonly roundTripPerChannelMs?: number;
  readonly minBytesPerChannel?: number;
  /**
   * True (the default): given the session's round trip, the extra channels open
   * beside the first OPEN. False waits for the OPEN's and the FSTAT's round
   * trips first, as the download did before (the bench's lever).
   */
  readonly earlyChannels?: boolean;
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

interface ResolvedTuning {
  readonly chunkSize: number;
  readonly concurrency: number | undefined;
  readonly channels: number | "auto";
  readonly maxChannels: number;
  readonly roundTripPerChannelMs: number;
  readonly minBytesPerChannel: number;
  readonly earlyChannels: boolean;
  readonly syncEveryBytes: number;
  readonly collectEveryBytes: number;
}

function positiveInt(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
}

function nonNegativeInt(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isInteger(value) && value >= 0 ? value : fallback;
}

function resolveTuning(t: DownloadTuning): ResolvedTuning {
  const d = DOWNLOAD_TUNING;
  return {
    chunkSize: positiveInt(t.chunkSize, d.chunkSize),
    concurrency: t.concurrency !== undefined && Number.isInteger(t.concurrency) && t.concurrency > 0 ? t.concurrency : undefined,
    channels: typeof t.channels === "number" ? positiveInt(t.channels, 1) : "auto",
    maxChannels: positiveInt(t.maxChannels, d.maxChannels),
    roundTripPerChannelMs: positiveInt(t.roundTripPerChannelMs, d.roundTripPerChannelMs),
    minBytesPerChannel: positiveInt(t.minBytesPerChannel, d.minBytesPerChannel),
    earlyChannels: t.earlyChannels !== false,
    syncEveryBytes: nonNegativeInt(t.syncEveryBytes, d.syncEveryBytes),
    collectEveryBytes: nonNegativeInt(t.collectEveryBytes, d.collectEveryBytes),
  };
}

/**
 * How many SFTP channels a file of `size` bytes gets over a round trip of
 * `roundTripMs`: one per `roundTripPerChannelMs`, at least one, no more than
 * `maxChannels` and no more than the file has `minBytesPerChannel` for. A
 * fixed `channels` overrides all of it.
 */
export function channelsFor(roundTripMs: number, size: number, tuning: DownloadTuning = {}): number {
  const t = resolveTuning(tuning);
  if (t.channels !== "auto") return t.channels;
  const byRoundTrip = Math.floor(roundTripMs / t.roundTripPerChannelMs);
  const bySize = Math.floor(size / t.minBytesPerChannel);
  return Math.max(1, Math.min(t.maxChannels, byRoundTrip, bySize));
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
  /**
   * Opens one more SFTP channel over the same SSH connection (`client.sftp`).
   * Without it, or when the server refuses one, the download uses the
   * channels it has. The download closes every channel it opened.
   */
  readonly openChannel?: () => Promise<SFTPWrapper>;
  readonly remotePath: string;
  readonly name: string;
  readonly localDir: string;
  /** Size from the listing's stat. */
  readonly expectedSize: number;
  /**
   * A round trip measured on this session before the download (the listing's).
   * With it the extra channels open beside the first OPEN; without it the
   * download measures the OPEN and the FSTAT first.
   */
  readonly roundTripMs?: number;
  readonly signal: AbortSignal;
}

export interface DownloadResult {
  readonly bytes: number;
  readonly sha256: string;
  readonly path: string;
  readonly previous?: { readonly status: "identical" | "replaced"; readonly sha256: string };
  /** SFTP channels that carried data. */
  readonly channels: number;
}

function remoteError(err: unknown, what: string): PhaseError {
  const code = (err as { code?: number }).code;
  if (code === 2) return new PhaseError("file-missing", `${what}: no such file`);
  if (code === 3) return new PhaseError("permission-denied", `${what}: permission denied`);
  const msg = (err as Error)?.message ?? String(err);
  // ssh2's words for a request cut off by the end of the connection, and the socket's own errors.
  if (/No response from server|not connected|closed|ECONNRESET|EPIPE|ETIMEDOUT/i.test(msg))
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
  if (req.maxFileBytes !== undefined && req.expectedSize > req.maxFileBytes) {
    throw new PhaseError(
      "file-too-large",
      `${printable(req.name)} is ${req.expectedSize} bytes, more than the ${req.maxFileBytes} bytes monitoring.maxFileBytes allows; not downloaded`,
    );
  }
  const target = await createTemporaryFile(req.name, req.localDir);
  const { label } = target;
  const aborted = abortRace(req.signal);
  const asPhaseError = (err: unknown) => (err instanceof PhaseError ? err : remoteError(err, label));
  const channels = new OpenChannels(req.sftp);
  let copy: RemoteCopy | undefined;
  const tuning = resolveTuning(req);
  // With the session's round trip already known (the listing measured it), the extra
  // channels start opening now, beside the first OPEN: they take four round trips to
  // open (channel, subsystem, SFTP version, limits) and one more for their own OPEN.
  const early =
    req.roundTripMs !== undefined && req.openChannel && tuning.earlyChannels ? channelsFor(req.roundTripMs, req.expectedSize, tuning) : 1;
  const start = deferred<{ copy: RemoteCopy; reference: Stats }>();
  if (early > 1) joinChannels({ req, count: early - 1, start: start.promise, channels }).catch(() => undefined);
  try {
    const opened = performance.now();
    const handle = await aborted.race(fromCallback<Buffer>((cb) => req.sftp.open(req.remotePath, "r", cb))).catch((err) => {
      throw asPhaseError(err);
    });
    const roundTripMs = performance.now() - opened;
    channels.adoptHandle(req.sftp, handle);
    // FSTAT and the first READs leave in the same round trip: the READs are
    // sized from the listing, and FSTAT, answered first, must agree with it
    // before any byte counts. A file that changed since the listing fails here.
    const statSent = performance.now();
    const stat = fromCallback<Stats>((cb) => req.sftp.fstat(handle, cb));
    stat.catch(() => undefined);
    const size = req.expectedSize;
    const hash = createHash("sha256");
    const chunkSize = readSize(req.sftp, tuning.chunkSize);
    copy = new RemoteCopy({ size, label, tmpPath: target.tmpPath, tuning, chunkSize }, target.fh, hash);
    copy.addChannel(req.sftp, handle);
    const stats = await aborted.race(stat).catch((err) => {
      throw asPhaseError(err);
    });
    if (stats.size !== size) {
      throw new PhaseError("size-mismatch", `${label}: size changed from ${size} (listing) to ${stats.size} bytes (open)`);
    }
    start.resolve({ copy, reference: stats });
    if (early === 1 && req.openChannel) {
      // No round trip known beforehand: two samples of it, so one scheduling hiccup does not make a long line.
      const wanted = channelsFor(Math.min(roundTripMs, performance.now() - statSent), size, tuning);
      if (wanted > 1) joinChannels({ req, count: wanted - 1, start: start.promise, channels }).catch(() => undefined);
    }
    await aborted.race(copy.done);
    const carried = copy.channelsUsed;
    copy = undefined;
    const sha256 = hash.digest("hex");
    await syncAndClose(target);
    channels.closeAll();
    return { ...(await putInPlace(target, sha256, size)), channels: carried };
  } finally {
    start.reject(new Error("download over"));
    // Stop issuing READs and wait for the local writes already started, so the
    // temporary file is closed and gone before we return.
    if (copy) await copy.cancel();
    channels.closeAll();
    aborted.release();
    if (!target.renamed) {
      await target.fh.close().catch(() => undefined);
      await unlink(target.tmpPath).catch(() => undefined);
    }
  }
}

/** A promise with its settle functions; settling it again does nothing. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(reason: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

interface TemporaryFile {
  readonly label: string;
  readonly localDir: string;
  readonly finalPath: string;
  readonly tmpPath: string;
  readonly fh: FileHandle;
  /** Set once the file sits under its final name (or was found identical there and removed). */
  renamed: boolean;
}

/** Checks the name, creates the folder and opens a fresh temporary file beside the final name. */
async function createTemporaryFile(name: string, dir: string): Promise<TemporaryFile> {
  const reason = unsafeNameReason(name);
  if (reason) throw new PhaseError("unsafe-name", `refused remote name "${printable(name)}": ${reason}`);
  const localDir = resolve(dir);
  const finalPath = join(localDir, name);
  if (!finalPath.startsWith(localDir + sep)) throw new PhaseError("unsafe-name", `refused remote name "${printable(name)}"`);
  await ensureDownloadDir(localDir);
  const tmpPath = join(localDir, `.${name}.${process.pid}.${randomBytes(4).toString("hex")}.partial`);
  try {
    const fh = await localFiles.open(tmpPath, "wx", 0o600);
    return { label: printable(name), localDir, finalPath, tmpPath, fh, renamed: false };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOSPC") throw new PhaseError("disk-full", `disk full creating a file in ${localDir}`);
    throw new PhaseError("local-folder", `download folder ${localDir} is not writable: ${code}`);
  }
}

async function syncAndClose(target: TemporaryFile): Promise<void> {
  try {
    await target.fh.sync();
    await target.fh.close();
  } catch (err) {
    throw localError(err, target.tmpPath);
  }
}

/** Renames the verified temporary file into place, unless an identical file is already there. */
async function putInPlace(target: TemporaryFile, sha256: string, size: number): Promise<Omit<DownloadResult, "channels">> {
  const { finalPath, tmpPath, localDir } = target;
  const previousSha = await sha256OfFile(finalPath).catch(() => undefined);
  if (previousSha === sha256) {
    await unlink(tmpPath);
    target.renamed = true;
    return { bytes: size, sha256, path: finalPath, previous: { status: "identical", sha256: previousSha } };
  }
  try {
    await rename(tmpPath, finalPath);
    target.renamed = true;
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
}

/** Races promises against the request's abort signal; `release` drops the listener. */
function abortRace(signal: AbortSignal): { race<T>(p: Promise<T>): Promise<T>; release(): void } {
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, rej) => {
    onAbort = () => rej(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  return {
    race: <T>(p: Promise<T>) => Promise.race([p, aborted]),
    release: () => signal.removeEventListener("abort", onAbort),
  };
}

/**
 * The channels and remote handles a download holds, so every exit closes
 * them: handles on every channel, and the channels it opened itself. A
 * channel or handle that arrives after the download ended is closed at once.
 */
class OpenChannels {
  private readonly handles = new Map<SFTPWrapper, Buffer>();
  private readonly extra = new Set<SFTPWrapper>();
  private closed = false;

  constructor(private readonly primary: SFTPWrapper) {}

  /** False (and the channel ended) when the download is already over. */
  adoptChannel(sftp: SFTPWrapper): boolean {
    this.extra.add(sftp);
    if (this.closed) this.closeAll();
    return !this.closed;
  }

  /** False (and the handle closed) when the download is already over. */
  adoptHandle(sftp: SFTPWrapper, handle: Buffer): boolean {
    this.handles.set(sftp, handle);
    if (this.closed) this.closeAll();
    return !this.closed;
  }

  /** Ends one extra channel that will not be used. */
  release(sftp: SFTPWrapper): void {
    const handle = this.handles.get(sftp);
    if (handle) sftp.close(handle, () => undefined);
    this.handles.delete(sftp);
    if (this.extra.delete(sftp)) sftp.end();
  }

  closeAll(): void {
    this.closed = true;
    for (const [sftp, handle] of this.handles) sftp.close(handle, () => undefined);
    this.handles.clear();
    for (const sftp of this.extra) if (sftp !== this.primary) sftp.end();
    this.extra.clear();
  }
}

/**
 * Opens `count` more channels, each with its own handle on the file, and
 * hands them to the copy as they become ready, once the first handle's FSTAT
 * has vouched for the file (`start`) and while the copy still has chunks to
 * give them. A channel the server refuses, or one that cannot open the file,
 * is simply not used: the copy goes on with what it has. Every extra handle
 * must describe the same file as the first (FSTAT: size, modification time,
 * owner, mode); the check is pipelined with its first READs and fails the
 * download if it does not hold.
 */
async function joinChannels(args: {
  req: DownloadRequest;
  count: number;
  start: Promise<{ copy: RemoteCopy; reference: Stats }>;
  channels: OpenChannels;
}): Promise<void> {
  const { req, count, start, channels } = args;
  const joinOne = async () => {
    const sftp = await req.openChannel!().catch(() => undefined);
    if (!sftp || !channels.adoptChannel(sftp)) return;
    const handle = await fromCallback<Buffer>((cb) => sftp.open(req.remotePath, "r", cb)).catch(() => undefined);
    if (!handle) return channels.release(sftp);
    if (!channels.adoptHandle(sftp, handle)) return;
    const started = await start.catch(() => undefined);
    if (!started?.copy.wantsChannels) return channels.release(sftp);
    started.copy.addChannel(sftp, handle, (stats) => sameFile(stats, started.reference, req.name));
  };
  await Promise.all(Array.from({ length: count }, joinOne));
}

/** Why a second handle's FSTAT does not describe the file the first handle reads, or undefined when it does. */
function sameFile(stats: Stats, reference: Stats, name: string): PhaseError | undefined {
  const fields = ["size", "mtime", "uid", "gid", "mode"] as const;
  const differs = fields.filter((f) => stats[f] !== reference[f]);
  if (differs.length === 0) return undefined;
  return new PhaseError(
    "size-mismatch",
    `${printable(name)}: the file changed during the download (${differs.map((f) => `${f} ${reference[f]} → ${stats[f]}`).join(", ")})`,
  );
}

/**
 * The one part of ssh2 1.17's SFTPWrapper the download reads beyond the public
 * API. It is checked before use; a different ssh2 simply gets the configured
 * chunk size.
 */
interface Ssh2SftpInternals {
  readonly _maxReadLen?: unknown;
}

/** The configured READ size, capped by the largest READ the server answers in one go, as ssh2 learnt it (limits@openssh.com, or its own default). */
function readSize(sftp: SFTPWrapper, wanted: number): number {
  const limit = (sftp as unknown as Ssh2SftpInternals)._maxReadLen;
  return typeof limit === "number" && Number.isInteger(limit) && limit > 0 ? Math.min(wanted, limit) : wanted;
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

/**
 * Hashes and writes chunks strictly in file order, whatever order they are
 * handed over in, so the data is never read back from disk. It keeps the
 * chunk buffers for reuse, and starts an early `fdatasync` every
 * `syncEveryBytes` so the final fsync has little left.
 */
class OrderedWriter {
  /** Every byte before this offset is hashed and written. */
  nextWrite = 0;
  private readonly ready = new Map<number, Buffer>();
  private readonly spare: Buffer[] = [];
  private writing = false;
  private written: Promise<void> = Promise.resolve();
  private syncing: Promise<void> | undefined;
  private syncedTo = 0;
  private stopped = false;

  constructor(
    private readonly fh: FileHandle,
    private readonly hash: Hash,
    private readonly chunkSize: number,
    private readonly syncEvery: number,
    private readonly tmpPath: string,
    private readonly events: { progress(): void; failed(err: PhaseError): void },
  ) {}

  /** Chunks received and not yet written. */
  get waiting(): number {
    return this.ready.size;
  }

  get idle(): boolean {
    return !this.writing && this.ready.size === 0;
  }

  buffer(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(this.chunkSize);
  }

  put(pos: number, chunk: Buffer): void {
    this.ready.set(pos, chunk);
    if (!this.writing) {
      this.writing = true;
      this.written = this.drain();
    }
  }

  /** The background flush, if one is running. */
  flushed(): Promise<void> {
    return this.syncing ?? Promise.resolve();
  }

  /** Stops writing and resolves once no local write or flush is pending. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.written;
    await this.syncing?.catch(() => undefined);
  }

  private async drain(): Promise<void> {
    try {
      for (let buf = this.ready.get(this.nextWrite); !this.stopped && buf !== undefined; buf = this.ready.get(this.nextWrite)) {
        this.hash.update(buf);
        for (let off = 0; off < buf.length; ) {
          const { bytesWritten } = await this.fh.write(buf, off, buf.length - off, this.nextWrite + off);
          off += bytesWritten;
        }
        this.ready.delete(this.nextWrite);
        this.nextWrite += buf.length;
        if (buf.length === this.chunkSize) this.spare.push(buf);
        this.flushEarly();
        this.events.progress();
      }
    } catch (err) {
      this.events.failed(localError(err, this.tmpPath));
    } finally {
      this.writing = false;
    }
    this.events.progress();
  }

  private flushEarly(): void {
    if (this.syncEvery === 0 || this.syncing || this.nextWrite - this.syncedTo < this.syncEvery) return;
    const upTo = this.nextWrite;
    this.syncing = this.fh.datasync().then(() => {
      this.syncedTo = upTo;
      this.syncing = undefined;
    });
    this.syncing.catch((err: unknown) => this.events.failed(localError(err, this.tmpPath)));
  }
}

/** One SFTP channel with its own handle on the file. */
interface CopyChannel {
  readonly sftp: SFTPWrapper;
  readonly handle: Buffer;
  inflight: number;
  dataReads: number;
  /** The READ at the file's size that must find its end, sent after this channel's last data READ. */
  tail: "unsent" | "sent" | "done";
}

interface CopyPlan {
  readonly size: number;
  readonly label: string;
  readonly tmpPath: string;
  readonly tuning: ResolvedTuning;
  /** The READ size, already capped by the server's limit. */
  readonly chunkSize: number;
}

/**
 * READs of `chunkSize` in flight per channel when `channels` share the work:
 * two windows' worth each, less once `maxBytesInFlight` is reached, never less
 * than half a window's worth (see DOWNLOAD_TUNING.channelWindowBytes).
 */
export function readsPerChannel(chunkSize: number, channels: number): number {
  const window = Math.max(1, Math.floor(DOWNLOAD_TUNING.channelWindowBytes / chunkSize));
  const shared = Math.floor(DOWNLOAD_TUNING.maxBytesInFlight / chunkSize / Math.max(1, channels));
  return Math.max(Math.ceil(window / 2), Math.min(2 * window, shared));
}

/**
 * Keeps READs in flight on every channel (`readsPerChannel`) and hands each
 * answered chunk to the ordered writer. Work is pulled, not dealt: the next
 * chunk in file order goes to the channel with the fewest READs outstanding,
 * so a slow channel gets less and the writer waits on it as little as
 * possible; chunks waiting for the disk count against the same budget, so
 * memory stays bounded by `maxBytesInFlight` (or half a window per channel,
 * if more) whatever the file size. Once every data READ is sent, each channel that read data sends
 * one more READ at the file's size that must find the end of the file: a
 * server answers one channel's requests in order, so the last of those proves
 * the file did not grow while any chunk was read.
 */
class RemoteCopy {
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;
  private readonly channels: CopyChannel[] = [];
  private readonly writer: OrderedWriter;
  private readonly collect: YoungCollector | undefined;
  private nextRequest = 0;
  private inflight = 0;
  private received = 0;
  private collectedAt = 0;
  private stopped = false;

  constructor(
    private readonly plan: CopyPlan,
    fh: FileHandle,
    hash: Hash,
  ) {
    this.done = new Promise<void>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    this.done.catch(() => undefined);
    const { tuning, size, chunkSize, tmpPath } = plan;
    this.writer = new OrderedWriter(fh, hash, chunkSize, tuning.syncEveryBytes, tmpPath, {
      progress: () => {
        this.pump();
        this.finishIfDone();
      },
      failed: (err) => this.fail(err),
    });
    this.collect = tuning.collectEveryBytes > 0 && size > tuning.collectEveryBytes ? collectYoungGeneration() : undefined;
  }

  /** Whether one more channel would still find chunks to read. */
  get wantsChannels(): boolean {
    return !this.stopped && this.plan.size - this.nextRequest >= 2 * this.plan.chunkSize;
  }

  /** Channels that read at least one chunk. */
  get channelsUsed(): number {
    return Math.max(1, this.channels.filter((c) => c.dataReads > 0).length);
  }

  /**
   * Adds a channel and starts reading on it. `check`, when given, judges the
   * handle's FSTAT, which is sent first: the server answers it before any of
   * the READs that follow on this channel.
   */
  addChannel(sftp: SFTPWrapper, handle: Buffer, check?: (stats: Stats) => PhaseError | undefined): void {
    if (this.stopped) return;
    if (check) {
      sftp.fstat(handle, (err, stats) => {
        if (this.stopped) return;
        const problem = err ? remoteError(err, this.plan.label) : check(stats);
        if (problem) this.fail(problem);
      });
    }
    this.channels.push({ sftp, handle, inflight: 0, dataReads: 0, tail: "unsent" });
    this.pump();
  }

  fail(err: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.rejectDone(err);
    void this.writer.stop();
  }

  /** Stops the copy and resolves once no local write is pending. */
  async cancel(): Promise<void> {
    this.fail(new PhaseError("cancelled", "download cancelled"));
    await this.writer.stop();
  }

  /** The channel with room for another READ and the fewest outstanding, if the memory budget allows one more chunk. */
  private channelWithRoom(): CopyChannel | undefined {
    const { tuning, chunkSize } = this.plan;
    const concurrency = tuning.concurrency ?? readsPerChannel(chunkSize, this.channels.length);
    if (this.inflight + this.writer.waiting >= this.channels.length * concurrency) return undefined;
    let best: CopyChannel | undefined;
    for (const c of this.channels) if (c.inflight < concurrency && (!best || c.inflight < best.inflight)) best = c;
    return best;
  }

  private pump(): void {
    if (this.stopped) return;
    const { size, chunkSize } = this.plan;
    for (let c = this.channelWithRoom(); c && this.nextRequest < size; c = this.channelWithRoom()) {
      const pos = this.nextRequest;
      const len = Math.min(chunkSize, size - pos);
      this.nextRequest += len;
      c.inflight++;
      c.dataReads++;
      this.inflight++;
      this.readChunk(c, pos, len, this.writer.buffer(), 0);
    }
    if (this.nextRequest < size) return;
    for (const [i, c] of this.channels.entries()) {
      if (c.tail === "unsent" && (c.dataReads > 0 || i === 0)) this.readTail(c);
    }
  }

  private readChunk(c: CopyChannel, pos: number, len: number, buf: Buffer, filled: number): void {
    const { label, size } = this.plan;
    c.sftp.read(c.handle, buf, filled, len - filled, pos + filled, (err, n) => {
      if (this.stopped) return;
      if (err) return this.fail(remoteError(err, label));
      if (n === 0) {
        const at = pos + filled;
        return this.fail(
          new PhaseError(
            "size-mismatch",
            `${label}: the file ended at ${at} bytes, but its size was ${size} (it shrank or the transfer was cut)`,
          ),
        );
      }
      this.countReceived(n);
      // A short answer that is not the end: ask for the rest of this chunk on the same channel.
      if (filled + n < len) return this.readChunk(c, pos, len, buf, filled + n);
      c.inflight--;
      this.inflight--;
      this.writer.put(pos, buf.length === len ? buf : buf.subarray(0, len));
    });
  }

  private countReceived(n: number): void {
    this.received += n;
    if (this.collect && this.received - this.collectedAt >= this.plan.tuning.collectEveryBytes) {
      this.collectedAt = this.received;
      this.collect();
    }
  }

  private readTail(c: CopyChannel): void {
    c.tail = "sent";
    const { label, size } = this.plan;
    c.sftp.read(c.handle, Buffer.allocUnsafe(1), 0, 1, size, (err, n) => {
      if (this.stopped) return;
      if (err) return this.fail(remoteError(err, label));
      if (n > 0) return this.fail(new PhaseError("size-mismatch", `${label}: the file grew during the download (stat said ${size} bytes)`));
      c.tail = "done";
      this.finishIfDone();
    });
  }

  private finishIfDone(): void {
    if (this.stopped || this.writer.nextWrite < this.plan.size || !this.writer.idle) return;
    if (this.channels.some((c, i) => c.tail === "sent" || (c.tail === "unsent" && (c.dataReads > 0 || i === 0)))) return;
    this.writer.flushed().then(
      () => {
        if (this.stopped) return;
        this.stopped = true;
        this.resolveDone();
      },
      (err: unknown) => this.fail(localError(err, this.plan.tmpPath)),
    );
  }
}
