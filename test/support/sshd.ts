import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir, userInfo } from "node:os";
import { dirname, isAbsolute, join, normalize, sep } from "node:path";
import { promisify } from "node:util";
import { assertLoopbackHost, bracketIfIpv6 } from "./loopback";

/**
 * Runs the real OpenSSH sshd as an SFTP-only server for integration tests.
 * Everything it needs lives in one temp dir: no system config is touched,
 * apart from creating sshd's privilege separation dir /run/sshd if missing.
 */

/** sshd re-executes itself, so it must be started by absolute path. */
const SSHD_PATH = "/usr/sbin/sshd";
/** Debian's privilege separation dir; sshd refuses to start without it. */
const PRIVSEP_DIR = "/run/sshd";
const READY_TIMEOUT_MS = 10_000;
const PROBE_TIMEOUT_MS = 250;
const PROBE_INTERVAL_MS = 50;
const STOP_GRACE_MS = 3_000;
/** Keeps a runaway log from eating memory; sshd at VERBOSE writes a few lines per connection. */
const MAX_LOG_CHARS = 1_000_000;
/** Attempts when the port picked for sshd is taken by someone else between our probe and sshd's bind. */
const PORT_ATTEMPTS = 3;

const execFileAsync = promisify(execFile);

export interface OpenSshOptions {
  /** Default 127.0.0.1; must be loopback (aliases such as 127.0.151.141 work). */
  bindHost?: string;
  /** 0 or absent: pick a free port. */
  port?: number;
  /** OpenSSH public key lines ("ssh-ed25519 AAAA... comment"). */
  authorizedKeys: string[];
  /** Relative path → content, written below remoteDir. */
  files?: Record<string, Buffer>;
  /** Login name; defaults to the current OS user, the only one a non-root sshd can serve. */
  user?: string;
  /** false: no `Subsystem sftp` line, so sshd refuses the subsystem request (default true). */
  sftpSubsystem?: boolean;
  /** Host key types sshd holds, one `HostKey` line each, in this order (default: ed25519 only). */
  hostKeyTypes?: readonly HostKeyType[];
}

export type HostKeyType = "ed25519" | "ecdsa" | "rsa";

export interface HostKey {
  readonly type: HostKeyType;
  /** OpenSSH line "ssh-rsa AAAA... comment". */
  readonly publicLine: string;
  /** "SHA256:..." as ssh-keygen -l prints it. */
  readonly fingerprint: string;
  /** known_hosts line "[host]:port type base64". */
  readonly knownHostsLine: string;
}

export interface OpenSshServer {
  host: string;
  port: number;
  user: string;
  /** Absolute dir holding the files; SFTP sessions start here. */
  remoteDir: string;
  /** OpenSSH line "ssh-ed25519 AAAA... comment". */
  hostKeyPublic: string;
  /** "SHA256:..." as ssh-keygen -l prints it. */
  hostKeyFingerprint: string;
  /** known_hosts line "[host]:port type base64". */
  knownHostsLine: string;
  /** Every host key sshd holds (the first is the one above). */
  hostKeys: readonly HostKey[];
  /** sshd's stderr so far (LogLevel VERBOSE). */
  logs(): string;
  /** Kills sshd and its per-connection children, then removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** SHA256 fingerprint of an OpenSSH public key line, as `ssh-keygen -l -E sha256` prints it. */
export function fingerprintOfPublicKey(publicKeyLine: string): string {
  const blob = publicKeyLine.trim().split(/\s+/)[1];
  if (!blob) throw new Error(`not an OpenSSH public key line: '${publicKeyLine}'`);
  const digest = createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}

/** A known_hosts line; OpenSSH writes the host bare only for port 22. */
export function knownHostsLineFor(host: string, port: number, publicKeyLine: string): string {
  const [type, blob] = publicKeyLine.trim().split(/\s+/);
  const name = port === 22 ? host : `[${host}]:${port}`;
  return `${name} ${type} ${blob}`;
}

/** sshd_config values are split on whitespace unless quoted; our temp paths should never need it, but quote anyway. */
function quoteConfigValue(value: string): string {
  if (/["\n]/.test(value)) throw new Error(`cannot write ${JSON.stringify(value)} into sshd_config`);
  return `"${value}"`;
}

/** internal-sftp splits its arguments on spaces and takes quotes literally (OpenSSH 9.2), so the path must not need them. */
function bareArgument(value: string): string {
  if (/\s|"/.test(value)) throw new Error(`internal-sftp cannot take ${JSON.stringify(value)} as an argument: no spaces or quotes allowed`);
  return value;
}

function openSshVersion(): [number, number] | undefined {
  const result = spawnSync(SSHD_PATH, ["-V"], { encoding: "utf8" });
  const match = /OpenSSH_(\d+)\.(\d+)/.exec(`${result.stdout ?? ""}${result.stderr ?? ""}`);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

export function renderSshdConfig(settings: {
  host: string;
  port: number;
  /** One path, or several (one `HostKey` line each). */
  hostKeyPath: string | readonly string[];
  pidFile: string;
  authorizedKeysFile: string;
  remoteDir: string;
  user: string;
  opensshVersion?: [number, number];
  sftpSubsystem?: boolean;
}): string {
  const lines = [
    `ListenAddress ${bracketIfIpv6(settings.host)}:${settings.port}`,
    ...[settings.hostKeyPath].flat().map((path) => `HostKey ${quoteConfigValue(path)}`),
    `PidFile ${quoteConfigValue(settings.pidFile)}`,
    `AuthorizedKeysFile ${quoteConfigValue(settings.authorizedKeysFile)}`,
    `AllowUsers ${settings.user}`,
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "HostbasedAuthentication no",
    // CI runs as root; keys only, never passwords.
    "PermitRootLogin prohibit-password",
    // The temp dir and its files belong to whoever runs the tests.
    "StrictModes no",
    "UsePAM no",
    "UseDNS no",
    "PrintMotd no",
    "PermitTTY no",
    "X11Forwarding no",
    "AllowTcpForwarding no",
    "AllowAgentForwarding no",
    "PermitTunnel no",
    "LoginGraceTime 30",
    "LogLevel VERBOSE",
    // -d: sessions start in the served dir, as on the HKEX server where the reports are in the login dir.
    // Without the Subsystem line sshd answers the sftp request with a failure, before ForceCommand applies.
    ...(settings.sftpSubsystem === false ? [] : [`Subsystem sftp internal-sftp -d ${bareArgument(settings.remoteDir)}`]),
    `ForceCommand internal-sftp -d ${bareArgument(settings.remoteDir)}`,
  ];
  const [major, minor] = settings.opensshVersion ?? [0, 0];
  if (major > 9 || (major === 9 && minor >= 8)) {
    // OpenSSH 9.8+ would otherwise block 127.0.0.1 for a while after a test's deliberate auth failure.
    lines.push("PerSourcePenalties no");
  }
  return `${lines.join("\n")}\n`;
}

/** Writes `files` below `root`, refusing paths that would land outside it. */
async function writeServedFiles(root: string, files: Record<string, Buffer>): Promise<void> {
  for (const [relative, content] of Object.entries(files)) {
    const target = normalize(join(root, relative));
    if (isAbsolute(relative) || !target.startsWith(root + sep)) {
      throw new Error(`'files' key '${relative}' must be a relative path inside the served dir`);
    }
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
}

/** A port that was free a moment ago; sshd cannot be told to pick one itself. */
export function pickFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host, port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Connects once and resolves with the identification line the server sends,
 * or undefined if the connection fails or stays silent for `timeoutMs`.
 */
export function readBanner(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let received = "";
    const finish = (banner: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(banner);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      received += text;
      const newline = received.indexOf("\n");
      if (newline >= 0) finish(received.slice(0, newline).replace(/\r$/, ""));
    });
    socket.on("error", () => finish(undefined));
    socket.on("close", () => finish(undefined));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off("exit", onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once("exit", onExit);
  });
}

interface ProcessRef {
  pid: number;
  /** Clock ticks after boot; tells a process apart from a later one that reuses its pid. */
  startTime: string;
}

function readProcessStat(pid: number): { ppid: number; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces and parentheses; the fields after the last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(fields[1]), startTime: fields[19]! };
  } catch {
    return undefined;
  }
}

/**
 * Every process below `pid`. sshd forks a child per connection and that child
 * calls setsid(), so signalling sshd's process group would miss it.
 */
function descendantsOf(pid: number): ProcessRef[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const childrenOf = new Map<number, ProcessRef[]>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcessStat(Number(entry));
    if (!stat) continue;
    const list = childrenOf.get(stat.ppid) ?? [];
    list.push({ pid: Number(entry), startTime: stat.startTime });
    childrenOf.set(stat.ppid, list);
  }
  const result: ProcessRef[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    for (const child of childrenOf.get(pending.pop()!) ?? []) {
      result.push(child);
      pending.push(child.pid);
    }
  }
  return result;
}

/** Signals the process only if it is still the one we saw. */
function signalProcess(process_: ProcessRef, name: NodeJS.Signals): void {
  if (readProcessStat(process_.pid)?.startTime !== process_.startTime) return;
  try {
    process.kill(process_.pid, name);
  } catch {
    // Already gone.
  }
}

function ensurePrivsepDir(): void {
  if (existsSync(PRIVSEP_DIR)) return;
  try {
    mkdirSync(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new Error(
      `sshd needs its privilege separation dir ${PRIVSEP_DIR}, which is missing and could not be created (run as root, or: sudo mkdir -p ${PRIVSEP_DIR})`,
      { cause: error },
    );
  }
}

interface RunningSshd {
  child: ChildProcess;
  logs: () => string;
}

class SshdExitedEarly extends Error {}

async function launchSshd(configPath: string, host: string, port: number): Promise<RunningSshd> {
  const child = spawn(SSHD_PATH, ["-D", "-e", "-f", configPath], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const append = (text: string) => {
    if (log.length < MAX_LOG_CHARS) log += text;
  };
  child.stdout!.setEncoding("utf8").on("data", append);
  child.stderr!.setEncoding("utf8").on("data", append);
  let spawnError: Error | undefined;
  child.once("error", (error) => (spawnError = error));
  const logs = () => log;

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError) throw new Error(`could not start ${SSHD_PATH}: ${spawnError.message}`, { cause: spawnError });
    if (hasExited(child)) {
      // Let the last lines of stderr arrive before quoting them.
      await sleep(PROBE_INTERVAL_MS);
      throw new SshdExitedEarly(
        `sshd exited before serving ${host}:${port} (code ${child.exitCode}, signal ${child.signalCode}). Log:\n${log}`,
      );
    }
    const banner = await readBanner(host, port, PROBE_TIMEOUT_MS);
    if (banner?.startsWith("SSH-2.0-")) return { child, logs };
    if (Date.now() >= deadline) {
      child.kill("SIGKILL");
      throw new Error(`sshd did not send an SSH-2.0 banner on ${host}:${port} within ${READY_TIMEOUT_MS} ms. Log:\n${log}`);
    }
    await sleep(PROBE_INTERVAL_MS);
  }
}

/** Starts sshd serving `files` over SFTP to holders of `authorizedKeys`; resolves once it sends its banner. */
export async function startOpenSsh(opts: OpenSshOptions): Promise<OpenSshServer> {
  const host = opts.bindHost ?? "127.0.0.1";
  assertLoopbackHost("bindHost", host);
  const requestedPort = opts.port ?? 0;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
    throw new Error(`'port' must be an integer from 0 to 65535, got ${String(opts.port)}`);
  }
  if (!Array.isArray(opts.authorizedKeys) || opts.authorizedKeys.length === 0) {
    throw new Error("'authorizedKeys' must hold at least one OpenSSH public key line");
  }
  const user = opts.user ?? userInfo().username;
  if (!/^[A-Za-z0-9._-]+$/.test(user)) throw new Error(`'user' must be a plain login name, got '${user}'`);
  if (!existsSync(SSHD_PATH)) {
    throw new Error(`OpenSSH server not found at ${SSHD_PATH}: run scripts/ensure-deps.sh or apt-get install -y openssh-server`);
  }
  ensurePrivsepDir();

  const root = await mkdtemp(join(tmpdir(), "hkex-sshd-"));
  const removeRoot = () => rm(root, { recursive: true, force: true });
  try {
    const remoteDir = join(root, "served");
    await mkdir(remoteDir);
    await writeServedFiles(remoteDir, opts.files ?? {});
    const hostKeyTypes = opts.hostKeyTypes ?? ["ed25519"];
    if (hostKeyTypes.length === 0) throw new Error("'hostKeyTypes' must name at least one key type");
    const hostKeyPaths = hostKeyTypes.map((type) => join(root, `ssh_host_${type}_key`));
    await Promise.all(
      hostKeyTypes.map((type, i) =>
        execFileAsync("ssh-keygen", [
          "-q",
          "-t",
          type,
          ...(type === "rsa" ? ["-b", "2048"] : []),
          "-N",
          "",
          "-C",
          "hkex-test-sshd",
          "-f",
          hostKeyPaths[i]!,
        ]),
      ),
    );
    const hostKeyPublics = await Promise.all(hostKeyPaths.map(async (path) => (await readFile(`${path}.pub`, "utf8")).trim()));
    const hostKeyPublic = hostKeyPublics[0]!;
    const authorizedKeysFile = join(root, "authorized_keys");
    await writeFile(authorizedKeysFile, `${opts.authorizedKeys.map((line) => line.trim()).join("\n")}\n`);
    await chmod(authorizedKeysFile, 0o600);

    const opensshVersion = openSshVersion();
    const configPath = join(root, "sshd_config");
    let running: RunningSshd | undefined;
    let port = requestedPort;
    for (let attempt = 1; running === undefined; attempt++) {
      port = requestedPort === 0 ? await pickFreePort(host) : requestedPort;
      const config = renderSshdConfig({
        host,
        port,
        hostKeyPath: hostKeyPaths,
        pidFile: join(root, "sshd.pid"),
        authorizedKeysFile,
        remoteDir,
        user,
        opensshVersion,
        sftpSubsystem: opts.sftpSubsystem,
      });
      await writeFile(configPath, config);
      try {
        running = await launchSshd(configPath, host, port);
      } catch (error) {
        const portTaken = error instanceof SshdExitedEarly && /Address already in use/.test(error.message);
        if (!(portTaken && requestedPort === 0 && attempt < PORT_ATTEMPTS)) throw error;
      }
    }

    const { child, logs } = running;
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        const pid = child.pid;
        if (pid !== undefined && !hasExited(child)) {
          const sessions = descendantsOf(pid);
          for (const session of sessions) signalProcess(session, "SIGTERM");
          child.kill("SIGTERM");
          if (!(await waitForExit(child, STOP_GRACE_MS))) {
            child.kill("SIGKILL");
            await waitForExit(child, STOP_GRACE_MS);
          }
          for (const session of sessions) signalProcess(session, "SIGKILL");
        }
        await removeRoot();
      })();
      return stopping;
    };

    return {
      host,
      port,
      user,
      remoteDir,
      hostKeyPublic,
      hostKeyFingerprint: fingerprintOfPublicKey(hostKeyPublic),
      knownHostsLine: knownHostsLineFor(host, port, hostKeyPublic),
      hostKeys: hostKeyTypes.map((type, i) => ({
        type,
        publicLine: hostKeyPublics[i]!,
        fingerprint: fingerprintOfPublicKey(hostKeyPublics[i]!),
        knownHostsLine: knownHostsLineFor(host, port, hostKeyPublics[i]!),
      })),
      logs,
      stop,
    };
  } catch (error) {
    await removeRoot();
    throw error;
  }
}
