/**
 * The SSH side of a simulated endpoint: one ssh2 Server per host key and
 * algorithm set (ssh2 fixes both when the server is made), fed with sockets
 * that our own listener accepted. Authentication and the sftp subsystem are
 * wired here; the faults that live above TCP are applied per connection.
 */
import type { Socket } from "node:net";
import { Server, type Connection, type ParsedKey } from "ssh2";
import { decideAuth } from "./auth";
import type { Fault } from "./faults";
import type { ServedFile } from "./files";
import { serveSftp } from "./sftp";
import { RemoteTree } from "./tree";

/**
 * Presented as OpenSSH, which the facility is assumed to run, so that clients
 * pick the same behaviour they will on the day (ssh2, for one, then asks for
 * READs of up to 254 KiB instead of 31 KiB).
 */
export const SERVER_IDENT = "OpenSSH_8.7 hkex-sftp-simulator";

/** The only key exchange offered under no-common-algorithm: removed from OpenSSH 7.0 and ssh2's defaults. */
const LEGACY_KEX = "diffie-hellman-group1-sha1";

export type HostKeyVariant = "pinned" | "changed" | "legacy-kex";

export interface SessionSettings {
  readonly user: string;
  readonly authorizedKeys: readonly ParsedKey[];
  readonly remoteDir: string;
  readonly files: ReadonlyMap<string, ServedFile>;
}

export function makeSshServer(hostKey: string, variant: HostKeyVariant): Server {
  return new Server({
    hostKeys: [hostKey],
    ident: SERVER_IDENT,
    ...(variant === "legacy-kex" ? { algorithms: { kex: [LEGACY_KEX] } } : {}),
  });
}

/** Serves one accepted SSH connection with the fault it was accepted under. */
export function serveConnection(client: Connection, socket: Socket, fault: Fault | "none", settings: SessionSettings): void {
  // Protocol errors end the connection; ssh2 would otherwise throw them.
  client.on("error", () => {});
  client.on("authentication", (ctx) => {
    if (fault === "reject-auth") return ctx.reject(["publickey"]);
    const decision = decideAuth(ctx, settings.user, settings.authorizedKeys);
    if (decision === "reject") return ctx.reject(["publickey"]);
    ctx.accept();
  });
  client.on("ready", () => {
    client.on("session", (accept) => {
      const session = accept();
      // shell, exec, pty and the like have no listener, so ssh2 refuses them.
      session.on("sftp", (acceptSftp, rejectSftp) => {
        if (fault === "sftp-refused") return rejectSftp();
        const sftp = acceptSftp();
        serveSftp(sftp, {
          tree: new RemoteTree({ remoteDir: settings.remoteDir, files: settings.files, fault }),
          fault,
          owner: settings.user,
          dropConnection: () => dropAfterFlush(socket),
        });
      });
    });
  });
}

/**
 * Resets the connection once what was already sent has left, as a dropped line
 * would. An empty write's callback runs once every earlier write is flushed;
 * "drain" would not do: it is emitted only after a write that filled the
 * buffer, so with a few bytes still queued below the high-water mark the reset
 * never came and the client waited for its answers until it timed out.
 */
function dropAfterFlush(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writableLength === 0) socket.resetAndDestroy();
  else socket.write(Buffer.alloc(0), () => socket.resetAndDestroy());
}
