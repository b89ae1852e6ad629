/** Each fault switch, observed at the layer it breaks, with raw ssh2 and net clients. */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { promisify } from "node:util";
import { utils, type FileEntry, type Stats } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../../../core/errors";
import type { RunningSimulator, SimulatedEndpoint } from "../../../checks/simulator";
import { FAKE_PASSWD, sampleFiles } from "../../../checks/simulator/files";
import { GROWTH_BYTES } from "../../../checks/simulator/sftp";
import { SERVER_IDENT } from "../../../checks/simulator/ssh";
import { call, openSftp, rawProbe, readAll, readAt, sftpSession, sshConnect, start } from "../../support/sshClient";

const { STATUS_CODE } = utils.sftp;
const HOST = "10.152.14.142";
const SHORT_MS = 300;

/** "connected", "timeout" or the error code of a plain TCP connect. */
function tcpConnect(ep: SimulatedEndpoint, ms = SHORT_MS): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: ep.bindHost, port: ep.port });
    const timer = setTimeout(() => {
      const outcome = s.connecting ? "timeout" : "connected";
      s.destroy();
      resolve(outcome);
    }, ms);
    s.on("connect", () => {
      clearTimeout(timer);
      s.destroy();
      resolve("connected");
    });
    s.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code ?? "error");
    });
  });
}

function within<T>(p: Promise<T>, ms: number): Promise<T | "no answer"> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<"no answer">((r) => (timer = setTimeout(() => r("no answer"), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

let sim: RunningSimulator;
let ep: SimulatedEndpoint;
beforeAll(async () => {
  sim = await start();
  ep = sim.endpoints[0]!;
});
afterAll(() => sim.close());

describe("tcp and banner faults", () => {
  it("down: nothing listens, connect is refused; back to none listens again on the same port", async () => {
    const port = ep.port;
    await sim.setFault(HOST, "down");
    expect(ep.fault).toBe("down");
    expect(await tcpConnect(ep)).toBe("ECONNREFUSED");
    await sim.setFault(HOST, "none");
    expect(ep.port).toBe(port);
    expect(await tcpConnect(ep)).toBe("connected");
  });

  it("refuse: the connection is accepted, then reset before any byte (ECONNRESET, not ECONNREFUSED)", async () => {
    await sim.setFault(HOST, "refuse");
    const accepted = sim.stats().connections;
    const seen = await rawProbe(ep.bindHost, ep.port, SHORT_MS);
    // The reset can beat Node's own connect callback, so `connected` may be either; the code may not.
    expect(seen.data.length).toBe(0);
    expect(seen.ended).toBe("error");
    expect(seen.error?.code).toBe("ECONNRESET");
    expect(sim.stats().connections).toBe(accepted + 1);
  });

  it("silent: accepts and never sends a byte", async () => {
    await sim.setFault(HOST, "silent");
    const seen = await rawProbe(ep.bindHost, ep.port, SHORT_MS, "SSH-2.0-probe\r\n");
    expect(seen).toMatchObject({ connected: true, ended: "timeout" });
    expect(seen.data.length).toBe(0);
    await expect(sshConnect(ep, { readyTimeout: SHORT_MS })).rejects.toMatchObject({ level: "client-timeout" });
  });

  it("blackhole: connect() hangs instead of being refused", async () => {
    await sim.setFault(HOST, "blackhole");
    const before = sim.stats().connections;
    expect(await tcpConnect(ep)).toBe("timeout");
    expect(sim.stats().connections).toBe(before);
    await sim.setFault(HOST, "none");
    expect(await tcpConnect(ep)).toBe("connected");
  });

  it("non-ssh-banner: an HTTP error instead of an SSH identification line", async () => {
    await sim.setFault(HOST, "non-ssh-banner");
    const seen = await rawProbe(ep.bindHost, ep.port, SHORT_MS);
    expect(seen.data.toString()).toBe("HTTP/1.1 400 Bad Request\r\n\r\n");
    expect(seen.ended).toBe("end");
    await expect(sshConnect(ep)).rejects.toThrow();
  });
});

describe("handshake faults", () => {
  it("close-during-kex: a valid identification line, then the connection closes", async () => {
    await sim.setFault(HOST, "close-during-kex");
    const seen = await rawProbe(ep.bindHost, ep.port, SHORT_MS, "SSH-2.0-probe\r\n");
    expect(seen.data.toString()).toBe(`SSH-2.0-${SERVER_IDENT}\r\n`);
    expect(seen.ended).toBe("end");
    let hostKeyShown = false;
    await expect(sshConnect(ep, { hostVerifier: () => (hostKeyShown = true) })).rejects.toThrow();
    expect(hostKeyShown).toBe(false);
  });

  it("no-common-algorithm: the default ssh2 client fails the key exchange", async () => {
    await sim.setFault(HOST, "no-common-algorithm");
    await expect(sshConnect(ep)).rejects.toMatchObject({ level: "handshake", message: expect.stringMatching(/no matching key exchange/i) });
    // It is the offer that is the problem: a client that accepts the legacy exchange gets in.
    const { client } = await sshConnect(ep, { algorithms: { kex: ["diffie-hellman-group1-sha1"] } });
    client.end();
  });

  it("no-common-algorithm: OpenSSH's ssh finds no matching key exchange method either", async () => {
    await sim.setFault(HOST, "no-common-algorithm");
    const result = await promisify(execFile)(
      "ssh",
      [
        "-F",
        "/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-p",
        String(ep.port),
        `tester@${ep.bindHost}`,
        "true",
      ],
      { timeout: 10000 },
    ).then(
      () => ({ stderr: "" }),
      (err: { stderr: string }) => err,
    );
    expect(result.stderr).toMatch(/no matching key exchange method found/);
  });

  it("hostkey-changed: a host key other than the pinned one", async () => {
    await sim.setFault(HOST, "hostkey-changed");
    const changed = await sshConnect(ep);
    changed.client.end();
    expect(changed.hostKeyFingerprint).toMatch(/^SHA256:/);
    expect(changed.hostKeyFingerprint).not.toBe(sim.hostKeyFingerprints.secondary);
    await sim.setFault(HOST, "none");
    const pinned = await sshConnect(ep);
    pinned.client.end();
    expect(pinned.hostKeyFingerprint).toBe(sim.hostKeyFingerprints.secondary);
    expect(sim.knownHosts()).toContain(`[${ep.bindHost}]:${ep.port} ssh-ed25519`);
  });

  it("reject-auth: even the authorised key is refused", async () => {
    await sim.setFault(HOST, "reject-auth");
    await expect(sshConnect(ep)).rejects.toMatchObject({ level: "client-authentication" });
  });

  it("sftp-refused: logs in, then the sftp subsystem is refused", async () => {
    await sim.setFault(HOST, "sftp-refused");
    const { client } = await sshConnect(ep);
    try {
      await expect(openSftp(client)).rejects.toThrow();
    } finally {
      client.end();
    }
  });
});

describe("folder and file faults", () => {
  it("folder-missing: the remote folder does not exist", async () => {
    await sim.setFault(HOST, "folder-missing");
    const { client, sftp } = await sftpSession(ep);
    try {
      await expect(call((cb) => sftp.readdir(".", cb))).rejects.toMatchObject({ code: STATUS_CODE.NO_SUCH_FILE });
      await expect(call((cb) => sftp.stat("TP001", cb))).rejects.toMatchObject({ code: STATUS_CODE.NO_SUCH_FILE });
    } finally {
      client.end();
    }
  });

  it("file-missing: TP002 is absent", async () => {
    await sim.setFault(HOST, "file-missing");
    const { client, sftp } = await sftpSession(ep);
    try {
      const names = (await call<FileEntry[]>((cb) => sftp.readdir(".", cb))).map((e) => e.filename);
      expect(names).toEqual(["TP001"]);
      await expect(call((cb) => sftp.stat("TP002", cb))).rejects.toMatchObject({ code: STATUS_CODE.NO_SUCH_FILE });
      await expect(call((cb) => sftp.open("TP002", "r", cb))).rejects.toMatchObject({ code: STATUS_CODE.NO_SUCH_FILE });
    } finally {
      client.end();
    }
  });

  it("permission-denied: the folder lists but no file opens", async () => {
    await sim.setFault(HOST, "permission-denied");
    const { client, sftp } = await sftpSession(ep);
    try {
      expect(await call<FileEntry[]>((cb) => sftp.readdir(".", cb))).toHaveLength(2);
      await expect(call((cb) => sftp.open("TP001", "r", cb))).rejects.toMatchObject({ code: STATUS_CODE.PERMISSION_DENIED });
    } finally {
      client.end();
    }
  });

  it("symlink-escape: TP003 is a symlink to /etc/passwd, and the host's own file is never served", async () => {
    await sim.setFault(HOST, "symlink-escape");
    const { client, sftp } = await sftpSession(ep);
    try {
      const tp3 = (await call<FileEntry[]>((cb) => sftp.readdir(".", cb))).find((e) => e.filename === "TP003")!;
      expect((tp3.attrs as Stats).isSymbolicLink()).toBe(true);
      expect(tp3.longname).toMatch(/^lrwxrwxrwx /);
      expect((await call<Stats>((cb) => sftp.lstat("TP003", cb))).isSymbolicLink()).toBe(true);
      expect(await call<string>((cb) => sftp.readlink("TP003", cb))).toBe("/etc/passwd");
      expect((await call<Stats>((cb) => sftp.stat("TP003", cb))).isFile()).toBe(true);
      const got = await readAll(sftp, "TP003");
      expect(got.equals(FAKE_PASSWD)).toBe(true);
      let hostPasswd: Buffer | undefined;
      try {
        hostPasswd = readFileSync("/etc/passwd");
      } catch {
        hostPasswd = undefined;
      }
      if (hostPasswd) expect(got.equals(hostPasswd)).toBe(false);
      await expect(call((cb) => sftp.stat("/etc/passwd", cb))).rejects.toMatchObject({ code: STATUS_CODE.NO_SUCH_FILE });
    } finally {
      client.end();
    }
  });
});

describe("transfer faults", () => {
  const tp1 = sampleFiles().TP001;
  const half = Math.floor(tp1.length / 2);

  it("drop-mid-transfer: the connection is cut once a read reaches half of the file", async () => {
    await sim.setFault(HOST, "drop-mid-transfer");
    const { client, sftp } = await sftpSession(ep);
    const closed = new Promise<void>((r) => client.once("close", () => r()));
    const handle = await call<Buffer>((cb) => sftp.open("TP001", "r", cb));
    const received: Buffer[] = [];
    let pos = 0;
    let failure: unknown;
    for (;;) {
      try {
        const got = await readAt(sftp, handle, pos, 1000);
        received.push(got);
        pos += got.length;
      } catch (err) {
        failure = err;
        break;
      }
    }
    await closed;
    expect(failure).toBeInstanceOf(Error);
    expect(pos).toBe(half);
    expect(Buffer.concat(received).equals(tp1.subarray(0, half))).toBe(true);
  });

  it("stall-mid-transfer: reads from half onwards are never answered, the connection stays up", async () => {
    await sim.setFault(HOST, "stall-mid-transfer");
    const { client, sftp } = await sftpSession(ep);
    try {
      const handle = await call<Buffer>((cb) => sftp.open("TP001", "r", cb));
      const first = await readAt(sftp, handle, 0, tp1.length);
      expect(first.equals(tp1.subarray(0, half))).toBe(true);
      expect(await within(readAt(sftp, handle, half, 1000), SHORT_MS)).toBe("no answer");
      // Still connected: other requests are answered.
      expect((await call<Stats>((cb) => sftp.stat("TP001", cb))).size).toBe(tp1.length);
    } finally {
      client.end();
    }
  });

  it("grow-during-download: more bytes are served than STAT reported", async () => {
    await sim.setFault(HOST, "grow-during-download");
    const { client, sftp } = await sftpSession(ep);
    try {
      const listed = (await call<FileEntry[]>((cb) => sftp.readdir(".", cb))).find((e) => e.filename === "TP001")!;
      expect(listed.attrs.size).toBe(tp1.length);
      expect((await call<Stats>((cb) => sftp.stat("TP001", cb))).size).toBe(tp1.length);
      const got = await readAll(sftp, "TP001");
      expect(got.length).toBe(tp1.length + GROWTH_BYTES);
      expect(got.subarray(0, tp1.length).equals(tp1)).toBe(true);
      expect((await call<Stats>((cb) => sftp.stat("TP001", cb))).size).toBe(tp1.length + GROWTH_BYTES);
    } finally {
      client.end();
    }
  });
});

describe("switching", () => {
  it("refuses unknown hosts and faults", () => {
    expect(() => sim.setFault("10.9.9.9", "down")).toThrow(InputError);
    expect(() => sim.setFault(HOST, "explode" as never)).toThrow(/unknown fault "explode"/);
  });

  it("keeps a connection opened before a switch as it was", async () => {
    await sim.setFault(HOST, "none");
    const { client, sftp } = await sftpSession(ep);
    try {
      await sim.setFault(HOST, "permission-denied");
      expect((await readAll(sftp, "TP001")).equals(tp1Bytes())).toBe(true);
    } finally {
      client.end();
    }
  });

  it("applies faults given at start, listener faults included", async () => {
    const other = await start({ faults: { [HOST]: "blackhole" } });
    try {
      expect(other.endpoints[0]!.fault).toBe("blackhole");
      expect(await tcpConnect(other.endpoints[0]!)).toBe("timeout");
    } finally {
      await other.close();
    }
    const downAtStart = await start({ faults: { [HOST]: "down" } });
    try {
      expect(await tcpConnect(downAtStart.endpoints[0]!)).toBe("ECONNREFUSED");
      await downAtStart.setFault(HOST, "none");
      const { client } = await sshConnect(downAtStart.endpoints[0]!);
      client.end();
    } finally {
      await downAtStart.close();
    }
  });
});

function tp1Bytes(): Buffer {
  return sampleFiles().TP001;
}
