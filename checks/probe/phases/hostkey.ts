/**
 * hostkey: the SSH key exchange, with the presented host key checked against
 * the pinned known_hosts entries before anything else is sent. Needs the
 * socket; yields the ssh2 session. The verifier has one accepting path: a
 * match with the pinned key. `hkex-ready trust` records the key and refuses it.
 */
import type { Socket } from "node:net";
import type { AgentAuthMethod, ConnectConfig, PublicKeyAuthMethod, ServerHostKeyAlgorithm } from "ssh2";
import { orderHostKeyAlgorithms } from "../../hostKeyAlgorithms";
import type { UserKey } from "../../keys";
import { blobKeyType, fingerprint, verifyHostKey } from "../../knownHosts";
import type { HostKeyRecord } from "../../records";
import { PhaseError } from "../../download";
import { printable } from "../../../core/text";
import { hostKeyCause, timedOut } from "../errors";
import { SshSession } from "../sshSession";
import type { PhaseContext, ProbePhase } from "../phase";

const causes = [
  "no-common-algorithm",
  "kex-failed",
  "connection-closed",
  "timeout",
  "hostkey-unknown",
  "hostkey-mismatch",
  "hostkey-revoked",
] as const;

export const hostkey: ProbePhase<"hostkey", "socket", "ssh", typeof causes> = {
  name: "hostkey",
  timeout: "handshakeMs",
  needs: ["socket"],
  yields: ["ssh"],
  causes,
  inTrustRun: true,
  afterLogin: false,
  activity: "key exchange",
  timeoutError: (ms) => timedOut("hostkey", ms),
  async run({ socket }, ctx) {
    const ssh = new SshSession();
    ctx.own(ssh);
    const offered = new OfferedAlgorithms();
    try {
      await ssh.wait<void>((verified, refused) => ssh.client.connect(connectConfig(socket, ctx, verified, refused, offered)));
    } catch (err) {
      const message = (err as Error).message ?? "";
      const lists = /no matching/i.test(message) ? offered.unmatched() : undefined;
      if (lists) {
        throw new PhaseError(
          "no-common-algorithm",
          `key exchange failed: ${message} (the server and this client share no algorithm): ${lists}`,
        );
      }
      throw err;
    }
    return { ssh };
  },
};

/**
 * What each side offered in the key exchange, per category, read from ssh2's
 * handshake debug lines ("Handshake: (local) KEX method: a,b", "(remote) ...";
 * ssh2 lib/protocol/kex.js), which it writes for every category before it
 * looks for a match. Only the first key exchange is read.
 */
class OfferedAlgorithms {
  private readonly lists = new Map<string, { local?: string[]; remote?: string[] }>();
  private done = false;
  readonly debug = (line: string): void => {
    if (this.done) return;
    const m = /^Handshake: \((local|remote)\) (.+?): (.*)$/.exec(line);
    if (!m) return;
    const entry = this.lists.get(m[2]!) ?? {};
    entry[m[1] === "local" ? "local" : "remote"] = m[3]!.split(",").filter(Boolean);
    this.lists.set(m[2]!, entry);
  };
  /** The key exchange is over (the host key was presented): nothing more to read. */
  finish(): void {
    this.done = true;
  }
  /** "C->S cipher: this client offered x, y; the server offered z" for each category the two sides share nothing in. */
  unmatched(): string | undefined {
    const out: string[] = [];
    for (const [category, { local, remote }] of this.lists) {
      if (!local || !remote || local.some((a) => remote.includes(a))) continue;
      out.push(
        `${category}: this client offered ${printable(local.join(", "))}; the server offered ${printable(remote.join(", ") || "(nothing)")}`,
      );
    }
    return out.length > 0 ? out.join("; ") : undefined;
  }
}

function connectConfig(
  sock: Socket,
  ctx: PhaseContext,
  verified: () => void,
  refused: (err: Error) => void,
  offered: OfferedAlgorithms,
): ConnectConfig {
  return {
    sock,
    debug: offered.debug,
    username: ctx.opts.user,
    readyTimeout: 0,
    keepaliveInterval: 0,
    // OpenSSH's order: the host key types pinned for this host:port first (hostKeyAlgorithms.ts), unless the caller fixed the list.
    algorithms: {
      ...ctx.opts.algorithms,
      serverHostKey:
        ctx.opts.algorithms?.serverHostKey ??
        (orderHostKeyAlgorithms(ctx.opts.knownHosts, ctx.target.host, ctx.target.port) as ServerHostKeyAlgorithm[]),
    },
    hostVerifier: hostVerifier(
      ctx,
      () => {
        offered.finish();
        verified();
      },
      (err) => {
        offered.finish();
        refused(err);
      },
    ),
    ...authSettings(ctx.opts.user, ctx.opts.key),
  };
}

/** Called by ssh2 with the presented key; the key exchange goes on only when it returns true. */
function hostVerifier(ctx: PhaseContext, verified: () => void, refused: (err: Error) => void): (blob: Buffer) => boolean {
  const t = ctx.target;
  return (blob: Buffer) => {
    const presented = Buffer.from(blob);
    const type = blobKeyType(presented);
    ctx.evidence.presentedHostKey = presented;
    if (ctx.opts.trustOnly) {
      ctx.evidence.hostKey = { type, fingerprint: fingerprint(presented), status: "unknown" };
      verified();
      return false;
    }
    const verdict = verifyHostKey(ctx.opts.knownHosts, t.host, t.port, presented);
    const record: HostKeyRecord = { type, fingerprint: verdict.fingerprint, status: verdict.status };
    ctx.evidence.hostKey = verdict.status === "mismatch" ? { ...record, expected: verdict.expected } : record;
    const verdictError = hostKeyCause(verdict, t, type, ctx.opts.knownHostsFile);
    if (verdictError) {
      refused(verdictError);
      return false;
    }
    verified();
    return true;
  };
}

/** How the login will authenticate, set up with the key exchange (ssh2 takes both in one config). */
function authSettings(user: string, key: UserKey): Partial<ConnectConfig> {
  if (key.problem) {
    // The key cannot be used; let the handshake finish so `auth` fails with the reason.
    return { authHandler: (_methods, _partial, cb) => cb(false as never) };
  }
  // Straight to public-key auth: ssh2's default first tries "none", one round trip more.
  const methods: (PublicKeyAuthMethod | AgentAuthMethod)[] = [];
  // The key was decrypted once when loaded (checks/keys.ts): ssh2 signs with the parsed key, no KDF runs here.
  if (key.decrypted) methods.push({ type: "publickey", username: user, key: key.decrypted.parsed });
  if (key.agentSocket) methods.push({ type: "agent", username: user, agent: key.agentSocket });
  return methods.length > 0 ? { authHandler: methods } : {};
}
