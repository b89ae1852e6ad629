/**
 * The simulated remote file system: the served folder with its files, the
 * folders above it, and nothing else. It is entirely virtual, so no request
 * can reach the host's own files; paths are normalised lexically and ".."
 * stops at "/", as in a chroot.
 */
import { posix } from "node:path";
import type { Attributes } from "ssh2";
import type { Fault } from "./faults";
import { FAKE_PASSWD, SAMPLE_MTIME, bufferFile, type ServedFile } from "./files";

/** Where a session starts, as in a chrooted sftp-server. */
const HOME = "/";

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

const UID = 1000;
const GID = 1000;

export type Node =
  | { readonly kind: "dir"; readonly path: string; readonly children: readonly string[] }
  | { readonly kind: "file"; readonly path: string; readonly file: ServedFile }
  | { readonly kind: "symlink"; readonly path: string; readonly target: string };

export interface TreeOptions {
  /** The served folder, absolute or relative to HOME. */
  readonly remoteDir: string;
  readonly files: ReadonlyMap<string, ServedFile>;
  readonly fault: Fault | "none";
}

const ESCAPE_LINK = { name: "TP003", target: "/etc/passwd" } as const;
const MISSING_FILE = "TP002";

/** Resolves a client path against HOME; ".." never climbs above "/". */
export function resolvePath(path: string, cwd = HOME): string {
  return posix.resolve(cwd, path);
}

function isAncestor(dir: string, of: string): boolean {
  return dir === "/" ? of !== "/" : of.startsWith(`${dir}/`);
}

export class RemoteTree {
  readonly servedDir: string;
  private readonly files: ReadonlyMap<string, ServedFile>;
  private readonly fault: Fault | "none";
  /** Files that grew during this session (grow-during-download). */
  private readonly replaced = new Map<string, ServedFile>();
  private readonly escapeTarget: ServedFile;

  constructor(opts: TreeOptions) {
    this.servedDir = resolvePath(opts.remoteDir);
    this.fault = opts.fault;
    this.files = opts.files;
    this.escapeTarget = bufferFile("passwd", FAKE_PASSWD);
  }

  /** Swaps in a new version of a served file for the rest of the session. */
  replace(file: ServedFile): void {
    if (this.files.has(file.name)) this.replaced.set(file.name, file);
  }

  private fileNames(): string[] {
    const names = [...this.files.keys()].filter((n) => !(this.fault === "file-missing" && n === MISSING_FILE));
    if (this.fault === "symlink-escape" && !names.includes(ESCAPE_LINK.name)) names.push(ESCAPE_LINK.name);
    return names.sort();
  }

  private servedDirExists(): boolean {
    return this.fault !== "folder-missing";
  }

  /** The node at `path` itself (a symlink is not followed). */
  lstat(path: string): Node | undefined {
    if (path.includes("\0")) return undefined;
    const abs = resolvePath(path);
    const served = this.servedDir;
    if (abs === served) return this.servedDirExists() ? { kind: "dir", path: abs, children: this.fileNames() } : undefined;
    if (isAncestor(abs, served)) {
      // A folder above the served one holds the next folder on the way down, and nothing else.
      const next = posix.relative(abs, served).split("/")[0]!;
      const hidesServed = !this.servedDirExists() && posix.join(abs, next) === served;
      return { kind: "dir", path: abs, children: hidesServed ? [] : [next] };
    }
    if (!this.servedDirExists() || posix.dirname(abs) !== served) return undefined;
    const name = posix.basename(abs);
    if (this.fault === "symlink-escape" && name === ESCAPE_LINK.name) return { kind: "symlink", path: abs, target: ESCAPE_LINK.target };
    if (this.fault === "file-missing" && name === MISSING_FILE) return undefined;
    const file = this.replaced.get(name) ?? this.files.get(name);
    return file ? { kind: "file", path: abs, file } : undefined;
  }

  /** The node at `path`, following the one symlink the tree can hold. */
  stat(path: string): Node | undefined {
    const node = this.lstat(path);
    if (node?.kind !== "symlink") return node;
    // The escape is the point of the fault: the link leads outside the served
    // folder, to a fake passwd file that exists only at the end of this link.
    return { kind: "file", path: node.target, file: this.escapeTarget };
  }

  /** The entries of a folder, "." and ".." first, as sftp-server lists them. */
  list(path: string): { name: string; node: Node }[] | undefined {
    const dir = this.lstat(path);
    if (dir?.kind !== "dir") return undefined;
    const parent = this.lstat(posix.dirname(dir.path)) ?? dir;
    const entries = [
      { name: ".", node: dir as Node },
      { name: "..", node: parent },
    ];
    for (const name of dir.children) {
      const node = this.lstat(posix.join(dir.path, name));
      if (node) entries.push({ name, node });
    }
    return entries;
  }
}

export function attrsOf(node: Node): Attributes {
  const base = { uid: UID, gid: GID };
  switch (node.kind) {
    case "dir":
      return { ...base, mode: S_IFDIR | 0o755, size: 4096, atime: SAMPLE_MTIME, mtime: SAMPLE_MTIME };
    case "file":
      return { ...base, mode: S_IFREG | 0o644, size: node.file.size, atime: node.file.mtime, mtime: node.file.mtime };
    case "symlink":
      return { ...base, mode: S_IFLNK | 0o777, size: Buffer.byteLength(node.target), atime: SAMPLE_MTIME, mtime: SAMPLE_MTIME };
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const HONG_KONG_OFFSET_S = 8 * 3600; // no daylight saving since 1979
const SIX_MONTHS_S = 182 * 24 * 3600;

function modeString(mode: number): string {
  const type = (mode & 0o170000) === S_IFDIR ? "d" : (mode & 0o170000) === S_IFLNK ? "l" : "-";
  const rwx = (bits: number) => `${bits & 4 ? "r" : "-"}${bits & 2 ? "w" : "-"}${bits & 1 ? "x" : "-"}`;
  return `${type}${rwx((mode >> 6) & 7)}${rwx((mode >> 3) & 7)}${rwx(mode & 7)}`;
}

/**
 * The `ls -l` line OpenSSH's sftp-server sends with each READDIR entry:
 * "%s %3u %-8.8s %-8.8s %8llu %s %s", dates in the server's (Hong Kong) time.
 */
export function longname(name: string, attrs: Attributes, owner: string, nowS = Date.now() / 1000): string {
  const local = new Date((attrs.mtime + HONG_KONG_OFFSET_S) * 1000);
  const day = String(local.getUTCDate()).padStart(2, " ");
  const recent = Math.abs(nowS - attrs.mtime) < SIX_MONTHS_S;
  const when = recent
    ? `${MONTHS[local.getUTCMonth()]} ${day} ${String(local.getUTCHours()).padStart(2, "0")}:${String(local.getUTCMinutes()).padStart(2, "0")}`
    : `${MONTHS[local.getUTCMonth()]} ${day}  ${local.getUTCFullYear()}`;
  const links = (attrs.mode & 0o170000) === S_IFDIR ? 2 : 1;
  const who = owner.slice(0, 8).padEnd(8);
  return `${modeString(attrs.mode)} ${String(links).padStart(3)} ${who} ${who} ${String(attrs.size).padStart(8)} ${when} ${name}`;
}
