/**
 * Everything the benchmark runs against, on loopback only: the system tools
 * (installed with apt-get when missing), a real OpenSSH sshd serving
 * incompressible files, a user key, pinned host keys, kit configs and the
 * command lines of the two reference clients (OpenSSH's sftp and rclone).
 */
import { execFile } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { accessSync, constants, existsSync } from "node:fs";
import { open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { utils } from "ssh2";
import { stringify } from "yaml";
import { GNU_TIME } from "./measure";

const execFileAsync = promisify(execFile);

/** Tool → the Debian package that provides it. */
const TOOLS: ReadonlyArray<readonly [string, string]> = [
  ["/usr/sbin/sshd", "openssh-server"],
  ["sftp", "openssh-client"],
  ["ssh-keygen", "openssh-client"],
  [GNU_TIME, "time"],
  ["rclone", "rclone"],
];

function onPath(tool: string): boolean {
  if (tool.startsWith("/")) {
    try {
      accessSync(tool, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  return (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(join(dir, tool)));
}

/** Installs the missing packages (as root, with apt-get) and returns their names. */
export async function ensureTools(log: (line: string) => void): Promise<string[]> {
  const missing = [...new Set(TOOLS.filter(([tool]) => !onPath(tool)).map(([, pkg]) => pkg))];
  if (missing.length === 0) return [];
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !onPath("apt-get")) {
    throw new Error(`missing Debian package(s) ${missing.join(", ")}; install them with: apt-get install -y ${missing.join(" ")}`);
  }
  log(`installing ${missing.join(", ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await execFileAsync("apt-get", ["update", "-qq"], { env, maxBuffer: 16 * 1024 * 1024 });
  await execFileAsync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env, maxBuffer: 16 * 1024 * 1024 });
  const still = TOOLS.filter(([tool]) => !onPath(tool)).map(([tool]) => tool);
  if (still.length > 0) throw new Error(`still missing after apt-get install: ${still.join(", ")}`);
  return missing;
}

export interface UserKeyFiles {
  readonly privatePath: string;
  readonly publicLine: string;
}

export async function writeUserKey(dir: string): Promise<UserKeyFiles> {
  const pair = utils.generateKeyPairSync("ed25519");
  const privatePath = join(dir, "id_ed25519");
  await writeFile(privatePath, pair.private, { mode: 0o600 });
  await writeFile(`${privatePath}.pub`, `${pair.public}\n`);
  return { privatePath, publicLine: pair.public };
}

/**
 * Writes `bytes` of random data (nothing for ssh or a disk to compress) and
 * returns its SHA-256, so every download can be checked against it.
 */
export async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const hash = createHash("sha256");
  const block = Buffer.allocUnsafe(4 * 1024 * 1024);
  const fh = await open(path, "w", 0o644);
  try {
    for (let done = 0; done < bytes; ) {
      const n = Math.min(block.length, bytes - done);
      const part = block.subarray(0, n);
      randomFillSync(part);
      hash.update(part);
      await fh.write(part, 0, n, done);
      done += n;
    }
  } finally {
    await fh.close();
  }
  return hash.digest("hex");
}

export interface KitConfigInput {
  readonly user: string;
  readonly identityFile: string;
  readonly knownHostsFile: string;
  readonly files: readonly string[];
  readonly downloadDir: string;
  /** "host:port" per site; every one of them on loopback. */
  readonly primary: readonly string[];
  readonly secondary: readonly string[];
  readonly connectMs?: number;
  readonly transferMs?: number;
}

/** A kit config; remoteDir "." is the served folder, where the harness's sshd starts every session. */
export async function writeKitConfig(path: string, c: KitConfigInput): Promise<string> {
  for (const hp of [...c.primary, ...c.secondary]) {
    if (!hp.startsWith("127.")) throw new Error(`benchmark endpoints must be on loopback, got ${hp}`);
  }
  const doc = {
    user: c.user,
    identityFile: c.identityFile,
    knownHostsFile: c.knownHostsFile,
    remoteDir: ".",
    files: [...c.files],
    downloadDir: c.downloadDir,
    sites: { primary: { hosts: [...c.primary] }, secondary: { hosts: [...c.secondary] } },
    timeouts: { connectMs: c.connectMs ?? 5000, handshakeMs: 10_000, operationMs: 10_000, transferMs: c.transferMs ?? 600_000 },
  };
  await writeFile(path, stringify(doc));
  return path;
}

/** `sftp -b` as a careful operator would run it: key only, pinned host keys, no prompts. */
export function sftpArgs(opts: { batchFile: string; key: string; knownHosts: string; user: string; host: string; port: number }): string[] {
  return [
    "-q",
    "-b",
    opts.batchFile,
    "-i",
    opts.key,
    "-o",
    `UserKnownHostsFile=${opts.knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-F",
    "/dev/null",
    "-P",
    String(opts.port),
    `${opts.user}@${opts.host}`,
  ];
}

/**
 * `rclone copyto` from an sftp remote given entirely on the command line (no
 * rclone.conf is read: `--config` names an empty file), with the same key and
 * pinned host keys as sftp. rclone runs at its own defaults otherwise (32 KiB
 * requests, 64 in flight per file; files of 250 MiB and more in 4 streams,
 * each its own SSH connection). `--sftp-shell-type none` stops it from running
 * shell commands to look for md5sum and sha1sum, which internal-sftp refuses;
 * rclone then checks the size only. One try, so a failure is not hidden by a retry.
 * https://rclone.org/sftp/ and https://rclone.org/docs/#connection-strings
 */
export function rcloneArgs(opts: {
  emptyConfig: string;
  key: string;
  knownHosts: string;
  user: string;
  host: string;
  port: number;
  remoteFile: string;
  localFile: string;
}): string[] {
  return [
    "copyto",
    `:sftp:${opts.remoteFile}`,
    opts.localFile,
    "--config",
    opts.emptyConfig,
    "--sftp-host",
    opts.host,
    "--sftp-port",
    String(opts.port),
    "--sftp-user",
    opts.user,
    "--sftp-key-file",
    opts.key,
    "--sftp-known-hosts-file",
    opts.knownHosts,
    "--sftp-shell-type",
    "none",
    "--retries",
    "1",
    "--low-level-retries",
    "1",
    "-q",
  ];
}
