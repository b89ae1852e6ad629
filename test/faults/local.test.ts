/**
 * Local faults during a download: the folder missing or not writable, the
 * disk full, and a file already under the final name. In every case no
 * partial file sits under a final name, temporary files are removed, the
 * report gives the cause and a file that was there is never replaced by a
 * different one without the report saying so.
 *
 * A full or read-only file system is a real tmpfs where this machine lets us
 * mount one (root in a container usually may); elsewhere the same failure is
 * injected through download.ts's `localFiles` seam. The seam tests run
 * everywhere.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { exitCodeForSignal } from "../../cli/exitCodes";
import { localFiles } from "../../checks/download";
import type { Report } from "../../checks/report";
import { renderReport } from "../../checks/evidence/text";
import { buildReport, endpointDownloadDir, runSites } from "../../checks/run";
import { startSimulator, type RunningSimulator } from "../../checks/simulator";
import { contextFor, makeConfig, newUserKey, simulatorContext, tempDir, type TestKey } from "../support/facility";
import { cli, filesBelow, firstFailure, temporaryFiles, writeConfig } from "../support/cli";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const realOpen = localFiles.open;
const BIG_SIZE = 256 * 1024;

/** Mounts a tmpfs with `options`; false where this machine does not allow it. */
function mountTmpfs(target: string, options: string): boolean {
  mkdirSync(target, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", target], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function errno(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected by the test, ${syscall}`), { code, syscall });
}

/** The seam: the temporary file's handle refuses writes past `room` bytes with ENOSPC, as a full disk does. */
function diskWithRoom(room: number): void {
  let used = 0;
  localFiles.open = (async (...args: Parameters<typeof realOpen>) => {
    const fh: FileHandle = await realOpen(...args);
    const write = fh.write.bind(fh) as (b: Buffer, o: number, l: number, p: number) => Promise<{ bytesWritten: number; buffer: Buffer }>;
    Object.assign(fh, {
      write: async (buf: Buffer, offset: number, length: number, position: number) => {
        if (used + length > room) throw errno("ENOSPC", "write");
        used += length;
        return write(buf, offset, length, position);
      },
    });
    return fh;
  }) as typeof realOpen;
}

describe("local faults during a download", () => {
  const dir = tempDir("local-faults");
  const mounts: string[] = [];
  let key: TestKey;
  let sim: RunningSimulator;

  beforeAll(async () => {
    key = newUserKey(dir);
    sim = await startSimulator({ authorizedKeys: [key.publicLine], user: "CP0001", port: 0, files: { BIG: { size: BIG_SIZE } } });
  });
  afterEach(() => {
    localFiles.open = realOpen;
  });
  afterAll(async () => {
    await sim?.close();
    for (const m of mounts) execFileSync("umount", ["-l", m], { stdio: "ignore" });
  });

  const ep = () => sim.endpoints[0]!;
  function context(downloadDir: string, files: string[] = ["TP001", "TP002"]) {
    return simulatorContext(dir, sim, key, {
      files,
      downloadDir,
      timeouts: { connectMs: 1000, handshakeMs: 3000, operationMs: 3000, transferMs: 10_000 },
    });
  }
  const folderOf = (downloadDir: string) => endpointDownloadDir(downloadDir, undefined, "primary", ep().bindHost, ep().port);

  async function download(downloadDir: string, files?: string[]) {
    const run = await runSites(context(downloadDir, files), ["primary"], { download: true });
    const report = buildReport({ kind: "check", startedAt: "", endpoints: run.endpoints, downloads: run.downloads, warnings: [] });
    return { run, report, failed: firstFailure(run.endpoints[0]!.phases), exit: exitCodeForSignal(undefined, report.verdict) };
  }

  it("download folder missing: it is created, with the endpoint's own folder, and the files land there", async () => {
    const root = join(dir, "not", "there", "yet");
    const { run, exit } = await download(root);
    expect(exit).toBe(0);
    expect(run.downloads.map((d) => d.path)).toEqual([join(folderOf(root), "TP001"), join(folderOf(root), "TP002")]);
    expect(filesBelow(root)).toEqual([`${folderOf(root).slice(root.length + 1)}/TP001`, `${folderOf(root).slice(root.length + 1)}/TP002`]);
  });

  it("download folder cannot be created (a file is in the way): download local-folder, report and exit 1 through the CLI", async () => {
    writeFileSync(join(dir, "a-file"), "not a folder\n");
    const sites = sim.configSites();
    contextFor(makeConfig(dir, { identityFile: key.privatePath, knownHostsFile: "./known_hosts-cli" }), sim.knownHosts());
    const config = writeConfig(
      dir,
      {
        user: "CP0001",
        identityFile: key.privatePath,
        knownHostsFile: "./known_hosts-cli",
        files: ["TP001"],
        downloadDir: "./a-file/downloads",
        sites: { primary: { hosts: [sites.primary.hosts[0]] }, secondary: sites.secondary },
      },
      "blocked.yaml",
    );
    const out = join(dir, "blocked-report");
    const r = await cli(["check", "--config", config, "--site", "primary", "--download", "--report-dir", out, "--no-progress"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Report;
    const failed = firstFailure(report.endpoints[0]!.phases)!;
    expect(failed).toMatchObject({ name: "download", code: "local-folder" });
    expect(failed.cause).toBe(`download folder ${folderOf(join(dir, "a-file", "downloads"))} cannot be created: ENOTDIR`);
    expect(r.stdout).toContain(`✗ download: download folder ${folderOf(join(dir, "a-file", "downloads"))} cannot be created: ENOTDIR`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(join(dir, "a-file"), "utf8")).toBe("not a folder\n");
    expect(temporaryFiles(out)).toEqual([]);
  });

  it("download folder not writable (a read-only mount, or EACCES where mounting is refused): local-folder, nothing written", async () => {
    const root = join(dir, "readonly");
    mkdirSync(folderOf(root), { recursive: true });
    if (mountTmpfs(folderOf(root), "ro,size=64k")) mounts.push(folderOf(root));
    else localFiles.open = (async () => Promise.reject(errno("EACCES", "open"))) as unknown as typeof realOpen;
    const { failed, run, exit } = await download(root);
    expect(failed).toMatchObject({ name: "download", code: "local-folder" });
    expect(failed!.cause).toMatch(new RegExp(`^download folder ${folderOf(root)} is not writable: (EROFS|EACCES)$`));
    expect(run.downloads).toEqual([]);
    expect(exit).toBe(1);
    expect(filesBelow(root)).toEqual([]);
  });

  /** Asserts the state a full disk must leave: the cause, no temporary file, no final file, the older file untouched. */
  async function expectDiskFull(root: string) {
    const folder = folderOf(root);
    const before = Buffer.from("yesterday's BIG, which must survive\n");
    writeFileSync(join(folder, "BIG"), before);
    const { failed, run, exit } = await download(root, ["BIG"]);
    expect(failed).toMatchObject({ name: "download", code: "disk-full" });
    expect(failed!.cause).toMatch(new RegExp(`^disk full writing ${folder}/\\.BIG\\.\\d+\\.[0-9a-f]{8}\\.partial$`));
    expect(run.downloads).toEqual([]);
    expect(exit).toBe(1);
    expect(temporaryFiles(root)).toEqual([]);
    expect(readFileSync(join(folder, "BIG"))).toEqual(before);
    expect(filesBelow(root)).toEqual([`${folder.slice(root.length + 1)}/BIG`]);
  }

  it("disk full on a 64 KiB tmpfs (or the seam where mounting is refused): disk-full, temporary file removed", async () => {
    const root = join(dir, "small-disk");
    mkdirSync(folderOf(root), { recursive: true });
    if (mountTmpfs(folderOf(root), "size=64k")) mounts.push(folderOf(root));
    else diskWithRoom(64 * 1024);
    await expectDiskFull(root);
  });

  it("disk full through the write seam (runs on every machine): disk-full, temporary file removed", async () => {
    const root = join(dir, "seam-disk");
    mkdirSync(folderOf(root), { recursive: true });
    diskWithRoom(100 * 1024);
    await expectDiskFull(root);
  });

  it("a file already there: identical is left alone and recorded so; a different one is replaced and the report says so", async () => {
    const root = join(dir, "previous");
    const folder = folderOf(root);
    mkdirSync(folder, { recursive: true });
    const old = Buffer.from("an older TP001\n");
    writeFileSync(join(folder, "TP001"), old);
    const first = await download(root, ["TP001"]);
    expect(first.exit).toBe(0);
    const fresh = readFileSync(join(folder, "TP001"));
    expect(first.run.downloads[0]!.previous).toEqual({ status: "replaced", sha256: sha(old) });
    expect(first.run.downloads[0]!.sha256).toBe(sha(fresh));
    expect(renderReport(first.report)).toContain(`(REPLACED a different file, sha256 ${sha(old).slice(0, 16)}…)`);

    const second = await download(root, ["TP001"]);
    expect(second.run.downloads[0]!.previous).toEqual({ status: "identical", sha256: sha(fresh) });
    expect(renderReport(second.report)).toContain("(same as the file already there)");
    expect(readFileSync(join(folder, "TP001"))).toEqual(fresh);
    expect(filesBelow(root)).toEqual([`${folder.slice(root.length + 1)}/TP001`]);
  });

  describe("the report folder cannot be written", () => {
    function cliConfig(name: string): string {
      const sites = sim.configSites();
      contextFor(makeConfig(dir, { identityFile: key.privatePath, knownHostsFile: "./known_hosts-cli" }), sim.knownHosts());
      return writeConfig(
        dir,
        {
          user: "CP0001",
          identityFile: key.privatePath,
          knownHostsFile: "./known_hosts-cli",
          files: ["TP001"],
          downloadDir: `./dl-${name}`,
          sites: { primary: { hosts: [sites.primary.hosts[0]] }, secondary: { hosts: [sites.secondary.hosts[0]] } },
        },
        `${name}.yaml`,
      );
    }

    it("check: the result is still printed, then one line naming --report-dir and why; exit 2, no stack trace", async () => {
      writeFileSync(join(dir, "in-the-way"), "a file\n");
      const target = join(dir, "in-the-way", "evidence");
      const r = await cli([
        "check",
        "--config",
        cliConfig("evidence-blocked"),
        "--site",
        "primary",
        "--report-dir",
        target,
        "--no-progress",
      ]);
      expect(r.code).toBe(2);
      expect(r.stdout).toMatch(/^hkex-ready check: PASS/m);
      expect(r.stderr).toContain(
        `hkex-ready: --report-dir: cannot write ${join(target, "report.json")}: ENOTDIR (part of the path is a file, not a folder); the report is only on stdout`,
      );
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    });

    it("session on a full disk (a full tmpfs, or a file in the way where mounting is refused): report on stdout, exit 2, no temporary file", async () => {
      const disk = join(dir, "full-disk");
      let target = join(disk, "evidence");
      if (mountTmpfs(disk, "size=16k")) {
        mounts.push(disk);
        try {
          writeFileSync(join(disk, "filler"), Buffer.alloc(64 * 1024));
        } catch {
          // ENOSPC: the disk is now full, as intended
        }
      } else {
        writeFileSync(join(dir, "no-mount"), "a file\n");
        target = join(dir, "no-mount", "evidence");
      }
      const r = await cli([
        "session",
        "--config",
        cliConfig("evidence-full"),
        "--report-dir",
        target,
        "--json",
        "--date",
        "2024-11-30",
        "--rehearsal",
      ]);
      expect(r.code).toBe(2);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.session!.parts.map((p) => `${p.part}:${p.status}`)).toEqual(["precheck:pass", "1:pass", "2:pass"]);
      expect(report.warnings.join("\n")).toMatch(/session-state\.json could not be written to .* \((ENOSPC|ENOTDIR)\)/);
      expect(r.stderr).toMatch(
        /^hkex-ready: --report-dir: cannot write .*report\.json: (ENOSPC \(disk full\)|ENOTDIR .*); the report is only on stdout$/m,
      );
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(temporaryFiles(disk)).toEqual([]);
    });
  });

  it("a download that fails mid-transfer leaves the file already there untouched", async () => {
    const root = join(dir, "kept");
    const folder = folderOf(root);
    mkdirSync(folder, { recursive: true });
    const old = Buffer.from("the TP001 from the last good run\n");
    writeFileSync(join(folder, "TP001"), old);
    await sim.setFault(ep().host, "drop-mid-transfer");
    try {
      const { failed, exit, run } = await download(root, ["TP001"]);
      expect(failed).toMatchObject({ name: "download", code: "connection-lost" });
      expect(exit).toBe(1);
      expect(run.downloads).toEqual([]);
      expect(readFileSync(join(folder, "TP001"))).toEqual(old);
      expect(temporaryFiles(root)).toEqual([]);
    } finally {
      await sim.setFault(ep().host, "none");
    }
    expect(existsSync(join(folder, "TP002"))).toBe(false);
  });
});
