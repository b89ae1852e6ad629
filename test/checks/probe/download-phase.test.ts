/**
 * The download phase when the connection is gone: a request sent after the
 * drop is never answered, so the phase must not wait for one. It fails at
 * once with connection-lost, naming the file, and leaves no temporary file.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SFTPWrapper } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PhaseContext, PhaseOptions } from "../../../checks/probe/phase";
import { download } from "../../../checks/probe/phases/download";
import { SshSession } from "../../../checks/probe/sshSession";
import { startOpenSsh, type OpenSshServer } from "../../support/sshd";
import { newUserKey, payload, tempDir, type TestKey } from "../../support/facility";

describe("download phase after the connection is lost", () => {
  const dir = tempDir("download-phase");
  let key: TestKey;
  let server: OpenSshServer;

  beforeAll(async () => {
    key = newUserKey(dir);
    server = await startOpenSsh({ authorizedKeys: [key.publicLine], files: { TP001: payload(48 * 1024, 1) } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function loggedIn(): Promise<{ ssh: SshSession; sftp: SFTPWrapper }> {
    const ssh = new SshSession();
    ssh.client.connect({ host: server.host, port: server.port, username: server.user, privateKey: readFileSync(key.privatePath) });
    await ssh.ready;
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) => ssh.client.sftp((err, s) => (err ? reject(err) : resolve(s))));
    return { ssh, sftp };
  }

  function context(downloadDir: string): PhaseContext {
    return {
      opts: { downloadDir, download: true } as unknown as PhaseOptions,
      target: { site: "primary", host: server.host, port: server.port },
      // The phase's own timeout is far away: only the lost connection can end it in time.
      signal: new AbortController().signal,
      timeoutMs: 600_000,
      evidence: { downloads: [] },
      own: () => undefined,
      sshError: (err: unknown) => err as never,
    } as PhaseContext;
  }

  it("a connection dropped before the download starts fails it with connection-lost, and nothing is left", async () => {
    const { ssh, sftp } = await loggedIn();
    const closed = new Promise<void>((resolve) => ssh.client.once("close", () => resolve()));
    ssh.client.destroy();
    await closed;
    const downloadDir = join(dir, "dropped-before");
    const files = [{ name: "TP001", path: join(server.remoteDir, "TP001"), size: 48 * 1024 }];
    await expect(download.run({ ssh, sftp, files, roundTripMs: 0.5 }, context(downloadDir))).rejects.toMatchObject({
      code: "connection-lost",
      message: expect.stringMatching(/^TP001: connection lost mid-transfer \(connection closed\)$/),
    });
    expect(readdirSync(downloadDir)).toEqual([]);
  });

  it("SshSession.onFailure: called once with the first error, at once when one is already known, never after stopping", async () => {
    const { ssh } = await loggedIn();
    const seen: string[] = [];
    const stop = ssh.onFailure((err) => seen.push(`a:${err.message}`));
    const stopped = ssh.onFailure((err) => seen.push(`b:${err.message}`));
    stopped();
    const closed = new Promise<void>((resolve) => ssh.client.once("close", () => resolve()));
    ssh.client.destroy();
    await closed;
    ssh.onFailure((err) => seen.push(`c:${err.message}`));
    stop();
    expect(seen).toEqual(["a:connection closed", "c:connection closed"]);
  });
});
