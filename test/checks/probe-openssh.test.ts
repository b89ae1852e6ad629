/** The checks against the real OpenSSH sshd (internal-sftp) on loopback aliases. */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, realpathSync, symlinkSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSites } from "../../checks/run";
import { knownHostsLineFor, startOpenSsh, type OpenSshServer } from "../support/sshd";
import { contextFor, makeConfig, newUserKey, payload, tempDir, type TestKey } from "../support/facility";
import { phaseStatuses } from "../support/cli";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Every phase passed, the download included. */
const ALL_PASS = ["tcp:pass", "banner:pass", "hostkey:pass", "auth:pass", "sftp:pass", "list:pass", "download:pass", "logout:pass"];

describe("checks against real OpenSSH", () => {
  const dir = tempDir("openssh");
  let key: TestKey;
  let primary: OpenSshServer;
  let secondary: OpenSshServer;
  const files = { TP001: payload(70_001, 1), TP002: payload(3, 2), "TP003.big": payload(3 * 1024 * 1024 + 17, 3) };

  beforeAll(async () => {
    key = newUserKey(dir);
    [primary, secondary] = await Promise.all([
      startOpenSsh({ bindHost: "127.0.151.141", authorizedKeys: [key.publicLine], files }),
      startOpenSsh({ bindHost: "127.0.152.141", authorizedKeys: [key.publicLine], files }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([primary?.stop(), secondary?.stop()]);
  });

  function config(extra: Record<string, unknown> = {}) {
    return makeConfig(dir, {
      user: primary.user,
      identityFile: key.privatePath,
      remoteDir: primary.remoteDir,
      sites: {
        primary: { hosts: [`${primary.host}:${primary.port}`] },
        secondary: { hosts: [`${secondary.host}:${secondary.port}`] },
      },
      ...extra,
    });
  }
  const pinned = () => `${primary.knownHostsLine}\n${secondary.knownHostsLine}\n`;

  it("passes every phase on both sites and downloads byte-exact files", async () => {
    const cfg = config({ downloadDir: "./dl-all", files: ["TP001", "TP00[23]*"] });
    const run = await runSites(contextFor(cfg, pinned()), ["primary", "secondary"], { download: true });
    for (const e of run.endpoints) {
      expect(phaseStatuses(e.phases)).toEqual(ALL_PASS);
      expect(e.banner).toMatch(/^SSH-2\.0-OpenSSH/);
      expect(e.hostKey?.status).toBe("match");
    }
    expect(run.endpoints[0]!.hostKey?.fingerprint).toBe(primary.hostKeyFingerprint);
    expect(run.downloads).toHaveLength(6);
    for (const d of run.downloads) {
      const source = files[d.file as keyof typeof files];
      expect(d.bytes).toBe(source.length);
      expect(d.sha256).toBe(sha(source));
      expect(sha(readFileSync(d.path))).toBe(sha(source));
    }
    // No temporary file is left in any download folder.
    for (const d of run.downloads) expect(readdirSync(join(d.path, "..")).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("opens more SFTP channels for a download over its one login, and the file is byte-exact", async () => {
    const sessions = () => primary.logs().match(/Starting session: .* id \d+/g)?.length ?? 0;
    const logins = () => primary.logs().match(/Accepted publickey/g)?.length ?? 0;
    const [sessionsBefore, loginsBefore] = [sessions(), logins()];
    const ctx = contextFor(config({ downloadDir: "./dl-channels", files: ["TP003.big"] }), pinned(), { tuning: { channels: 3 } as never });
    const run = await runSites(ctx, ["primary"], { download: true });
    expect(run.endpoints[0]!.verdict).toBe("pass");
    expect(sha(readFileSync(run.downloads[0]!.path))).toBe(sha(files["TP003.big"]));
    // sshd logs each session it starts: the probe's own and the two the download opened, after one login.
    await expect.poll(sessions).toBe(sessionsBefore + 3);
    expect(logins()).toBe(loginsBefore + 1);
  });

  it("sends its identification line without waiting for the server's, as OpenSSH does", async () => {
    // A gate in front of sshd that passes nothing from the server until the
    // client's identification line has arrived: a client that waits for the
    // server's banner first never gets one.
    const firstFromClient: string[] = [];
    const gate = net.createServer((client) => {
      const upstream = net.connect({ host: primary.host, port: primary.port });
      const held: Buffer[] = [];
      let open = false;
      let fromClient = Buffer.alloc(0);
      upstream.on("data", (d: Buffer) => (open ? client.write(d) : held.push(d)));
      client.on("data", (d: Buffer) => {
        upstream.write(d);
        if (open) return;
        fromClient = Buffer.concat([fromClient, d]);
        const eol = fromClient.indexOf("\r\n");
        if (eol < 0) return;
        firstFromClient.push(fromClient.subarray(0, eol).toString("latin1"));
        open = true;
        for (const b of held.splice(0)) client.write(b);
      });
      for (const s of [client, upstream]) {
        s.on("error", () => undefined);
        s.on("close", () => (s === client ? upstream : client).destroy());
      }
    });
    await new Promise<void>((resolve) => gate.listen({ host: "127.0.151.142", port: 0 }, resolve));
    try {
      const port = (gate.address() as net.AddressInfo).port;
      const cfg = makeConfig(dir, {
        user: primary.user,
        identityFile: key.privatePath,
        remoteDir: primary.remoteDir,
        sites: { primary: { hosts: [`127.0.151.142:${port}`] }, secondary: { hosts: [`${secondary.host}:${secondary.port}`] } },
        downloadDir: "./dl-gate",
        files: ["TP001"],
      });
      const pin = `${knownHostsLineFor("127.0.151.142", port, primary.hostKeyPublic)}\n`;
      const run = await runSites(contextFor(cfg, pin), ["primary"], { download: true });
      expect(phaseStatuses(run.endpoints[0]!.phases)).toEqual(ALL_PASS);
      expect(run.endpoints[0]!.banner).toMatch(/^SSH-2\.0-OpenSSH/);
      expect(firstFromClient).toEqual([expect.stringMatching(/^SSH-2\.0-/)]);
      expect(sha(readFileSync(run.downloads[0]!.path))).toBe(sha(files.TP001));
    } finally {
      await new Promise<void>((resolve) => gate.close(() => resolve()));
    }
  });

  it("stops after list without --download", async () => {
    const run = await runSites(contextFor(config({ downloadDir: "./dl-none" }), pinned()), ["primary"], { download: false });
    const phases = run.endpoints[0]!.phases;
    expect(phases.find((p) => p.name === "download")).toMatchObject({ status: "skip", code: "not-requested" });
    expect(phases.find((p) => p.name === "logout")?.status).toBe("pass");
    expect(run.endpoints[0]!.listing).toEqual(expect.arrayContaining(["TP001", "TP002"]));
    expect(existsSync(join(dir, "dl-none"))).toBe(false);
  });

  it("fails hostkey on a changed key, with both fingerprints, and downloads nothing", async () => {
    const other = newUserKey(dir, "other_host");
    const wrong = `[${primary.host}]:${primary.port} ${other.publicLine}\n`;
    const run = await runSites(contextFor(config({ downloadDir: "./dl-mismatch" }), wrong), ["primary"], { download: true });
    const hk = run.endpoints[0]!.phases.find((p) => p.name === "hostkey")!;
    expect(hk.status).toBe("fail");
    expect(hk.code).toBe("hostkey-mismatch");
    expect(hk.cause).toContain(primary.hostKeyFingerprint);
    expect(run.endpoints[0]!.hostKey?.expected?.[0]).toMatch(/^SHA256:/);
    expect(run.endpoints[0]!.phases.filter((p) => p.status === "skip").map((p) => p.name)).toEqual([
      "auth",
      "sftp",
      "list",
      "download",
      "logout",
    ]);
    expect(run.downloads).toEqual([]);
    expect(existsSync(join(dir, "dl-mismatch"))).toBe(false);
  });

  it("fails hostkey when nothing is pinned", async () => {
    const run = await runSites(contextFor(config(), ""), ["secondary"], { download: false });
    expect(run.endpoints[0]!.phases.find((p) => p.name === "hostkey")).toMatchObject({ status: "fail", code: "hostkey-unknown" });
  });

  it("fails auth for a key the server does not know", async () => {
    const stranger = newUserKey(dir, "stranger");
    const run = await runSites(contextFor(config({ identityFile: stranger.privatePath }), pinned()), ["primary"], { download: false });
    const auth = run.endpoints[0]!.phases.find((p) => p.name === "auth")!;
    expect(auth).toMatchObject({ status: "fail", code: "auth-rejected" });
    expect(auth.cause).toContain(`user "${primary.user}"`);
  });

  it("names a missing file and a missing folder in list, and still logs out", async () => {
    const missingFile = await runSites(contextFor(config({ files: ["TP001", "TP404"] }), pinned()), ["primary"], { download: true });
    const list = missingFile.endpoints[0]!.phases.find((p) => p.name === "list")!;
    expect(list).toMatchObject({ status: "fail", code: "file-missing" });
    expect(list.cause).toContain('"TP404" not found');
    expect(missingFile.endpoints[0]!.phases.find((p) => p.name === "logout")?.status).toBe("pass");
    const missingDir = await runSites(contextFor(config({ remoteDir: "/nonexistent/reports" }), pinned()), ["primary"], {
      download: false,
    });
    expect(missingDir.endpoints[0]!.phases.find((p) => p.name === "list")).toMatchObject({ status: "fail", code: "folder-missing" });
  });

  it("follows an absolute symlink that points inside the remote folder, and refuses one that leads out of it", async () => {
    const folder = realpathSync(primary.remoteDir);
    symlinkSync(join(folder, "TP001"), join(primary.remoteDir, "TP101"));
    symlinkSync(join(dir, "outside"), join(primary.remoteDir, "TP102"));
    const inside = await runSites(contextFor(config({ downloadDir: "./dl-abs-link", files: ["TP101"] }), pinned()), ["primary"], {
      download: true,
    });
    expect(inside.endpoints[0]!.phases.find((p) => p.name === "list")).toMatchObject({ status: "pass" });
    expect(inside.downloads.map((d) => [d.file, d.sha256])).toEqual([["TP101", sha(files.TP001)]]);
    const outside = await runSites(contextFor(config({ downloadDir: "./dl-abs-out", files: ["TP102"] }), pinned()), ["primary"], {
      download: true,
    });
    const list = outside.endpoints[0]!.phases.find((p) => p.name === "list")!;
    expect(list).toMatchObject({ status: "fail", code: "symlink-escape" });
    expect(list.cause).toContain(`"TP102" is a symlink leading out of the remote folder (to ${join(dir, "outside")})`);
  });

  it("says a remoteDir that is a file is a file, not that it does not exist", async () => {
    const remoteDir = join(primary.remoteDir, "TP002");
    const run = await runSites(contextFor(config({ remoteDir }), pinned()), ["primary"], { download: false });
    const list = run.endpoints[0]!.phases.find((p) => p.name === "list")!;
    expect(list).toMatchObject({ status: "fail", code: "folder-missing" });
    expect(list.cause).toBe(`remote path "${remoteDir}" is a file, not a folder`);
    expect(run.endpoints[0]!.phases.find((p) => p.name === "logout")?.status).toBe("pass");
  });
});
