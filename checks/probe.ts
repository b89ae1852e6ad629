/**
 * One endpoint, phase by phase: tcp, banner, hostkey, auth, sftp, list,
 * download, logout. Each phase has its own timeout and records its duration;
 * the first failure names the phase and the cause, and every later phase is a
 * skip (never a pass). Host keys are always checked against the pinned file.
 */
import { connect as netConnect, type Socket } from "node:net";
import { posix } from "node:path";
import picomatch from "picomatch";
import { Client, type ConnectConfig, type SFTPWrapper } from "ssh2";
import type { SiteName } from "../catalogue";
import type { Timeouts } from "./config";
import { downloadVerified, ensureDownloadDir, PhaseError, unsafeNameReason } from "./download";
import type { UserKey } from "./keys";
import { blobKeyType, verifyHostKey, type HostKeyVerdict, type KnownHostEntry } from "./knownHosts";
import type { DownloadRecord, EndpointReport, HostKeyRecord, PartReport, PhaseName, PhaseResult } from "./report";
import { PHASES } from "./report";
import { fromCallback } from "../core/callback";
import { printable } from "../core/text";
import { hkNow } from "../core/time";

export interface ProbeTarget {
  readonly site: SiteName;
  readonly host: string;
  readonly port: number;
}

export type PhaseEvent =
  | { readonly kind: "start"; readonly target: ProbeTarget; readonly phase: PhaseName }
  | { readonly kind: "end"; readonly target: ProbeTarget; readonly result: PhaseResult };

export interface ProbeOptions {
  readonly target: ProbeTarget;
  readonly part?: PartReport["part"];
  readonly user: string;
  readonly key: UserKey;
  readonly knownHosts: readonly KnownHostEntry[];
  readonly timeouts: Timeouts;
  readonly remoteDir: string;
  readonly files: readonly string[];
  /** Without it the probe stops after `list` (download is a skip, logout still runs). */
  readonly download: boolean;
  /** This endpoint's own download folder. */
  readonly downloadDir: string;
  /** Why `download` is skipped when not asked for, in the caller's words. */
  readonly downloadSkipReason?: string;
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: PhaseEvent) => void;
  /** `hkex-ready trust`: accept any host key, record it, stop after the key exchange. */
  readonly trustOnly?: boolean;
  readonly algorithms?: ConnectConfig["algorithms"];
  readonly tuning?: { readonly chunkSize?: number; readonly concurrency?: number };
}

export interface ProbeResult {
  readonly report: EndpointReport;
  readonly downloads: readonly DownloadRecord[];
  /** The raw host key blob presented, for `trust`. */
  readonly presentedHostKey?: Buffer;
}

interface RemoteFile {
  readonly name: string;
  readonly path: string;
  readonly size: number;
}

const MAX_BANNER_BYTES = 8192;
/** After a timeout or interrupt, how long a phase may take to remove its temporary files. */
const CLEANUP_GRACE_MS = 2000;

function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    const settle = () => {
      clearTimeout(timer);
      resolve();
    };
    p.then(settle, settle);
  });
}
const MAX_LISTING = 200;

function socketError(err: NodeJS.ErrnoException, t: ProbeTarget): PhaseError {
  switch (err.code) {
    case "ECONNREFUSED":
      return new PhaseError("refused", `connection refused by ${t.host}:${t.port} (nothing listening, or a firewall rejects it)`);
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new PhaseError("unreachable", `no route to ${t.host} (${err.code}): check routes and the VPN/leased line`);
    case "ETIMEDOUT":
      return new PhaseError("timeout", `TCP connect to ${t.host}:${t.port} timed out (${err.code})`);
    case "ECONNRESET":
    case "EPIPE":
      return new PhaseError("connection-closed", `connection reset by ${t.host}:${t.port}`);
    default:
      return new PhaseError("error", `${err.code ?? "socket error"}: ${err.message}`);
  }
}

function hostKeyCause(v: HostKeyVerdict, t: ProbeTarget, type: string | undefined): PhaseError | undefined {
  switch (v.status) {
    case "match":
      return undefined;
    case "unknown":
      return new PhaseError(
        "hostkey-unknown",
        `host key unknown: ${t.host}:${t.port} presented ${type ?? "a key"} ${v.fingerprint}, which is not pinned in knownHostsFile (verify it with HKEX, then run hkex-ready trust)`,
      );
    case "mismatch":
      return new PhaseError(
        "hostkey-mismatch",
        `host key mismatch: ${t.host}:${t.port} presented ${v.fingerprint}, pinned ${v.expected.join(", ")}; do not trust it, call the DCASS hotline`,
      );
    case "revoked":
      return new PhaseError("hostkey-revoked", `host key ${v.fingerprint} is marked @revoked in knownHostsFile`);
  }
}

/** Reads up to the SSH identification line, then puts the bytes back for ssh2. */
function readBanner(sock: Socket, signal: AbortSignal, t: ProbeTarget): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const finish = (err?: Error, banner?: string) => {
      sock.removeListener("data", onData);
      sock.removeListener("end", onEnd);
      sock.removeListener("close", onEnd);
      sock.removeListener("error", onError);
      signal.removeEventListener("abort", onAbort);
      if (err) return reject(err);
      sock.pause();
      sock.unshift(Buffer.concat(chunks));
      resolve(banner!);
    };
    const firstLine = () => printable(Buffer.concat(chunks).toString("latin1").split(/\r?\n/)[0]!.slice(0, 80));
    const onData = (d: Buffer) => {
      chunks.push(d);
      total += d.length;
      const text = Buffer.concat(chunks).toString("latin1");
      const lines = text.split("\n");
      for (let i = 0; i < lines.length - 1; i++) {
        const line = lines[i]!.replace(/\r$/, "");
        if (line.startsWith("SSH-")) {
          if (!/^SSH-(2\.0|1\.99)-/.test(line)) {
            return finish(new PhaseError("not-ssh", `speaks an unsupported SSH protocol version: "${printable(line.slice(0, 80))}"`));
          }
          return finish(undefined, printable(line.slice(0, 255)));
        }
      }
      if (total > MAX_BANNER_BYTES || lines.length > 20) {
        finish(new PhaseError("not-ssh", `sent "${firstLine()}" instead of an SSH banner: not an SSH server`));
      }
    };
    const onEnd = () =>
      finish(
        total > 0
          ? new PhaseError("not-ssh", `sent "${firstLine()}" and closed: not an SSH server`)
          : new PhaseError("connection-closed", `${t.host}:${t.port} accepted the connection and closed it without an SSH banner`),
      );
    const onError = (err: NodeJS.ErrnoException) => finish(socketError(err, t));
    const onAbort = () => {
      const reason = signal.reason as PhaseError;
      if (reason instanceof PhaseError && reason.code === "timeout") {
        finish(
          total > 0
            ? new PhaseError("not-ssh", `sent "${firstLine()}" but no SSH banner within the timeout`)
            : new PhaseError(
                "no-banner",
                `no SSH banner within ${reason.message.match(/\d+ ms/)?.[0] ?? "the timeout"}: the port accepts connections but nothing speaks SSH`,
              ),
        );
      } else finish(reason);
    };
    sock.on("data", onData);
    sock.once("end", onEnd);
    sock.once("close", onEnd);
    sock.once("error", onError);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function sshErrorToPhase(err: Error & { level?: string }, phase: PhaseName, t: ProbeTarget): PhaseError {
  if (err instanceof PhaseError) return err;
  const msg = err.message ?? String(err);
  if (/no matching/i.test(msg)) {
    return new PhaseError("no-common-algorithm", `key exchange failed: ${msg} (the server and this client share no algorithm)`);
  }
  if (err.level === "client-authentication") {
    return new PhaseError("auth-rejected", `authentication rejected (${msg})`);
  }
  const afterLogin = ["sftp", "list", "download", "logout"].includes(phase);
  if (afterLogin && (err.level === "client-socket" || /No response from server|closed|lost/i.test(msg))) {
    const code = (err as NodeJS.ErrnoException).code;
    return new PhaseError("connection-lost", `connection lost during ${phase}${code ? ` (${code})` : ""}: ${msg}`);
  }
  if (err.level === "client-socket" && (err as NodeJS.ErrnoException).code) {
    return socketError(err as NodeJS.ErrnoException, t);
  }
  if (/lost|closed|No response|ECONNRESET|Connection/i.test(msg) || err.level === "client-socket") {
    const when = phase === "hostkey" ? "during key exchange" : `during ${phase}`;
    return new PhaseError(
      phase === "download" ? "connection-lost" : "connection-closed",
      `connection closed by the server ${when} (${msg})`,
    );
  }
  if (err.level === "protocol" || err.level === "handshake") return new PhaseError("kex-failed", `key exchange failed: ${msg}`);
  return new PhaseError("error", msg);
}

export async function probeEndpoint(opts: ProbeOptions): Promise<ProbeResult> {
  const t = opts.target;
  const startedAt = hkNow();
  const started = performance.now();
  const phases: PhaseResult[] = [];
  const downloads: DownloadRecord[] = [];
  const outer = opts.signal;
  let banner: string | undefined;
  let hostKey: HostKeyRecord | undefined;
  let presentedHostKey: Buffer | undefined;
  let listing: string[] | undefined;
  let failed: PhaseError | undefined;
  let sock: Socket | undefined;
  let client: Client | undefined;
  // ssh2 may emit errors between phases; the current waiter picks them up.
  let pendingSshError: Error | undefined;
  let sshErrorListener: ((err: Error) => void) | undefined;
  let loggingOut = false;

  const runPhase = async <T>(
    name: PhaseName,
    timeoutMs: number,
    how: { evenAfterFailure?: boolean },
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T | undefined> => {
    if (failed && !how.evenAfterFailure) {
      phases.push({
        name,
        status: "skip",
        ms: 0,
        code: "earlier-phase-failed",
        cause: `not run: ${phases.find((p) => p.status === "fail")?.name} failed`,
      });
      opts.onEvent?.({ kind: "end", target: t, result: phases.at(-1)! });
      return undefined;
    }
    opts.onEvent?.({ kind: "start", target: t, phase: name });
    const ac = new AbortController();
    const phaseStarted = performance.now();
    const phaseStartedAt = hkNow();
    const timer = setTimeout(
      () => ac.abort(new PhaseError(name === "download" ? "transfer-timeout" : "timeout", `${name} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onOuterAbort = () => ac.abort(new PhaseError("interrupted", `interrupted (${String(outer?.reason ?? "abort")}) during ${name}`));
    if (outer?.aborted) onOuterAbort();
    else outer?.addEventListener("abort", onOuterAbort, { once: true });
    // The phase's own abort handling runs first (setImmediate), so it can name the cause more precisely.
    const aborted = new Promise<never>((_, reject) => {
      const late = () => setImmediate(() => reject(ac.signal.reason));
      if (ac.signal.aborted) late();
      else ac.signal.addEventListener("abort", late, { once: true });
    });
    aborted.catch(() => undefined);
    const work = fn(ac.signal);
    work.catch(() => undefined);
    try {
      const value = await Promise.race([work, aborted]);
      const result: PhaseResult = {
        name,
        status: "pass",
        ms: Math.round(performance.now() - phaseStarted),
        timeoutMs,
        startedAt: phaseStartedAt,
      };
      phases.push(result);
      opts.onEvent?.({ kind: "end", target: t, result });
      return value;
    } catch (err) {
      let error = err instanceof PhaseError ? err : sshErrorToPhase(err as Error, name, t);
      if (error.code === "timeout" && name === "tcp") {
        error = new PhaseError(
          "timeout",
          `no answer to TCP connect within ${timeoutMs} ms: packets to ${t.host}:${t.port} are dropped or filtered`,
        );
      }
      failed ??= error;
      if (ac.signal.aborted) {
        // A timed-out handshake or SFTP request never answers: closing the connection
        // settles it at once. A download cleans up after itself on the same signal.
        if (name !== "download") {
          client?.destroy();
          sock?.destroy();
        }
        await settledWithin(work, CLEANUP_GRACE_MS);
      }
      const result: PhaseResult = {
        name,
        status: "fail",
        ms: Math.round(performance.now() - phaseStarted),
        code: error.code,
        // Causes may quote the server (SFTP status text, disconnect reasons): never raw to a terminal.
        cause: printable(error.message),
        timeoutMs,
        startedAt: phaseStartedAt,
      };
      phases.push(result);
      opts.onEvent?.({ kind: "end", target: t, result });
      return undefined;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuterAbort);
    }
  };

  const sshWait = <T>(register: (ok: (v: T) => void, fail: (e: Error) => void) => void): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (pendingSshError) return reject(pendingSshError);
      sshErrorListener = reject;
      register(resolve, reject);
    }).finally(() => {
      sshErrorListener = undefined;
    });

  const { timeouts } = opts;
  try {
    sock = await runPhase(
      "tcp",
      timeouts.connectMs,
      {},
      (signal) =>
        new Promise<Socket>((resolve, reject) => {
          const s = netConnect({ host: t.host, port: t.port });
          s.setNoDelay(true);
          // Destroying a socket that is still connecting emits no error: settle the phase here.
          const onAbort = () => {
            s.destroy();
            reject(signal.reason);
          };
          signal.addEventListener("abort", onAbort, { once: true });
          s.once("connect", () => {
            signal.removeEventListener("abort", onAbort);
            s.removeAllListeners("error");
            resolve(s);
          });
          s.once("error", (err) => reject(socketError(err as NodeJS.ErrnoException, t)));
          sock = s;
        }),
    );
    // A socket error after connect must never crash the process.
    sock?.on("error", () => undefined);

    banner = await runPhase("banner", timeouts.handshakeMs, {}, (signal) => readBanner(sock!, signal, t));

    let verified: (() => void) | undefined;
    let verdictError: PhaseError | undefined;
    const c = new Client();
    client = c;
    c.on("error", (err) => {
      pendingSshError = err;
      sshErrorListener?.(err);
    });
    // ssh2 reports a close after the identification line as a plain close, not an error.
    c.on("close", () => {
      if (loggingOut) return;
      const err = Object.assign(new Error("connection closed"), { level: "client-socket" });
      pendingSshError ??= err;
      sshErrorListener?.(err);
    });
    const ready = new Promise<void>((resolve) => c.once("ready", () => resolve()));
    ready.catch(() => undefined);

    await runPhase("hostkey", timeouts.handshakeMs, {}, () =>
      sshWait<void>((ok, fail) => {
        verified = ok;
        const cfg: ConnectConfig = {
          sock: sock!,
          username: opts.user,
          readyTimeout: 0,
          keepaliveInterval: 0,
          algorithms: opts.algorithms,
          hostVerifier: (blob: Buffer) => {
            presentedHostKey = Buffer.from(blob);
            const type = blobKeyType(presentedHostKey);
            if (opts.trustOnly) {
              hostKey = { type, fingerprint: verifyHostKey([], t.host, t.port, presentedHostKey).fingerprint, status: "unknown" };
              verified?.();
              return false;
            }
            const verdict = verifyHostKey(opts.knownHosts, t.host, t.port, presentedHostKey);
            hostKey = {
              type,
              fingerprint: verdict.fingerprint,
              status: verdict.status,
              ...(verdict.status === "mismatch" ? { expected: verdict.expected } : {}),
            };
            verdictError = hostKeyCause(verdict, t, type);
            if (verdictError) {
              fail(verdictError);
              return false;
            }
            verified?.();
            return true;
          },
        };
        const methods: string[] = [];
        if (opts.key.privateKey && !opts.key.problem) {
          cfg.privateKey = opts.key.privateKey;
          if (opts.key.passphrase !== undefined) cfg.passphrase = opts.key.passphrase;
          methods.push("publickey");
        }
        if (opts.key.source === "agent" || opts.key.agentSocket) {
          cfg.agent = opts.key.agentSocket;
          methods.push("agent");
        }
        // Straight to public-key auth: ssh2's default first tries "none", one round trip more.
        if (methods.length > 0) cfg.authHandler = methods as ConnectConfig["authHandler"];
        if (opts.key.problem) {
          // The key cannot be used; let the handshake finish so `auth` fails with the reason.
          cfg.authHandler = (_methods, _partial, cb) => cb(false as never);
        }
        c.connect(cfg);
      }),
    );
    if (opts.trustOnly) return finish();

    await runPhase("auth", timeouts.handshakeMs, {}, async () => {
      try {
        await sshWait<void>((ok) => void ready.then(ok));
      } catch (err) {
        if (opts.key.problem) throw new PhaseError(opts.key.problem.code, `cannot log in: ${opts.key.problem.message}`);
        const e = sshErrorToPhase(err as Error, "auth", t);
        if (e.code === "auth-rejected") {
          throw new PhaseError(
            "auth-rejected",
            `server rejected publickey login for user "${printable(opts.user)}"${opts.key.fingerprint ? ` with key ${opts.key.fingerprint}` : ""}: check the user ID and that HKEX has this key`,
          );
        }
        throw e;
      }
    });

    const sftp = await runPhase("sftp", timeouts.operationMs, {}, () =>
      sshWait<SFTPWrapper>((ok, fail) =>
        c.sftp((err, s) => {
          if (err) {
            fail(
              /subsystem/i.test(err.message)
                ? new PhaseError("sftp-refused", `the server refused the SFTP subsystem (${err.message})`)
                : sshErrorToPhase(err, "sftp", t),
            );
          } else ok(s);
        }),
      ),
    );

    const files = await runPhase("list", timeouts.operationMs, {}, () =>
      sshWait<RemoteFile[]>((ok, fail) => void listRemote(sftp!).then(ok, fail)),
    );

    if (!opts.download && !failed) {
      phases.push({
        name: "download",
        status: "skip",
        ms: 0,
        code: "not-requested",
        cause: opts.downloadSkipReason ?? "not requested (run with --download)",
      });
      opts.onEvent?.({ kind: "end", target: t, result: phases.at(-1)! });
    } else {
      // No sshWait here: a dropped connection fails the pending SFTP reads, and
      // waiting for downloadVerified itself guarantees its temporary file is gone.
      await runPhase("download", timeouts.transferMs, {}, (signal) =>
        (async () => {
          {
            await ensureDownloadDir(opts.downloadDir);
            // The files of one endpoint download side by side over its one connection.
            const settled = await Promise.allSettled(
              files!.map(async (f) => {
                const fileStarted = performance.now();
                const r = await downloadVerified({
                  sftp: sftp!,
                  // More SFTP channels over the same connection (one login), for a long line.
                  openChannel: () => fromCallback<SFTPWrapper>((cb) => c.sftp(cb)),
                  remotePath: f.path,
                  name: f.name,
                  localDir: opts.downloadDir,
                  expectedSize: f.size,
                  signal,
                  ...opts.tuning,
                });
                return { f, r, ms: Math.round(performance.now() - fileStarted) };
              }),
            );
            for (const one of settled) {
              if (one.status === "rejected") continue;
              const { f, r, ms } = one.value;
              downloads.push({
                site: t.site,
                host: t.host,
                port: t.port,
                ...(typeof opts.part === "number" ? { part: opts.part } : {}),
                file: printable(f.name),
                bytes: r.bytes,
                sha256: r.sha256,
                path: r.path,
                ms,
                ...(r.previous ? { previous: r.previous } : {}),
              });
            }
            const failure = settled.find((one): one is PromiseRejectedResult => one.status === "rejected");
            if (failure) throw failure.reason;
          }
        })(),
      );
    }

    // Log out cleanly even after an sftp, list or download failure, as long as the session is still up.
    const sessionUp =
      phases.every((p) => p.status !== "fail" || ["sftp", "list", "download"].includes(p.name)) &&
      !["connection-lost", "interrupted", "transfer-timeout", "timeout"].includes(failed?.code ?? "");
    await logout(sessionUp);
    return finish();
  } finally {
    client?.removeAllListeners("ready");
    client?.on("error", () => undefined);
    client?.destroy();
    sock?.destroy();
  }

  async function logout(evenAfterFailure: boolean): Promise<void> {
    await runPhase(
      "logout",
      timeouts.operationMs,
      { evenAfterFailure },
      () =>
        new Promise<void>((resolve, reject) => {
          const c = client!;
          if (pendingSshError) return reject(sshErrorToPhase(pendingSshError, "logout", t));
          loggingOut = true;
          c.once("close", () => resolve());
          c.end();
        }),
    );
  }

  async function listRemote(sftp: SFTPWrapper): Promise<RemoteFile[]> {
    let dir: string;
    try {
      dir = await fromCallback<string>((cb) => sftp.realpath(opts.remoteDir, cb));
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 2) throw new PhaseError("folder-missing", `remote folder "${printable(opts.remoteDir)}" does not exist`);
      if (code === 3) throw new PhaseError("permission-denied", `remote folder "${printable(opts.remoteDir)}": permission denied`);
      throw sshErrorToPhase(err as Error, "list", t);
    }
    let entries: { filename: string; attrs: { size: number; isFile(): boolean; isSymbolicLink(): boolean } }[];
    try {
      entries = await fromCallback((cb) => sftp.readdir(dir, cb as never));
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 3) throw new PhaseError("permission-denied", `remote folder "${printable(dir)}": permission denied`);
      if (code === 2) throw new PhaseError("folder-missing", `remote folder "${printable(opts.remoteDir)}" does not exist`);
      // Only on failure is the path stat'ed (one round trip less when all is well), to say why.
      const st = await fromCallback<{ isDirectory(): boolean }>((cb) => sftp.stat(dir, cb)).catch(() => undefined);
      if (st && !st.isDirectory()) throw new PhaseError("folder-missing", `remote path "${printable(opts.remoteDir)}" is not a folder`);
      throw sshErrorToPhase(err as Error, "list", t);
    }
    listing = entries
      .map((e) => printable(e.filename))
      .sort()
      .slice(0, MAX_LISTING);
    const chosen: RemoteFile[] = [];
    const problems: string[] = [];
    for (const pattern of opts.files) {
      const isMatch = picomatch(pattern, { dot: false, nocase: false });
      const hits = entries.filter((e) => isMatch(e.filename)).sort((a, b) => a.filename.localeCompare(b.filename));
      let usable = 0;
      for (const e of hits) {
        const unsafe = unsafeNameReason(e.filename);
        if (unsafe) {
          problems.push(`skipped remote name "${printable(e.filename)}": ${unsafe}`);
          continue;
        }
        const path = posix.join(dir, e.filename);
        let size = e.attrs.size;
        if (e.attrs.isSymbolicLink()) {
          // Followed only when the link is relative, never climbs with "..", and the
          // server resolves it inside the folder: a report folder needs nothing else.
          const link = await fromCallback<string>((cb) => sftp.readlink(path, cb)).catch(() => undefined);
          const resolved = await fromCallback<string>((cb) => sftp.realpath(path, cb)).catch(() => undefined);
          const inside = (p: string | undefined) =>
            p !== undefined && posix.resolve(dir, p).startsWith(dir.endsWith("/") ? dir : `${dir}/`);
          const plainLink = link !== undefined && !link.startsWith("/") && !link.split("/").includes("..");
          const target = link ?? resolved;
          if (!plainLink || !inside(link) || !inside(resolved)) {
            problems.push(
              `"${printable(e.filename)}" is a symlink leading out of the remote folder${target ? ` (to ${printable(target)})` : ""}; not followed`,
            );
            continue;
          }
          const st = await fromCallback<{ size: number; isFile(): boolean }>((cb) => sftp.stat(path, cb as never)).catch(() => undefined);
          if (!st?.isFile()) continue;
          size = st.size;
        } else if (!e.attrs.isFile()) continue;
        if (!chosen.some((c) => c.name === e.filename)) chosen.push({ name: e.filename, path, size });
        usable++;
      }
      if (usable === 0) {
        const escaped = problems.find((p) => p.includes("symlink"));
        if (hits.length > 0 && escaped) throw new PhaseError("symlink-escape", escaped);
        if (hits.length > 0 && problems.length > 0) throw new PhaseError("unsafe-name", problems.join("; "));
        throw new PhaseError("file-missing", `"${printable(pattern)}" not found in remote folder ${printable(dir)}`);
      }
    }
    return chosen;
  }

  function finish(): ProbeResult {
    const done = new Set(phases.map((p) => p.name));
    for (const name of PHASES) {
      if (done.has(name)) continue;
      if (opts.trustOnly) continue;
      const failedPhase = phases.find((p) => p.status === "fail")?.name;
      phases.push({
        name,
        status: "skip",
        ms: 0,
        code: "earlier-phase-failed",
        cause: failedPhase ? `not run: ${failedPhase} failed` : "not run",
      });
    }
    phases.sort((a, b) => PHASES.indexOf(a.name) - PHASES.indexOf(b.name));
    const report: EndpointReport = {
      site: t.site,
      host: t.host,
      port: t.port,
      ...(opts.part !== undefined ? { part: opts.part } : {}),
      verdict: phases.some((p) => p.status === "fail") ? "fail" : "pass",
      startedAt,
      ms: Math.round(performance.now() - started),
      ...(banner ? { banner } : {}),
      ...(hostKey ? { hostKey } : {}),
      ...(opts.key.fingerprint ? { userKeyFingerprint: opts.key.fingerprint } : {}),
      ...(listing ? { listing } : {}),
      phases,
    };
    return { report, downloads, presentedHostKey };
  }
}
