/**
 * SIGINT and SIGTERM mid-transfer, sent to the compiled CLI while a download
 * is stalled on the simulator (stall-mid-transfer): exit 130/143, the report
 * says "interrupted", no temporary file remains, no partial file sits under a
 * final name, and the file already there is untouched.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../checks/report";
import { endpointDownloadDir } from "../../checks/run";
import { startSimulator, type RunningSimulator } from "../../checks/simulator";
import { newUserKey, tempDir, type TestKey } from "../support/facility";
import { filesBelow, firstFailure, startCli, temporaryFiles, waitUntil, writeConfig } from "../support/cli";

describe("interrupted mid-transfer", () => {
  const dir = tempDir("signals");
  let key: TestKey;
  let sim: RunningSimulator;

  beforeAll(async () => {
    key = newUserKey(dir);
    sim = await startSimulator({
      authorizedKeys: [key.publicLine],
      user: "CP0001",
      port: 0,
      faults: { "10.151.14.141": "stall-mid-transfer", "10.152.14.141": "stall-mid-transfer" },
    });
    writeFileSync(join(dir, "known_hosts"), sim.knownHosts());
  });
  afterAll(async () => {
    await sim?.close();
  });

  const endpoint = (host: string) => sim.endpoints.find((e) => e.host === host)!;
  const entry = (host: string) => `${endpoint(host).bindHost}:${endpoint(host).port}`;
  function config(name: string, primary: string, secondary: string): string {
    return writeConfig(
      dir,
      {
        user: "CP0001",
        identityFile: key.privatePath,
        knownHostsFile: "./known_hosts",
        files: ["TP001", "TP002"],
        downloadDir: `./dl-${name}`,
        sites: { primary: { hosts: [entry(primary)] }, secondary: { hosts: [entry(secondary)] } },
        // Long enough that only the signal can end the stalled transfer.
        timeouts: { connectMs: 2000, handshakeMs: 5000, operationMs: 5000, transferMs: 60_000 },
      },
      `${name}.yaml`,
    );
  }
  const hasPartial = (folder: string) => () => existsSync(folder) && readdirSync(folder).some((f) => f.endsWith(".partial"));

  it("check --download, SIGINT: exit 130, report says interrupted, temporary file removed, the older TP001 kept", async () => {
    const root = join(dir, "dl-check");
    const ep = endpoint("10.151.14.141");
    const folder = endpointDownloadDir(root, undefined, "primary", ep.bindHost, ep.port);
    mkdirSync(folder, { recursive: true });
    const older = "yesterday's TP001\n";
    writeFileSync(join(folder, "TP001"), older);
    const reportDir = join(dir, "report-check");
    const run = startCli([
      "check",
      "--config",
      config("check", "10.151.14.141", "10.152.14.142"),
      "--site",
      "primary",
      "--download",
      "--no-progress",
      "--report-dir",
      reportDir,
    ]);
    await waitUntil(hasPartial(folder));
    expect(run.stderr()).toMatch(/primary \S+ list \d+ ms/);
    run.child.kill("SIGINT");
    const r = await run.exited;
    expect(r.code).toBe(130);
    const report = JSON.parse(readFileSync(join(reportDir, "report.json"), "utf8")) as Report;
    expect(report.interrupted).toBe("interrupted by SIGINT");
    expect(report.verdict).toBe("fail");
    expect(firstFailure(report.endpoints[0]!.phases)).toMatchObject({
      name: "download",
      code: "interrupted",
      cause: "interrupted (SIGINT) during download",
    });
    expect(report.downloads).toEqual([]);
    expect(r.stdout).toContain("interrupted: interrupted by SIGINT");
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(temporaryFiles(root)).toEqual([]);
    expect(temporaryFiles(reportDir)).toEqual([]);
    expect(readFileSync(join(folder, "TP001"), "utf8")).toBe(older);
    expect(filesBelow(folder)).toEqual(["TP001"]);
  });

  it("session, SIGTERM during Part 1: exit 143, the session is not completed, Part 2 never starts, nothing partial left", async () => {
    const root = join(dir, "dl-session");
    const ep = endpoint("10.152.14.141");
    const folder = endpointDownloadDir(root, "part1", "secondary", ep.bindHost, ep.port);
    const reportDir = join(dir, "report-session");
    const run = startCli([
      "session",
      "--config",
      config("session", "10.151.14.142", "10.152.14.141"),
      "--report-dir",
      reportDir,
      "--date",
      "2024-11-30",
      "--rehearsal",
      "--no-progress",
    ]);
    await waitUntil(hasPartial(folder));
    run.child.kill("SIGTERM");
    const r = await run.exited;
    expect(r.code).toBe(143);
    const report = JSON.parse(readFileSync(join(reportDir, "report.json"), "utf8")) as Report;
    // The step under way finishes with its phases marked interrupted; Part 2 never starts.
    expect(report.interrupted).toBe("interrupted by SIGTERM during Part 1");
    expect(report.verdict).toBe("fail");
    const s = report.session!;
    expect(s.completed).toBe(false);
    expect(s.parts.map((p) => `${p.part}:${p.status}`)).toEqual(["precheck:pass", "1:fail"]);
    expect(s.reasons).toContain("interrupted by SIGTERM during Part 1");
    const part1 = report.endpoints.find((e) => e.part === 1)!;
    expect(firstFailure(part1.phases)).toMatchObject({ name: "download", code: "interrupted" });
    expect(readFileSync(join(reportDir, "confirmation-email.txt"), "utf8")).toMatch(/did NOT complete|not completed/i);
    expect(existsSync(join(reportDir, "session-state.json"))).toBe(true);
    expect(temporaryFiles(root)).toEqual([]);
    expect(temporaryFiles(reportDir)).toEqual([]);
    expect(filesBelow(root)).toEqual([]);
  });
});
