/**
 * Network and server faults against the real OpenSSH sshd (internal-sftp),
 * arranged on loopback with the harness: closed ports, the blackhole and
 * never-forward proxies, a proxy that cuts the line after N bytes, a server
 * frozen with SIGSTOP, files changed under the server's feet, a server that
 * refuses the sftp subsystem and one serving a non-root user (so that file
 * permissions apply). Each gives the exact phase and cause within its timeout.
 */
import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { KexAlgorithm } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../checks/config";
import { loadUserKey } from "../../checks/keys";
import { probeEndpoint, type PhaseEvent } from "../../checks/probe";
import type { CauseCode, PhaseName, PhaseResult } from "../../checks/report";
import { summariseSites } from "../../checks/report";
import { buildReport, endpointDownloadDir, runSites, type RunContext, type SiteRun } from "../../checks/run";
import { startProxy, type TcpProxy } from "../support/proxy";
import { fingerprintOfPublicKey, knownHostsLineFor, pickFreePort, readBanner, startOpenSsh, type OpenSshServer } from "../support/sshd";
import { contextFor, makeConfig, newUserKey, payload, tempDir, type TestKey } from "../support/facility";
import { firstFailure, phaseStatuses, temporaryFiles, waitUntil, withinTimeout } from "../support/cli";

const TIMEOUTS = { connectMs: 500, handshakeMs: 1500, operationMs: 1500, transferMs: 2500 };
const PASSPHRASE = "correct horse battery staple";
const BIG = 4 * 1024 * 1024 + 3;

/** Every process below `pid`, from /proc (sshd forks a monitor and a session child per connection). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    for (const [child, parent] of parentOf) {
      if (parent !== p) continue;
      out.push(child);
      todo.push(child);
    }
  }
  return out;
}

/** The listening sshd of a harness server: the process started with that server's sshd_config. */
function sshdPid(server: OpenSshServer): number {
  const config = join(dirname(server.remoteDir), "sshd_config");
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // sshd rewrites its title ("sshd: /usr/sbin/sshd -D -e -f <config> [listener] …"), so match within it.
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ").includes(` -f ${config}`)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no sshd running with ${config}`);
}

function expectFailure(run: SiteRun, phase: PhaseName, code: CauseCode): PhaseResult {
  const e = run.endpoints[0]!;
  const failed = firstFailure(e.phases)!;
  expect({ phase: failed?.name, code: failed?.code }).toEqual({ phase, code });
  expect(e.verdict).toBe("fail");
  const idx = e.phases.findIndex((p) => p.name === phase);
  expect(e.phases.slice(0, idx).every((p) => p.status === "pass")).toBe(true);
  // Nothing after the failure passes, except a clean logout after an sftp, list or download failure.
  for (const p of e.phases.slice(idx + 1)) if (p.name !== "logout") expect(p.status).toBe("skip");
  expect(failed.timeoutMs).toBeGreaterThan(0);
  expect(withinTimeout(failed)).toBe(true);
  return failed;
}

describe("network and server faults against real OpenSSH", () => {
  const dir = tempDir("openssh-faults");
  let key: TestKey;
  let encrypted: string;
  let server: OpenSshServer;
  let noSftp: OpenSshServer;
  let restricted: OpenSshServer;
  const proxies: TcpProxy[] = [];
  const files = { TP001: payload(70_001, 1), TP002: payload(5000, 2), BIG: payload(BIG, 3) };

  beforeAll(async () => {
    key = newUserKey(dir);
    encrypted = join(dir, "id_encrypted");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", PASSPHRASE, "-C", "enc", "-f", encrypted]);
    const encryptedPublic = readFileSync(`${encrypted}.pub`, "utf8").trim();
    [server, noSftp, restricted] = await Promise.all([
      startOpenSsh({ bindHost: "127.0.151.141", authorizedKeys: [key.publicLine, encryptedPublic], files }),
      startOpenSsh({ bindHost: "127.0.151.142", authorizedKeys: [key.publicLine], files, sftpSubsystem: false }),
      // A login other than root, so that file modes are enforced on the server.
      startOpenSsh({
        bindHost: "127.0.152.141",
        authorizedKeys: [key.publicLine],
        files: { TP001: payload(100, 4), TP002: payload(10, 5) },
        user: "nobody",
      }),
    ]);
    // nobody must be able to reach its served folder and read its authorized_keys.
    chmodSync(dirname(restricted.remoteDir), 0o755);
    chmodSync(join(dirname(restricted.remoteDir), "authorized_keys"), 0o644);
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all([server?.stop(), noSftp?.stop(), restricted?.stop()]);
  });

  let n = 0;
  /** A config whose primary site is the given host:port entries; known_hosts pins `pins`. */
  function context(
    hosts: string[],
    pins: string,
    extra: Record<string, unknown> = {},
    runExtra: Partial<RunContext> = {},
  ): RunContext & { config: Config } {
    const config = makeConfig(dir, {
      user: server.user,
      identityFile: key.privatePath,
      remoteDir: server.remoteDir,
      downloadDir: `./dl-${++n}`,
      knownHostsFile: `./known_hosts-${n}`,
      files: ["TP001", "TP002"],
      sites: { primary: { hosts }, secondary: { hosts: ["127.0.0.1:1"] } },
      timeouts: TIMEOUTS,
      ...extra,
    });
    return { ...contextFor(config, pins), ...runExtra };
  }
  const at = (s: { host: string; port: number }) => `${s.host}:${s.port}`;
  const pinFor = (host: string, port: number, s: OpenSshServer = server) => `${knownHostsLineFor(host, port, s.hostKeyPublic)}\n`;
  async function proxy(opts: Parameters<typeof startProxy>[0]): Promise<TcpProxy> {
    const p = await startProxy(opts);
    proxies.push(p);
    return p;
  }
  const noLeftovers = (ctx: { config: Config }) => expect(temporaryFiles(ctx.config.downloadDir)).toEqual([]);

  it("port refused: tcp fails with refused at once", async () => {
    const port = await pickFreePort("127.0.151.141");
    const ctx = context([`127.0.151.141:${port}`], "");
    const run = await runSites(ctx, ["primary"], { download: true });
    const f = expectFailure(run, "tcp", "refused");
    expect(f.cause).toContain(`connection refused by 127.0.151.141:${port}`);
    expect(f.timeoutMs).toBe(TIMEOUTS.connectMs);
  });

  it("SYNs dropped (a full accept queue): tcp times out at connectMs", async () => {
    const hole = await proxy({ targetHost: server.host, targetPort: server.port, mode: "blackhole" });
    const ctx = context([at(hole)], pinFor(hole.host, hole.port));
    const run = await runSites(ctx, ["primary"], { download: true });
    const f = expectFailure(run, "tcp", "timeout");
    expect(f.cause).toBe(`no answer to TCP connect within ${TIMEOUTS.connectMs} ms: packets to ${at(hole)} are dropped or filtered`);
    expect(f.timeoutMs).toBe(TIMEOUTS.connectMs);
    expect(f.ms).toBeGreaterThanOrEqual(TIMEOUTS.connectMs - 5);
  });

  it("accepts but never sends a banner (a proxy that never forwards): banner no-banner at handshakeMs", async () => {
    const mute = await proxy({ targetHost: server.host, targetPort: server.port, mode: "never-forward" });
    const run = await runSites(context([at(mute)], pinFor(mute.host, mute.port)), ["primary"], { download: true });
    const f = expectFailure(run, "banner", "no-banner");
    expect(f.cause).toMatch(new RegExp(`^no SSH banner within ${TIMEOUTS.handshakeMs} ms`));
    expect(f.timeoutMs).toBe(TIMEOUTS.handshakeMs);
  });

  it("closes the connection during key exchange: hostkey connection-closed, OpenSSH's banner recorded", async () => {
    const banner = (await readBanner(server.host, server.port, 2000))!;
    expect(banner).toMatch(/^SSH-2\.0-OpenSSH/);
    // The banner line and a few bytes of KEXINIT get through, then the line is cut.
    const cut = await proxy({
      targetHost: server.host,
      targetPort: server.port,
      mode: "drop-after-bytes",
      dropAfterBytes: banner.length + 2 + 16,
    });
    const run = await runSites(context([at(cut)], pinFor(cut.host, cut.port)), ["primary"], { download: true });
    const f = expectFailure(run, "hostkey", "connection-closed");
    expect(f.cause).toMatch(/connection closed by the server during key exchange/);
    expect(run.endpoints[0]!.banner).toBe(banner);
  });

  /** One probe of the harness sshd, pinned, downloading TP001, that offers only these key exchange methods. */
  async function probeOfferingKex(kex: KexAlgorithm[], downloadDir: string) {
    const ctx = context([at(server)], pinFor(server.host, server.port));
    return probeEndpoint({
      target: { site: "primary", host: server.host, port: server.port },
      user: server.user,
      key: ctx.key,
      knownHosts: ctx.knownHosts,
      timeouts: ctx.config.timeouts,
      remoteDir: server.remoteDir,
      files: ["TP001"],
      download: true,
      downloadDir: join(dir, downloadDir),
      algorithms: { kex },
    });
  }

  it("no common algorithm: hostkey no-common-algorithm when the client offers only what OpenSSH 9 dropped", async () => {
    const r = await probeOfferingKex(["diffie-hellman-group1-sha1"], "dl-nokex");
    const f = expectFailure({ endpoints: [r.report], downloads: [...r.downloads], results: [r] }, "hostkey", "no-common-algorithm");
    expect(f.cause).toMatch(/no matching key exchange algorithm/i);
    // What each side offered: the client's one method, and the server's list as OpenSSH sent it.
    expect(f.cause).toMatch(
      /KEX method: this client offered diffie-hellman-group1-sha1(, ext-info-c)?(, kex-strict-c-v00@openssh\.com)?; the server offered [^;]*curve25519-sha256/,
    );
    expect(f.cause).not.toMatch(/the server offered [^;]*diffie-hellman-group1-sha1/);
    expect(r.downloads).toEqual([]);
  });

  it("an algorithm ssh2 does not know: hostkey fails naming it, after the banner was read, and nothing is left running", async () => {
    const r = await probeOfferingKex(["bogus-kex" as KexAlgorithm], "dl-badkex");
    const phases = phaseStatuses(r.report.phases);
    expect(phases.slice(0, 3)).toEqual(["tcp:pass", "banner:pass", "hostkey:fail"]);
    expect(r.report.banner).toMatch(/^SSH-2\.0-OpenSSH/);
    expect(r.report.phases[2]!.cause).toMatch(/bogus-kex/);
    expect(r.downloads).toEqual([]);
  });

  it("a key that needs a passphrase: auth fails with passphrase-missing or passphrase-wrong, and passes with the right one", async () => {
    const pins = pinFor(server.host, server.port);
    const base = { identityFile: encrypted, passphraseEnv: "HKEX_TEST_PASSPHRASE" };
    const load = (env: NodeJS.ProcessEnv) => {
      const ctx = context([at(server)], pins, base);
      return { ...ctx, key: loadUserKey(ctx.config, env) };
    };
    const missing = await runSites(load({}), ["primary"], { download: false });
    expect(expectFailure(missing, "auth", "passphrase-missing").cause).toContain("HKEX_TEST_PASSPHRASE");
    const wrong = await runSites(load({ HKEX_TEST_PASSPHRASE: "not it" }), ["primary"], { download: false });
    expect(expectFailure(wrong, "auth", "passphrase-wrong").cause).not.toContain("not it");
    const right = await runSites(load({ HKEX_TEST_PASSPHRASE: PASSPHRASE }), ["primary"], { download: true });
    expect(right.endpoints[0]!.verdict).toBe("pass");
    // The fingerprint of an encrypted key is known from its .pub even when it cannot be opened.
    expect(missing.endpoints[0]!.userKeyFingerprint).toBe(right.endpoints[0]!.userKeyFingerprint);
  });

  it("SFTP subsystem refused: sftp fails with sftp-refused, then logs out", async () => {
    const run = await runSites(
      context([at(noSftp)], pinFor(noSftp.host, noSftp.port, noSftp), { remoteDir: noSftp.remoteDir }),
      ["primary"],
      { download: true },
    );
    const f = expectFailure(run, "sftp", "sftp-refused");
    expect(f.cause).toMatch(/the server refused the SFTP subsystem/);
    expect(run.endpoints[0]!.phases.find((p) => p.name === "logout")?.status).toBe("pass");
  });

  it("permission denied on the file (and on the folder) for a non-root login", async () => {
    const pins = pinFor(restricted.host, restricted.port, restricted);
    const locked = join(restricted.remoteDir, "TP001");
    chmodSync(locked, 0o000);
    const ctx = context([at(restricted)], pins, { user: "nobody", remoteDir: restricted.remoteDir });
    const run = await runSites(ctx, ["primary"], { download: true });
    expect(expectFailure(run, "download", "permission-denied").cause).toBe("TP001: permission denied");
    expect(run.endpoints[0]!.phases.find((p) => p.name === "logout")?.status).toBe("pass");
    // The files download side by side: TP002 arrives and is verified, the locked TP001 never does.
    expect(run.downloads.map((d) => d.file)).toEqual(["TP002"]);
    noLeftovers(ctx);

    const closedDir = join(restricted.remoteDir, "closed");
    mkdirSync(closedDir, { mode: 0o000 });
    chmodSync(closedDir, 0o000);
    const folder = await runSites(context([at(restricted)], pins, { user: "nobody", remoteDir: closedDir }), ["primary"], {
      download: true,
    });
    expect(expectFailure(folder, "list", "permission-denied").cause).toContain("permission denied");
  });

  it("connection dropped mid-transfer: download connection-lost, no partial file, no logout attempt", async () => {
    const cut = await proxy({ targetHost: server.host, targetPort: server.port, mode: "drop-after-bytes", dropAfterBytes: 400_000 });
    const ctx = context([at(cut)], pinFor(cut.host, cut.port), { files: ["BIG"] });
    const run = await runSites(ctx, ["primary"], { download: true });
    const f = expectFailure(run, "download", "connection-lost");
    expect(f.cause).toMatch(/^BIG: connection lost mid-transfer/);
    expect(run.endpoints[0]!.phases.find((p) => p.name === "logout")?.status).toBe("skip");
    expect(existsSync(join(endpointDownloadDir(ctx.config.downloadDir, undefined, "primary", cut.host, cut.port), "BIG"))).toBe(false);
    noLeftovers(ctx);
  });

  /** A slow line (small reads, one at a time, through a latency proxy), so a test can act mid-transfer. */
  async function slowTransfer(onMidTransfer: (ctx: RunContext & { config: Config }, folder: string) => void) {
    const slow = await proxy({ targetHost: server.host, targetPort: server.port, latencyMs: 2 });
    const ctx = context([at(slow)], pinFor(slow.host, slow.port), { files: ["BIG"] }, { tuning: { chunkSize: 16 * 1024, concurrency: 1 } });
    const folder = endpointDownloadDir(ctx.config.downloadDir, undefined, "primary", slow.host, slow.port);
    const partialHasData = () =>
      existsSync(folder) && readdirSync(folder).some((f) => f.endsWith(".partial") && statSync(join(folder, f)).size > 0);
    const running = runSites(ctx, ["primary"], { download: true });
    await waitUntil(partialHasData, 2);
    onMidTransfer(ctx, folder);
    return { ctx, folder, run: await running };
  }

  it("a server that stalls mid-transfer (sshd frozen with SIGSTOP): download transfer-timeout at transferMs", async () => {
    let frozen: number[] = [];
    try {
      const { ctx, folder, run } = await slowTransfer(() => {
        frozen = descendants(sshdPid(server));
        expect(frozen.length).toBeGreaterThan(0);
        for (const pid of frozen) process.kill(pid, "SIGSTOP");
      });
      const f = expectFailure(run, "download", "transfer-timeout");
      expect(f.cause).toBe(`download timed out after ${TIMEOUTS.transferMs} ms`);
      expect(f.timeoutMs).toBe(TIMEOUTS.transferMs);
      expect(existsSync(join(folder, "BIG"))).toBe(false);
      noLeftovers(ctx);
    } finally {
      for (const pid of frozen) {
        try {
          process.kill(pid, "SIGCONT");
        } catch {
          // already gone
        }
      }
    }
  });

  it("a file that shrinks while it downloads: download size-mismatch, nothing kept", async () => {
    const path = join(server.remoteDir, "BIG");
    try {
      const { ctx, folder, run } = await slowTransfer(() => truncateSync(path, 1000));
      expect(expectFailure(run, "download", "size-mismatch").cause).toMatch(/^BIG: the file ended at \d+ bytes, but its size was 4194307/);
      expect(existsSync(join(folder, "BIG"))).toBe(false);
      noLeftovers(ctx);
    } finally {
      writeFileSync(path, files.BIG);
    }
  });

  it("a file that grows between the listing and the download: download size-mismatch", async () => {
    const path = join(server.remoteDir, "TP002");
    try {
      const ctx = context(
        [at(server)],
        pinFor(server.host, server.port),
        { files: ["TP002"] },
        {
          onEvent: (e: PhaseEvent) => {
            if (e.kind === "start" && e.phase === "download") appendFileSync(path, "one more line\n");
          },
        },
      );
      const run = await runSites(ctx, ["primary"], { download: true });
      expect(expectFailure(run, "download", "size-mismatch").cause).toBe("TP002: size changed from 5000 (listing) to 5014 bytes (open)");
      noLeftovers(ctx);
    } finally {
      writeFileSync(path, files.TP002);
    }
  });

  it("one host of two down: the site is degraded (not passed, not failed); both down: failed", async () => {
    const [free1, free2] = await Promise.all([pickFreePort("127.0.151.142"), pickFreePort("127.0.152.142")]);
    const one = await runSites(context([at(server), `127.0.151.142:${free1}`], pinFor(server.host, server.port)), ["primary"], {
      download: true,
    });
    expect(one.endpoints.map((e) => e.verdict)).toEqual(["pass", "fail"]);
    expect(one.endpoints[1]!.phases[0]).toMatchObject({ name: "tcp", status: "fail", code: "refused" });
    const report = buildReport({ kind: "check", startedAt: "", endpoints: one.endpoints, downloads: one.downloads, warnings: [] });
    expect(report.sites).toEqual([{ site: "primary", status: "degraded", endpoints: 2, passed: 1 }]);
    expect(report.verdict).toBe("fail");
    expect(one.downloads.map((d) => d.file)).toEqual(["TP001", "TP002"]);

    const none = await runSites(context([`127.0.151.142:${free1}`, `127.0.152.142:${free2}`], ""), ["primary"], { download: true });
    expect(summariseSites(none.endpoints)).toEqual([{ site: "primary", status: "fail", endpoints: 2, passed: 0 }]);
    expect(none.endpoints.map((e) => firstFailure(e.phases)?.code)).toEqual(["refused", "refused"]);
  });

  it("an unknown host key and a changed one both stop before auth; nothing is downloaded", async () => {
    const other = newUserKey(dir, "not_the_host_key");
    const unknown = await runSites(context([at(server)], ""), ["primary"], { download: true });
    const u = expectFailure(unknown, "hostkey", "hostkey-unknown");
    expect(u.cause).toContain(server.hostKeyFingerprint);
    const changedCtx = context([at(server)], `[${server.host}]:${server.port} ${other.publicLine}\n`);
    const changed = await runSites(changedCtx, ["primary"], { download: true });
    const c = expectFailure(changed, "hostkey", "hostkey-mismatch");
    const pinnedFp = fingerprintOfPublicKey(other.publicLine);
    expect(c.cause).toContain(`presented ${server.hostKeyFingerprint}, pinned ${pinnedFp}`);
    expect(changed.endpoints[0]!.hostKey).toMatchObject({
      status: "mismatch",
      fingerprint: server.hostKeyFingerprint,
      expected: [pinnedFp],
    });
    for (const run of [unknown, changed]) {
      expect(run.downloads).toEqual([]);
      expect(run.endpoints[0]!.phases.filter((p) => p.status === "skip").map((p) => p.name)).toEqual([
        "auth",
        "sftp",
        "list",
        "download",
        "logout",
      ]);
    }
    expect(existsSync(changedCtx.config.downloadDir)).toBe(false);
  });
});
