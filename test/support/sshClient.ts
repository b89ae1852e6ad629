/** Raw ssh2 / net clients for the simulator tests: short timers, loopback only. */
import { connect, type Socket } from "node:net";
import { Client, utils, type ConnectConfig, type SFTPWrapper } from "ssh2";
import { HKEX_SITES, type SiteTable } from "../../catalogue";
import { startSimulator, type RunningSimulator, type SimulatedEndpoint, type SimulatorOptions } from "../../checks/simulator";
import { fingerprintOf } from "../../checks/simulator/keys";
import { generateEd25519KeyPair } from "../../checks/keygen";
import { fromCallback } from "../../core/callback";

export const userKey = generateEd25519KeyPair("test-user");
export const otherKey = generateEd25519KeyPair("someone-else");

/** One endpoint of the catalogue's secondary site only: enough for most tests. */
const ONE_SITE: SiteTable = Object.freeze({
  primary: { ...HKEX_SITES.primary, hosts: [] },
  secondary: { ...HKEX_SITES.secondary, hosts: [HKEX_SITES.secondary.hosts[1]!] },
});

export function start(opts: Partial<SimulatorOptions> = {}): Promise<RunningSimulator> {
  return startSimulator({ port: 0, sites: ONE_SITE, authorizedKeys: [userKey.public], user: "tester", ...opts });
}

export interface Session {
  readonly client: Client;
  readonly hostKeyFingerprint: string;
}

/** Connects and authenticates; rejects with ssh2's error (err.level says which layer). */
export function sshConnect(ep: Pick<SimulatedEndpoint, "bindHost" | "port">, extra: Partial<ConnectConfig> = {}): Promise<Session> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let hostKeyFingerprint = "";
    client.on("ready", () => resolve({ client, hostKeyFingerprint }));
    client.on("error", (err) => {
      client.end();
      reject(err);
    });
    client.on("close", () => reject(Object.assign(new Error("closed before ready"), { level: "closed" })));
    client.connect({
      host: ep.bindHost,
      port: ep.port,
      username: "tester",
      privateKey: userKey.private,
      readyTimeout: 3000,
      hostVerifier: (key: Buffer) => {
        hostKeyFingerprint = fingerprintOf(`ssh-ed25519 ${key.toString("base64")}`);
        return true;
      },
      ...extra,
    });
  });
}

export function openSftp(client: Client): Promise<SFTPWrapper> {
  return fromCallback<SFTPWrapper>((cb) => client.sftp(cb));
}

export async function sftpSession(ep: SimulatedEndpoint): Promise<{ client: Client; sftp: SFTPWrapper }> {
  const { client } = await sshConnect(ep);
  return { client, sftp: await openSftp(client) };
}

/** Promisifies one SFTPWrapper call. */
export const call = fromCallback;

export async function readAt(sftp: SFTPWrapper, handle: Buffer, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const bytesRead = await fromCallback<number>((cb) => sftp.read(handle, buf, 0, length, position, cb));
  return buf.subarray(0, bytesRead);
}

/** Reads a whole remote file through one handle, chunk by chunk, until EOF. */
export async function readAll(sftp: SFTPWrapper, path: string, chunk = 32 * 1024): Promise<Buffer> {
  const handle = await call<Buffer>((cb) => sftp.open(path, "r", cb));
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const got = await readAt(sftp, handle, pos, chunk).catch((err: { code?: number }) => {
      if (err.code === utils.sftp.STATUS_CODE.EOF) return Buffer.alloc(0);
      throw err;
    });
    if (got.length === 0) break;
    parts.push(got);
    pos += got.length;
  }
  await call((cb) => sftp.close(handle, cb));
  return Buffer.concat(parts);
}

/** What a raw TCP client sees: bytes received and how the connection ended, within `ms`. */
export function rawProbe(
  host: string,
  port: number,
  ms: number,
  send?: string,
): Promise<{ data: Buffer; ended: "timeout" | "end" | "error"; error?: NodeJS.ErrnoException; connected: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let connected = false;
    const s: Socket = connect({ host, port });
    const finish = (ended: "timeout" | "end" | "error", error?: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ data: Buffer.concat(chunks), ended, error, connected });
    };
    const timer = setTimeout(() => finish("timeout"), ms);
    s.on("connect", () => {
      connected = true;
      if (send) s.write(send);
    });
    s.on("data", (d) => chunks.push(d));
    s.on("end", () => finish("end"));
    s.on("error", (e) => finish("error", e));
  });
}
