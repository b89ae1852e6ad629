/**
 * A tiny SFTP server that lies, for the security tests: its folder listing
 * holds whatever raw names the test gives (`../x`, absolute paths, NUL,
 * escape sequences), symlinks lead wherever the test says, and its status
 * messages carry terminal escape sequences. It serves the same bytes for any
 * file it is asked to open, so a client that followed a hostile name would
 * visibly write something. Loopback only, port 0, any public key accepted.
 */
import type { AddressInfo } from "node:net";
import { Server, utils, type Attributes, type Connection, type FileEntry } from "ssh2";
import { generateEd25519KeyPair } from "../../checks/keygen";
import { assertLoopbackHost } from "./loopback";

const { STATUS_CODE } = utils.sftp;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

export interface HostileEntry {
  /** Sent byte for byte as the READDIR filename. */
  readonly name: string;
  /** A symlink's target, answered to READLINK; REALPATH answers `realpath` (default: the target). */
  readonly symlink?: { readonly target: string; readonly realpath?: string };
}

export interface HostileOptions {
  readonly entries: readonly HostileEntry[];
  /** The folder the client asks for; REALPATH of "." answers it. */
  readonly folder?: string;
  /** Every file holds these bytes. */
  readonly content?: Buffer;
  /** When set, OPEN fails with SSH_FX_FAILURE and this message. */
  readonly openFailure?: string;
}

export interface HostileServer {
  readonly host: string;
  readonly port: number;
  readonly knownHostsLine: string;
  /** Paths the client tried to OPEN, as sent. */
  readonly opened: string[];
  close(): Promise<void>;
}

const attrs = (mode: number, size: number): Attributes => ({ mode, size, uid: 0, gid: 0, atime: 0, mtime: 0 }) as Attributes;

export async function startHostileServer(opts: HostileOptions, host = "127.0.0.1"): Promise<HostileServer> {
  assertLoopbackHost("host", host);
  const folder = opts.folder ?? "/reports";
  const content = opts.content ?? Buffer.from("HOSTILE CONTENT\n");
  // Parsed back before use: ssh2 generates an unparseable ed25519 pair about once in 256 (checks/keygen.ts).
  const hostKey = generateEd25519KeyPair();
  const opened: string[] = [];
  const connections = new Set<Connection>();
  const server = new Server({ hostKeys: [hostKey.private], ident: "OpenSSH_9.9 hostile" }, (client) => {
    connections.add(client);
    client.on("close", () => connections.delete(client));
    client.on("error", () => undefined);
    client.on("authentication", (ctx) => (ctx.method === "publickey" ? ctx.accept() : ctx.reject(["publickey"])));
    client.on("ready", () => {
      client.on("session", (accept) => {
        accept().on("sftp", (acceptSftp) => {
          const sftp = acceptSftp();
          let listed = false;
          const entryAt = (path: string) => opts.entries.find((e) => `${folder}/${e.name}` === path);
          sftp.on("REALPATH", (id, path) => {
            const e = entryAt(path);
            const real = e?.symlink ? (e.symlink.realpath ?? e.symlink.target) : path === "." ? folder : path;
            sftp.name(id, [{ filename: real, longname: real, attrs: attrs(S_IFDIR | 0o755, 0) }]);
          });
          const stat = (id: number, path: string) => {
            if (path === folder) return sftp.attrs(id, attrs(S_IFDIR | 0o755, 4096));
            sftp.attrs(id, attrs(S_IFREG | 0o644, content.length));
          };
          sftp.on("STAT", stat);
          sftp.on("LSTAT", (id, path) => (entryAt(path)?.symlink ? sftp.attrs(id, attrs(S_IFLNK | 0o777, 10)) : stat(id, path)));
          sftp.on("READLINK", (id, path) => {
            const e = entryAt(path);
            if (!e?.symlink) return sftp.status(id, STATUS_CODE.FAILURE, "not a link");
            sftp.name(id, [{ filename: e.symlink.target, longname: e.symlink.target, attrs: attrs(0, 0) }]);
          });
          sftp.on("OPENDIR", (id) => {
            listed = false;
            sftp.handle(id, Buffer.from("D"));
          });
          sftp.on("READDIR", (id) => {
            if (listed) return sftp.status(id, STATUS_CODE.EOF);
            listed = true;
            const list: FileEntry[] = opts.entries.map((e) => ({
              filename: e.name,
              longname: `-rw-r--r-- 1 hkex hkex ${content.length} Nov 15 18:30 ${e.name}`,
              attrs: e.symlink ? attrs(S_IFLNK | 0o777, 10) : attrs(S_IFREG | 0o644, content.length),
            }));
            sftp.name(id, list);
          });
          sftp.on("OPEN", (id, path) => {
            opened.push(path);
            if (opts.openFailure !== undefined) return sftp.status(id, STATUS_CODE.FAILURE, opts.openFailure);
            sftp.handle(id, Buffer.from("F"));
          });
          sftp.on("FSTAT", (id) => sftp.attrs(id, attrs(S_IFREG | 0o644, content.length)));
          sftp.on("READ", (id, _h, offset: number, length: number) => {
            if (offset >= content.length) return sftp.status(id, STATUS_CODE.EOF);
            sftp.data(id, content.subarray(offset, offset + length));
          });
          sftp.on("CLOSE", (id) => sftp.status(id, STATUS_CODE.OK));
          sftp.on("end", () => sftp.end());
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const blob = utils.parseKey(hostKey.public) as { getPublicSSH(): Buffer };
  return {
    host,
    port,
    knownHostsLine: `[${host}]:${port} ssh-ed25519 ${blob.getPublicSSH().toString("base64")}`,
    opened,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.end();
        server.close(() => resolve());
      }),
  };
}
