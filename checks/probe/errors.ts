/**
 * From what Node and ssh2 report to a cause a CP can act on. ssh2 marks the
 * layer that broke in `err.level` (client-socket, client-timeout,
 * client-authentication, protocol, handshake); Node's socket errors carry an
 * errno `code`.
 */
import type { HostKeyVerdict } from "../knownHosts";
import { PhaseError } from "../download";
import type { PhaseShape, ProbeTarget } from "./phase";

export function socketError(err: NodeJS.ErrnoException, t: ProbeTarget): PhaseError {
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

/** The verdict on a presented host key as a failure, or undefined when it matches the pinned key. */
export function hostKeyCause(v: HostKeyVerdict, t: ProbeTarget, type: string | undefined, knownHostsFile?: string): PhaseError | undefined {
  switch (v.status) {
    case "match":
      return undefined;
    case "unknown":
      return new PhaseError(
        "hostkey-unknown",
        `host key unknown: ${t.host}:${t.port} presented ${type ?? "a key"} ${v.fingerprint}, which is not pinned in knownHostsFile${knownHostsFile ? ` ${knownHostsFile}` : ""} (verify it with HKEX, then run hkex-ready trust)`,
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

type SshError = Error & { level?: string; code?: string };
type PhaseNaming = Pick<PhaseShape<string, readonly string[]>, "name" | "afterLogin" | "activity">;

/** An ssh2 (or socket) error during `phase`, as the cause that phase reports. */
export function sshErrorToPhase(err: SshError, phase: PhaseNaming, t: ProbeTarget): PhaseError {
  if (err instanceof PhaseError) return err;
  const msg = err.message ?? String(err);
  if (/no matching/i.test(msg)) {
    return new PhaseError("no-common-algorithm", `key exchange failed: ${msg} (the server and this client share no algorithm)`);
  }
  if (err.level === "client-authentication") {
    return new PhaseError("auth-rejected", `authentication rejected (${msg})`);
  }
  if (phase.afterLogin && (err.level === "client-socket" || /No response from server|closed|lost/i.test(msg))) {
    return new PhaseError("connection-lost", `connection lost during ${phase.name}${err.code ? ` (${err.code})` : ""}: ${msg}`);
  }
  if (err.level === "client-socket" && err.code) return socketError(err, t);
  if (/lost|closed|No response|ECONNRESET|Connection/i.test(msg) || err.level === "client-socket") {
    // After login the session is what was lost (README: connection-lost in sftp, list, download and logout).
    return new PhaseError(
      phase.afterLogin ? "connection-lost" : "connection-closed",
      `connection closed by the server during ${phase.activity ?? phase.name} (${msg})`,
    );
  }
  if (err.level === "protocol" || err.level === "handshake") return new PhaseError("kex-failed", `key exchange failed: ${msg}`);
  return new PhaseError("error", msg);
}

/** The usual timeout cause: "<phase> timed out after <n> ms". */
export function timedOut(phase: string, timeoutMs: number, code = "timeout"): PhaseError {
  return new PhaseError(code, `${phase} timed out after ${timeoutMs} ms`);
}

/** Causes after which the session is gone: nothing is left to log out of. */
const CONNECTION_ENDING: readonly string[] = ["connection-lost", "interrupted", "transfer-timeout", "timeout"];

/** For phases inside the session: it survives their failure unless the cause ended the connection. */
export function unlessConnectionEnded(error: PhaseError): boolean {
  return !CONNECTION_ENDING.includes(error.code);
}
