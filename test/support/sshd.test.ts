import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { Client, type ConnectConfig, type SFTPWrapper } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxy } from "./proxy";
import {
  fingerprintOfPublicKey,
  knownHostsLineFor,
  pickFreePort,
  readBanner,
  renderSshdConfig,
  startOpenSsh,
  type OpenSshServer,
} from "./sshd";
import { generateEd25519KeyPair } from "../../checks/keygen";

const execFileAsync = promisify(execFile);

const ALIAS_HOST = "127.0.151.141";
const clientKey = generateEd25519KeyPair("harness-test");
const strangerKey = generateEd25519KeyPair("stranger");
const reportBytes = randomBytes(256 * 1024 + 17);
const files = {
  "hello.txt": Buffer.from("hello from the served dir\n"),
  "reports/DTRR_20250103.csv": reportBytes,
};

function connectClient(config: ConnectConfig): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once("ready", () => resolve(client));
    client.once("error", (error) => {
      client.end();
      reject(error);
    });
    client.connect({ readyTimeout: 10_000, ...config });
  });
}

function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp))));
}

function call<T>(fn: (callback: (error: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value))));
}

/** Runs OpenSSH's sftp with `batch` on stdin; resolves with stdout, rejects with stderr. */
function runSftpBatch(args: string[], batch: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("sftp", ["-b", "-", ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`sftp exited ${code}: ${stderr}`))));
    child.stdin.end(batch);
  });
}

/** Command lines of processes whose arguments mention `needle`. */
function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmdline.includes(needle)) found.push(cmdline);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

describe("startOpenSsh on a loopback alias with an automatic port", () => {
  let server: OpenSshServer;
  const sessionConfig = (): ConnectConfig => ({
    host: server.host,
    port: server.port,
    username: server.user,
    privateKey: clientKey.private,
  });

  beforeAll(async () => {
    server = await startOpenSsh({ bindHost: ALIAS_HOST, authorizedKeys: [clientKey.public], files });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("reports where it listens", () => {
    expect(server.host).toBe(ALIAS_HOST);
    expect(server.port).toBeGreaterThan(0);
    expect(server.knownHostsLine).toBe(`[${ALIAS_HOST}]:${server.port} ${server.hostKeyPublic.split(" ").slice(0, 2).join(" ")}`);
    expect(server.hostKeyPublic).toMatch(/^ssh-ed25519 AAAA/);
  });

  it("serves an SSH-2.0 banner", async () => {
    expect(await readBanner(server.host, server.port, 5_000)).toMatch(/^SSH-2\.0-OpenSSH_/);
  });

  it("reports the host key fingerprint as ssh-keygen computes it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hkex-fp-"));
    try {
      await writeFile(join(dir, "key.pub"), `${server.hostKeyPublic}\n`);
      const { stdout } = await execFileAsync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "key.pub")]);
      expect(stdout.split(" ")[1]).toBe(server.hostKeyFingerprint);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("lets the authorised key in, starting in remoteDir, and serves the files byte-exact", async () => {
    let offeredFingerprint = "";
    const client = await connectClient({
      ...sessionConfig(),
      hostVerifier: (key: Buffer) => {
        offeredFingerprint = fingerprintOfPublicKey(`ssh-ed25519 ${key.toString("base64")}`);
        return offeredFingerprint === server.hostKeyFingerprint;
      },
    });
    try {
      expect(offeredFingerprint).toBe(server.hostKeyFingerprint);
      const sftp = await openSftp(client);
      expect(await call<string>((cb) => sftp.realpath(".", cb))).toBe(server.remoteDir);
      const names = (await call<{ filename: string }[]>((cb) => sftp.readdir(".", cb))).map((e) => e.filename).sort();
      expect(names).toEqual(["hello.txt", "reports"]);
      const nested = await call<{ filename: string; attrs: { size: number } }[]>((cb) => sftp.readdir("reports", cb));
      expect(nested.map((e) => [e.filename, e.attrs.size])).toEqual([["DTRR_20250103.csv", reportBytes.length]]);
      const downloaded = await call<Buffer>((cb) => sftp.readFile("reports/DTRR_20250103.csv", cb));
      expect(downloaded.equals(reportBytes)).toBe(true);
      expect((await call<Buffer>((cb) => sftp.readFile(`${server.remoteDir}/hello.txt`, cb))).toString()).toBe(
        "hello from the served dir\n",
      );
    } finally {
      client.end();
    }
  });

  it("rejects a key that is not authorised", async () => {
    const error = await connectClient({ ...sessionConfig(), privateKey: strangerKey.private }).then(
      (client) => {
        client.end();
        throw new Error("a stranger's key was let in");
      },
      (reason: Error & { level?: string }) => reason,
    );
    expect(error.level).toBe("client-authentication");
  });

  it("works with the OpenSSH sftp client and the known_hosts line, strict host key checking on", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hkex-sftp-client-"));
    try {
      const keyPath = join(dir, "id_ed25519");
      await writeFile(keyPath, clientKey.private);
      await chmod(keyPath, 0o600);
      const knownHosts = join(dir, "known_hosts");
      await writeFile(knownHosts, `${server.knownHostsLine}\n`);
      const localCopy = join(dir, "copy.csv");
      const output = await runSftpBatch(
        [
          "-F",
          "/dev/null",
          "-i",
          keyPath,
          "-P",
          String(server.port),
          "-o",
          "BatchMode=yes",
          "-o",
          "IdentitiesOnly=yes",
          "-o",
          "StrictHostKeyChecking=yes",
          "-o",
          `UserKnownHostsFile=${knownHosts}`,
          "-o",
          "GlobalKnownHostsFile=/dev/null",
          `${server.user}@${server.host}`,
        ],
        `pwd\nls -1\nget reports/DTRR_20250103.csv ${localCopy}\n`,
      );
      expect(output).toContain(`Remote working directory: ${server.remoteDir}`);
      expect(output).toContain("hello.txt");
      expect((await readFile(localCopy)).equals(reportBytes)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("works through a latency proxy", async () => {
    const proxy = await startProxy({ targetHost: server.host, targetPort: server.port, latencyMs: 10 });
    try {
      const client = await connectClient({ ...sessionConfig(), host: proxy.host, port: proxy.port });
      try {
        const sftp = await openSftp(client);
        const downloaded = await call<Buffer>((cb) => sftp.readFile("reports/DTRR_20250103.csv", cb));
        expect(downloaded.equals(reportBytes)).toBe(true);
      } finally {
        client.end();
      }
      expect(proxy.stats().bytesDown).toBeGreaterThan(reportBytes.length);
    } finally {
      await proxy.close();
    }
  });
});

describe("startOpenSsh on 127.0.0.1", () => {
  it("uses the port it is given and the current user by default", async () => {
    const port = await pickFreePort("127.0.0.1");
    const server = await startOpenSsh({ port, authorizedKeys: [clientKey.public] });
    try {
      expect(server.host).toBe("127.0.0.1");
      expect(server.port).toBe(port);
      expect(await readBanner("127.0.0.1", port, 5_000)).toMatch(/^SSH-2\.0-/);
    } finally {
      await server.stop();
    }
  });

  it("stop() kills sshd and its sessions and removes the temp dir", async () => {
    const server = await startOpenSsh({ authorizedKeys: [clientKey.public], files });
    const tempDir = dirname(server.remoteDir);
    // A live session: sshd forks a child for it that leaves sshd's process group.
    const client = await connectClient({
      host: server.host,
      port: server.port,
      username: server.user,
      privateKey: clientKey.private,
    });
    client.on("error", () => undefined);
    const clientClosed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    expect(processesMentioning(tempDir).length).toBeGreaterThanOrEqual(1);
    await server.stop();
    await clientClosed;
    expect(processesMentioning(tempDir)).toEqual([]);
    expect(existsSync(tempDir)).toBe(false);
    const error = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
      const socket = net.connect({ host: server.host, port: server.port });
      socket.once("connect", () => {
        socket.destroy();
        reject(new Error("something still listens after stop()"));
      });
      socket.once("error", resolve);
    });
    expect(error.code).toBe("ECONNREFUSED");
    await server.stop();
  });

  it("rejects with sshd's log when sshd exits early", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen({ host: "127.0.0.1", port: 0 }, resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startOpenSsh({ port, authorizedKeys: [clientKey.public] })).rejects.toThrow(
        /sshd exited before serving[\s\S]*Address already in use/,
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it("refuses a non-loopback bind address before starting anything", async () => {
    await expect(startOpenSsh({ bindHost: "0.0.0.0", authorizedKeys: [clientKey.public] })).rejects.toThrow(
      "'bindHost' must be a loopback address",
    );
  });

  it("refuses served file paths that leave remoteDir", async () => {
    await expect(startOpenSsh({ authorizedKeys: [clientKey.public], files: { "../escape.txt": Buffer.from("x") } })).rejects.toThrow(
      "must be a relative path inside the served dir",
    );
  });
});

describe("helpers", () => {
  it("writes known_hosts lines as OpenSSH does", () => {
    expect(knownHostsLineFor("127.0.0.1", 2222, "ssh-ed25519 AAAAkey comment")).toBe("[127.0.0.1]:2222 ssh-ed25519 AAAAkey");
    expect(knownHostsLineFor("127.0.0.1", 22, "ssh-ed25519 AAAAkey")).toBe("127.0.0.1 ssh-ed25519 AAAAkey");
  });

  it("renders an SFTP-only, key-only sshd_config that starts sessions in remoteDir", () => {
    const config = renderSshdConfig({
      host: "::1",
      port: 40022,
      hostKeyPath: "/tmp/x/key",
      pidFile: "/tmp/x/pid",
      authorizedKeysFile: "/tmp/x/ak",
      remoteDir: "/tmp/x/served",
      user: "root",
      opensshVersion: [9, 2],
    });
    expect(config).toContain("ListenAddress [::1]:40022\n");
    expect(config).toContain("PasswordAuthentication no\n");
    expect(config).toContain("ForceCommand internal-sftp -d /tmp/x/served\n");
    expect(config).not.toContain("PerSourcePenalties");
    expect(
      renderSshdConfig({
        ...{ host: "127.0.0.1", port: 1, hostKeyPath: "k", pidFile: "p", authorizedKeysFile: "a", remoteDir: "r", user: "u" },
        opensshVersion: [10, 0],
      }),
    ).toContain("PerSourcePenalties no");
  });
});
