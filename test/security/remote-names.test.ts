/**
 * Hostile remote names, symlinks and messages. Names such as `../x`, absolute
 * paths, NUL or terminal escape sequences never escape the download folder
 * and never reach the terminal raw; symlinks are not followed out of the
 * remote folder. A purpose-built lying server stands in where a real one
 * cannot hold such names (`/` and NUL); real OpenSSH serves the names a Linux
 * file system can hold, and real symlinks.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../checks/report";
import { endpointDownloadDir, runSites } from "../../checks/run";
import { startOpenSsh, type OpenSshServer } from "../support/sshd";
import { contextFor, makeConfig, newUserKey, payload, tempDir, type TestKey } from "../support/facility";
import { allFileTexts, cli, filesBelow, firstFailure, writeConfig } from "../support/cli";
import { startHostileServer, type HostileEntry, type HostileServer } from "../support/hostileServer";

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex
const ANY_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Every string inside a parsed report, with where it is. */
function stringsOf(value: unknown, at = "$"): [string, string][] {
  if (typeof value === "string") return [[at, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsOf(v, `${at}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => stringsOf(v, `${at}.${k}`));
  return [];
}
const expectNoControlCharacters = (value: unknown) => expect(stringsOf(value).filter(([, s]) => ANY_CONTROL.test(s))).toEqual([]);

describe("hostile remote names (a lying server)", () => {
  const base = tempDir("hostile");
  let key: TestKey;
  const servers: HostileServer[] = [];
  /** Files outside the download folders, apart from the configs and known_hosts the tests write. */
  const outsideBefore = () => filesBelow(base).filter((f) => !/^(downloads|out-)/.test(f) && !/^(known_hosts-\d+|\w+\.yaml)$/.test(f));

  const HOSTILE: HostileEntry[] = [
    { name: "../x" },
    { name: "../../pwned" },
    { name: `${base}/pwned-absolute` },
    { name: "/etc/cron.d/pwned" },
    { name: "TP/../../x" },
    { name: "TP\\..\\x" },
    { name: ".." },
    { name: "TP\u0000001" },
    { name: "TP001\u001b[2J\u001b]0;owned\u0007" },
    { name: "TP\r\n002 looks fine" },
    { name: "TP\u009b31m" },
  ];

  beforeAll(() => {
    key = newUserKey(base);
    writeFileSync(join(base, "sentinel"), "outside the download folder\n");
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  async function hostile(opts: Parameters<typeof startHostileServer>[0]) {
    const s = await startHostileServer(opts);
    servers.push(s);
    return s;
  }
  let n = 0;
  function context(s: HostileServer, files: string[]) {
    const config = makeConfig(base, {
      identityFile: key.privatePath,
      remoteDir: "/reports",
      files,
      downloadDir: `./downloads/${++n}`,
      knownHostsFile: `./known_hosts-${n}`,
      sites: { primary: { hosts: [`${s.host}:${s.port}`] }, secondary: { hosts: ["127.0.0.1:1"] } },
      timeouts: { connectMs: 1000, handshakeMs: 3000, operationMs: 3000, transferMs: 5000 },
    });
    return contextFor(config, `${s.knownHostsLine}\n`);
  }

  it("names matching the glob but unsafe: list fails unsafe-name, each shown escaped, nothing opened or written", async () => {
    const s = await hostile({ entries: HOSTILE });
    const before = outsideBefore();
    const run = await runSites(context(s, ["TP*"]), ["primary"], { download: true });
    const e = run.endpoints[0]!;
    const f = firstFailure(e.phases)!;
    expect(f).toMatchObject({ name: "list", code: "unsafe-name" });
    expect(f.cause).toContain('skipped remote name "TP\\x00001": contains control characters');
    expect(f.cause).toContain('skipped remote name "TP001\\x1b[2J\\x1b]0;owned\\x07": contains control characters');
    expect(f.cause).toContain('skipped remote name "TP\\x0d\\x0a002 looks fine": contains control characters');
    expect(f.cause).toContain('skipped remote name "TP\\x9b31m": contains control characters');
    expectNoControlCharacters(e);
    expect(e.listing).toEqual(expect.arrayContaining(["../x", "TP\\x00001", "TP\\x9b31m"]));
    expect(s.opened).toEqual([]);
    expect(filesBelow(join(base, "downloads"))).toEqual([]);
    expect(outsideBefore()).toEqual(before);
  });

  it("a config naming a hostile path literally: refused as unsafe-name, never opened", async () => {
    const s = await hostile({ entries: HOSTILE });
    for (const pattern of ["../x", `${base}/pwned-absolute`, "TP/../../x"]) {
      const run = await runSites(context(s, [pattern]), ["primary"], { download: true });
      const f = firstFailure(run.endpoints[0]!.phases)!;
      expect(f.name).toBe("list");
      // A glob that cannot match a name with "/" finds nothing; one that does is refused.
      expect(["unsafe-name", "file-missing"]).toContain(f.code);
      expect(f.cause).not.toMatch(ANY_CONTROL);
    }
    expect(s.opened).toEqual([]);
    expect(filesBelow(join(base, "downloads"))).toEqual([]);
  });

  it("a safe name among hostile ones: only the safe one is opened and written, inside its endpoint folder", async () => {
    const s = await hostile({ entries: [...HOSTILE, { name: "TP001" }] });
    const before = outsideBefore();
    const ctx = context(s, ["TP*"]);
    const run = await runSites(ctx, ["primary"], { download: true });
    expect(run.endpoints[0]!.verdict).toBe("pass");
    expect(s.opened).toEqual(["/reports/TP001"]);
    const folder = endpointDownloadDir(ctx.config.downloadDir, undefined, "primary", s.host, s.port);
    expect(run.downloads.map((d) => d.path)).toEqual([join(folder, "TP001")]);
    expect(filesBelow(join(base, "downloads"))).toEqual([`${folder.slice(join(base, "downloads").length + 1)}/TP001`]);
    expect(outsideBefore()).toEqual(before);
  });

  it("symlinks leading out of the folder (absolute, climbing, or resolving outside) are not followed", async () => {
    const s = await hostile({
      entries: [
        { name: "TP001", symlink: { target: "/etc/passwd" } },
        { name: "TP002", symlink: { target: "../../etc/shadow" } },
        { name: "TP003", symlink: { target: "innocent", realpath: "/etc/passwd" } },
      ],
    });
    for (const name of ["TP001", "TP002", "TP003"]) {
      const ctx = context(s, [name]);
      const run = await runSites(ctx, ["primary"], { download: true });
      const f = firstFailure(run.endpoints[0]!.phases)!;
      expect(f).toMatchObject({ name: "list", code: "symlink-escape" });
      expect(f.cause).toMatch(new RegExp(`^"${name}" is a symlink leading out of the remote folder`));
      expect(filesBelow(ctx.config.downloadDir)).toEqual([]);
    }
    expect(s.opened).toEqual([]);
  });

  it("a server message with escape sequences reaches the report and the terminal escaped", async () => {
    const s = await hostile({ entries: [{ name: "TP001" }], openFailure: "\u001b[2J\u001b[32mall good, nothing to see\u0007" });
    const run = await runSites(context(s, ["TP001"]), ["primary"], { download: true });
    const f = firstFailure(run.endpoints[0]!.phases)!;
    expect(f.name).toBe("download");
    expect(f.cause).toBe("TP001: \\x1b[2J\\x1b[32mall good, nothing to see\\x07");
    expectNoControlCharacters(run.endpoints[0]);
  });

  it("through the CLI, text, JSON and TAP: no raw control character on stdout or stderr, exit 1", async () => {
    const listing = await hostile({ entries: HOSTILE });
    const message = await hostile({ entries: [{ name: "TP001" }], openFailure: "\u001b]0;pwned\u0007\u009b2J" });
    for (const [s, shown] of [
      [listing, "TP\\x9b31m"],
      [message, "\\x1b]0;pwned\\x07\\x9b2J"],
    ] as const) {
      const ctx = context(s, ["TP*"]);
      const config = writeConfig(
        base,
        {
          user: "CP0001",
          identityFile: key.privatePath,
          knownHostsFile: ctx.config.knownHostsFile,
          remoteDir: "/reports",
          files: ["TP*"],
          downloadDir: "./downloads-cli",
          sites: { primary: { hosts: [`${s.host}:${s.port}`] }, secondary: { hosts: ["127.0.0.1:1"] } },
        },
        "hostile.yaml",
      );
      for (const flags of [["--no-progress"], ["--json"], ["--format", "tap"]]) {
        const out = join(base, `out-${s.port}${flags[0]}`);
        const r = await cli(["check", "--config", config, "--site", "primary", "--download", "--report-dir", out, ...flags]);
        expect(r.code).toBe(1);
        expect(r.stdout).not.toMatch(RAW_CONTROL);
        expect(r.stderr).not.toMatch(RAW_CONTROL);
        if (flags[0] === "--no-progress") expect(`${r.stdout}${r.stderr}`).toContain(shown);
        expectNoControlCharacters(JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Report);
        for (const [file, text] of Object.entries(allFileTexts(out))) expect([file, RAW_CONTROL.test(text)]).toEqual([file, false]);
      }
    }
    expect(filesBelow(join(base, "downloads-cli"))).toEqual([]);
  }, 120_000);
});

describe("remote names and symlinks on real OpenSSH", () => {
  const dir = tempDir("openssh-names");
  let key: TestKey;
  let server: OpenSshServer;

  beforeAll(async () => {
    key = newUserKey(dir);
    server = await startOpenSsh({
      bindHost: "127.0.151.142",
      authorizedKeys: [key.publicLine],
      files: {
        "TP001\u001b[31m": payload(10, 1),
        "TP\n002": payload(10, 2),
        "TP\u009b3": payload(10, 3),
        "real/TP100": payload(500, 4),
      },
    });
    const root = join(server.remoteDir, "..");
    writeFileSync(join(root, "outside-secret"), "must never be downloaded\n");
    const served = server.remoteDir;
    symlinkSync("../outside-secret", join(served, "RL001"));
    symlinkSync(join(root, "outside-secret"), join(served, "RL002"));
    mkdirSync(join(served, "sub"));
    symlinkSync("../../outside-secret", join(served, "sub", "up"));
    symlinkSync("sub/up", join(served, "RL003"));
    symlinkSync("real/TP100", join(served, "RL100"));
  });
  afterAll(async () => {
    await server?.stop();
  });

  let n = 0;
  function context(files: string[]) {
    const config = makeConfig(dir, {
      user: server.user,
      identityFile: key.privatePath,
      remoteDir: server.remoteDir,
      files,
      downloadDir: `./dl-${++n}`,
      sites: { primary: { hosts: [`${server.host}:${server.port}`] }, secondary: { hosts: ["127.0.0.1:1"] } },
    });
    return contextFor(config, `${server.knownHostsLine}\n`);
  }

  it("file names with ESC, newline and C1 CSI: refused as unsafe-name, shown escaped, nothing written", async () => {
    const ctx = context(["TP*"]);
    const run = await runSites(ctx, ["primary"], { download: true });
    const f = firstFailure(run.endpoints[0]!.phases)!;
    expect(f).toMatchObject({ name: "list", code: "unsafe-name" });
    expect(f.cause).toContain('"TP001\\x1b[31m"');
    expect(f.cause).toContain('"TP\\x0a002"');
    expect(f.cause).toContain('"TP\\x9b3"');
    expectNoControlCharacters(run.endpoints[0]);
    expect(filesBelow(ctx.config.downloadDir)).toEqual([]);
  });

  it("symlinks out of the folder (relative, absolute, through a subfolder) are refused; one inside is followed", async () => {
    for (const name of ["RL001", "RL002", "RL003"]) {
      const ctx = context([name]);
      const run = await runSites(ctx, ["primary"], { download: true });
      expect(firstFailure(run.endpoints[0]!.phases)).toMatchObject({ name: "list", code: "symlink-escape" });
      expect(filesBelow(ctx.config.downloadDir)).toEqual([]);
    }
    const inside = await runSites(context(["RL100"]), ["primary"], { download: true });
    expect(inside.endpoints[0]!.verdict).toBe("pass");
    expect(readFileSync(inside.downloads[0]!.path)).toEqual(payload(500, 4));
  });

  it("a symlink already at the final local name is replaced, and what it pointed at is untouched", async () => {
    const ctx = context(["RL100"]);
    const folder = endpointDownloadDir(ctx.config.downloadDir, undefined, "primary", server.host, server.port);
    mkdirSync(folder, { recursive: true });
    const victim = join(dir, "victim.txt");
    writeFileSync(victim, "a local file the download must not overwrite\n");
    symlinkSync(victim, join(folder, "RL100"));
    const run = await runSites(ctx, ["primary"], { download: true });
    expect(run.endpoints[0]!.verdict).toBe("pass");
    expect(readFileSync(victim, "utf8")).toBe("a local file the download must not overwrite\n");
    expect(readFileSync(join(folder, "RL100"))).toEqual(payload(500, 4));
    // The report says a different file was there before.
    expect(run.downloads[0]!.previous?.status).toBe("replaced");
  });
});
