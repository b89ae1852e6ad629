/**
 * list: lists the remote folder and chooses the files to download, by name or
 * glob. Only plain names are used, and a symlink only when it stays inside the
 * folder. Needs the SFTP channel (and the session, whose drop fails the
 * listing at once); yields the chosen files and the session's round trip.
 */
import { posix } from "node:path";
import picomatch from "picomatch";
import type { SFTPWrapper } from "ssh2";
import { PhaseError, unsafeNameReason } from "../../download";
import { fromCallback } from "../../../core/callback";
import { printable } from "../../../core/text";
import { timedOut, unlessConnectionEnded } from "../errors";
import type { PhaseContext, ProbePhase, RemoteFile } from "../phase";

const causes = [
  "folder-missing",
  "permission-denied",
  "file-missing",
  "symlink-escape",
  "unsafe-name",
  "timeout",
  "connection-lost",
] as const;

/** Names kept in the report's listing. */
const MAX_LISTING = 200;

export const list: ProbePhase<"list", "ssh" | "sftp", "files" | "roundTripMs", typeof causes> = {
  name: "list",
  timeout: "operationMs",
  needs: ["ssh", "sftp"],
  yields: ["files", "roundTripMs"],
  causes,
  inTrustRun: false,
  afterLogin: true,
  timeoutError: (ms) => timedOut("list", ms),
  connectionSurvives: unlessConnectionEnded,
  async run({ ssh, sftp }, ctx) {
    return ssh.wait<Listed>((ok, fail) => void listRemote(sftp, ctx).then(ok, fail));
  },
};

interface Entry {
  readonly filename: string;
  readonly attrs: { size: number; isFile(): boolean; isSymbolicLink(): boolean };
}

async function listRemote(sftp: SFTPWrapper, ctx: PhaseContext): Promise<Listed> {
  const { dir, entries, roundTripMs } = await readFolder(sftp, ctx);
  ctx.evidence.listing = entries
    .map((e) => printable(e.filename))
    .sort()
    .slice(0, MAX_LISTING);
  const chosen: RemoteFile[] = [];
  for (const pattern of ctx.opts.files) {
    for (const file of await choose(sftp, dir, entries, pattern)) {
      if (!chosen.some((c) => c.name === file.name)) chosen.push(file);
    }
  }
  return { files: chosen, roundTripMs };
}

interface Listed {
  readonly files: RemoteFile[];
  readonly roundTripMs: number;
}

/**
 * Resolves and reads the remote folder in as few round trips as the protocol
 * allows. REALPATH and OPENDIR leave together (the server answers one
 * channel's requests in order), then READDIRs go two at a time on the handle
 * until one finds the end, and the CLOSE is sent without waiting for its
 * answer: two round trips for a folder of up to two READDIR batches (OpenSSH's
 * sftp-server sends at most 100 names per batch), where resolving, opening,
 * reading to the end and closing one after another take five. The quicker of
 * the two first round trips is the session's round trip, from which the
 * download sizes its channels.
 */
async function readFolder(sftp: SFTPWrapper, ctx: PhaseContext): Promise<{ dir: string; entries: Entry[]; roundTripMs: number }> {
  const sent = performance.now();
  const resolving = fromCallback<string>((cb) => sftp.realpath(ctx.opts.remoteDir, cb));
  const opening = fromCallback<Buffer>((cb) => sftp.opendir(ctx.opts.remoteDir, cb));
  opening.catch(() => undefined);
  const dir = await resolving.catch((err: unknown) => {
    opening.then(
      (handle) => sftp.close(handle, () => undefined),
      () => undefined,
    );
    throw folderError(err, ctx);
  });
  const firstRoundTrip = performance.now() - sent;
  const handle = await opening.catch((err: unknown) => openFailure(err, sftp, dir, ctx));
  try {
    const batchSent = performance.now();
    const entries: Entry[] = [];
    let secondRoundTrip = Number.POSITIVE_INFINITY;
    for (let end = false; !end; ) {
      const batches = [readBatch(sftp, handle), readBatch(sftp, handle)];
      for (const batch of await Promise.all(batches)) {
        if (batch === "end") end = true;
        else entries.push(...batch);
      }
      secondRoundTrip = Math.min(secondRoundTrip, performance.now() - batchSent);
    }
    return { dir, entries, roundTripMs: Math.min(firstRoundTrip, secondRoundTrip) };
  } catch (err) {
    throw folderError(err, ctx, dir);
  } finally {
    sftp.close(handle, () => undefined);
  }
}

/** One READDIR on an open folder: its names, or "end" once the server has none left. */
function readBatch(sftp: SFTPWrapper, handle: Buffer): Promise<Entry[] | "end"> {
  return new Promise((resolve, reject) =>
    sftp.readdir(handle, (err, list) => {
      if (!err) return resolve(list as Entry[]);
      if ((err as { code?: number }).code === 1) return resolve("end");
      reject(err);
    }),
  );
}

function folderError(err: unknown, ctx: PhaseContext, dir = ctx.opts.remoteDir): PhaseError {
  const code = (err as { code?: number }).code;
  if (code === 2) return new PhaseError("folder-missing", `remote folder "${printable(dir)}" does not exist`);
  if (code === 3) return new PhaseError("permission-denied", `remote folder "${printable(dir)}": permission denied`);
  return ctx.sshError(err);
}

/** Why a folder that resolved cannot be opened; says so when it is a file. */
async function openFailure(err: unknown, sftp: SFTPWrapper, dir: string, ctx: PhaseContext): Promise<never> {
  const code = (err as { code?: number }).code;
  if (code === 3) throw new PhaseError("permission-denied", `remote folder "${printable(dir)}": permission denied`);
  // Only on failure is the path stat'ed, to say why. OpenSSH's sftp-server answers opendir on a
  // file with SSH_FX_NO_SUCH_FILE (ENOTDIR maps to it), so a file would otherwise be reported as missing.
  const st = await fromCallback<{ isDirectory(): boolean }>((cb) => sftp.stat(dir, cb)).catch(() => undefined);
  if (st && !st.isDirectory()) {
    throw new PhaseError("folder-missing", `remote path "${printable(ctx.opts.remoteDir)}" is a file, not a folder`);
  }
  if (code === 2) throw new PhaseError("folder-missing", `remote folder "${printable(ctx.opts.remoteDir)}" does not exist`);
  throw ctx.sshError(err);
}

/** The usable files matching one pattern, in name order; fails when there is none, saying why. */
async function choose(sftp: SFTPWrapper, dir: string, entries: readonly Entry[], pattern: string): Promise<RemoteFile[]> {
  const isMatch = picomatch(pattern, { dot: false, nocase: false });
  const hits = entries.filter((e) => isMatch(e.filename)).sort((a, b) => a.filename.localeCompare(b.filename));
  const usable: RemoteFile[] = [];
  const problems: string[] = [];
  for (const e of hits) {
    const judged = await judge(sftp, dir, e);
    if (typeof judged === "string") problems.push(judged);
    else if (judged) usable.push(judged);
  }
  if (usable.length > 0) return usable;
  const escaped = problems.find((p) => p.includes("symlink"));
  if (hits.length > 0 && escaped) throw new PhaseError("symlink-escape", escaped);
  if (hits.length > 0 && problems.length > 0) throw new PhaseError("unsafe-name", problems.join("; "));
  throw new PhaseError("file-missing", `"${printable(pattern)}" not found in remote folder ${printable(dir)}`);
}

/** One matching entry: a file to download, a problem to report, or undefined (not a file). */
async function judge(sftp: SFTPWrapper, dir: string, e: Entry): Promise<RemoteFile | string | undefined> {
  const unsafe = unsafeNameReason(e.filename);
  if (unsafe) return `skipped remote name "${printable(e.filename)}": ${unsafe}`;
  const path = posix.join(dir, e.filename);
  if (!e.attrs.isSymbolicLink()) return e.attrs.isFile() ? { name: e.filename, path, size: e.attrs.size } : undefined;
  const followed = await followLink(sftp, dir, path);
  if (typeof followed === "string")
    return `"${printable(e.filename)}" is a symlink leading out of the remote folder${followed}; not followed`;
  return followed && { name: e.filename, path, size: followed.size };
}

/**
 * A symlink is followed only when it stays inside the folder: its target,
 * read relative to the folder (an absolute one as it is), lies inside it, and
 * the server resolves it inside it too (a link through another link is judged
 * by where it ends). An absolute link into the folder is as good as a relative
 * one, except below "/", where every absolute path is inside. Returns the target's size, undefined when it is not a file, or (as a
 * string) where an escaping link leads.
 */
async function followLink(sftp: SFTPWrapper, dir: string, path: string): Promise<{ size: number } | string | undefined> {
  const link = await fromCallback<string>((cb) => sftp.readlink(path, cb)).catch(() => undefined);
  const resolved = await fromCallback<string>((cb) => sftp.realpath(path, cb)).catch(() => undefined);
  const inside = (p: string | undefined) => p !== undefined && posix.resolve(dir, p).startsWith(dir.endsWith("/") ? dir : `${dir}/`);
  // Below "/" (a chroot's root) every absolute path is "inside": there an absolute link proves nothing and is refused.
  const judgeable = link !== undefined && (!link.startsWith("/") || dir !== "/");
  if (!judgeable || !inside(link) || !inside(resolved)) {
    const target = link ?? resolved;
    return target ? ` (to ${printable(target)})` : "";
  }
  const st = await fromCallback<{ size: number; isFile(): boolean }>((cb) => sftp.stat(path, cb as never)).catch(() => undefined);
  return st?.isFile() ? { size: st.size } : undefined;
}
