/**
 * Starts the key exchange the banner and hostkey phases share (handshake.ts):
 * ssh2's configuration for it, the host-key verifier and the login methods.
 */
import type { Socket } from "node:net";
import type { AgentAuthMethod, ConnectConfig, PublicKeyAuthMethod, ServerHostKeyAlgorithm } from "ssh2";
import { orderHostKeyAlgorithms } from "../hostKeyAlgorithms";
import type { UserKey } from "../keys";
import { blobKeyType, fingerprint, verifyHostKey } from "../knownHosts";
import type { HostKeyRecord } from "../records";
import { hostKeyCause } from "./errors";
import { HostKeyVerdict, OfferedAlgorithms, type Handshake } from "./handshake";
import { SshSession } from "./sshSession";
import type { PhaseContext } from "./phase";

/**
 * Starts ssh2 on the connected socket: its identification line and KEXINIT
 * leave at once. The socket must be paused and not yet read: ssh2 attaches
 * its reader in a microtask and then resumes it, so a listener the caller
 * adds while it is paused sees the same bytes, and none is lost to either.
 * A configuration ssh2 refuses outright (an algorithm it does not know)
 * becomes the verdict the hostkey phase reports, as when ssh2 was started
 * there; the socket is resumed so the banner can still be read.
 */
export function startHandshake(socket: Socket, ctx: PhaseContext): Handshake {
  const ssh = new SshSession();
  ctx.own(ssh);
  const offered = new OfferedAlgorithms();
  const hostKey = new HostKeyVerdict();
  try {
    ssh.client.connect(connectConfig(socket, ctx, hostKey, offered));
  } catch (err) {
    hostKey.refuse(err as Error);
    socket.resume();
  }
  return { ssh, hostKey, offered };
}

function connectConfig(sock: Socket, ctx: PhaseContext, hostKey: HostKeyVerdict, offered: OfferedAlgorithms): ConnectConfig {
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
        hostKey.pass();
      },
      (err) => {
        offered.finish();
        hostKey.refuse(err);
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
