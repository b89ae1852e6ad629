/**
 * list: lists the remote folder and chooses the files to download, by name or
 * glob. Only plain names are used, and a symlink only when it stays inside the
 * folder. Needs the SFTP channel (and the session, whose drop fails the
 * listing at once); yields the chosen files.
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

export const list: ProbePhase<"list", "ssh" | "sftp", "files", typeof causes> = {
  name: "list",
  timeout: "operationMs",
  needs: ["ssh", "sftp"],
  yields: ["files"],
  causes,
  inTrustRun: false,
  afterLogin: true,
  timeoutError: (ms) => timedOut("list", ms),
  connectionSurvives: unlessConnectionEnded,
  async run({ ssh, sftp }, ctx) {
    const files = await ssh.wait<RemoteFile[]>((ok, fail) => void listRemote(sftp, ctx).then(ok, fail));
    return { files };
  },
};

interface Entry {
  readonly filename: string;
  readonly attrs: { size: number; isFile(): boolean; isSymbolicLink(): boolean };
}

async function listRemote(sftp: SFTPWrapper, ctx: PhaseContext): Promise<RemoteFile[]> {
  const dir = await resolveFolder(sftp, ctx);
  const entries = await readFolder(sftp, dir, ctx);
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
  return chosen;
}

async function resolveFolder(sftp: SFTPWrapper, ctx: PhaseContext): Promise<string> {
  const { remoteDir } = ctx.opts;
  try {
    return await fromCallback<string>((cb) => sftp.realpath(remoteDir, cb));
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code === 2) throw new PhaseError("folder-missing", `remote folder "${printable(remoteDir)}" does not exist`);
    if (code === 3) throw new PhaseError("permission-denied", `remote folder "${printable(remoteDir)}": permission denied`);
    throw ctx.sshError(err);
  }
}

async function readFolder(sftp: SFTPWrapper, dir: string, ctx: PhaseContext): Promise<Entry[]> {
  const { remoteDir } = ctx.opts;
  try {
    return await fromCallback<Entry[]>((cb) => sftp.readdir(dir, cb as never));
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code === 3) throw new PhaseError("permission-denied", `remote folder "${printable(dir)}": permission denied`);
    // Only on failure is the path stat'ed (one round trip less when all is well), to say why. OpenSSH's
    // sftp-server answers opendir on a file with SSH_FX_NO_SUCH_FILE (ENOTDIR maps to it), so a file
    // would otherwise be reported as missing.
    const st = await fromCallback<{ isDirectory(): boolean }>((cb) => sftp.stat(dir, cb)).catch(() => undefined);
    if (st && !st.isDirectory()) {
      throw new PhaseError("folder-missing", `remote path "${printable(remoteDir)}" is a file, not a folder`);
    }
    if (code === 2) throw new PhaseError("folder-missing", `remote folder "${printable(remoteDir)}" does not exist`);
    throw ctx.sshError(err);
  }
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
