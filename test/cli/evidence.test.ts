/** The compiled command: evidence files, CI formats on stdout, progress on stderr, weather and schedule flags (npm test builds dist/ first). */
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { Parser } from "tap-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../checks/report";
import { hkDate } from "../../core/time";
import { startSimulator, type RunningSimulator } from "../../checks/simulator";
import { newUserKey, tempDir, type TestKey } from "../support/facility";

const BIN = join(__dirname, "..", "..", "bin", "hkex-ready.js");

function withoutCi(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { CI: _ci, ...rest } = env;
  return rest;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 90_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, [BIN, ...args], { ...process.env, CI: "true", ...env });

const PLAIN_LINE = /^ {2}(primary|secondary) \S+:\d+ (tcp|banner|hostkey|auth|sftp|list|download|logout) /m;

describe("hkex-ready evidence and monitoring", () => {
  const dir = tempDir("evidence-cli");
  let key: TestKey;
  let sim: RunningSimulator;
  let config: string;

  beforeAll(async () => {
    key = newUserKey(dir);
    sim = await startSimulator({ authorizedKeys: [key.publicLine], user: "CP0001", port: 0 });
    writeFileSync(join(dir, "known_hosts"), sim.knownHosts());
    const sites = sim.configSites();
    const primary = sim.endpoints.find((e) => e.site === "primary")!;
    writeFileSync(join(dir, "ssh_config"), `Host hkex-rr\n  HostName ${primary.bindHost}\n  Port ${primary.port}\n`);
    config = join(dir, "hkex.yaml");
    writeFileSync(
      config,
      [
        "user: CP0001",
        `identityFile: ${key.privatePath}`,
        "knownHostsFile: ./known_hosts",
        "files: [TP001, TP002]",
        "downloadDir: ./downloads",
        "sites:",
        `  primary: { hosts: [${sites.primary.hosts.join(", ")}] }`,
        `  secondary: { hosts: [${sites.secondary.hosts.join(", ")}] }`,
        "timeouts: { connectMs: 1000, handshakeMs: 3000, operationMs: 3000, transferMs: 10000 }",
        "sshConfig: { file: ./ssh_config, alias: hkex-rr }",
        "email: { from: ops@participant.example }",
        "",
      ].join("\n"),
    );
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("demo writes report.html, report.json, confirmation.eml, junit.xml and confirmation-email.txt; --json keeps stdout JSON and stderr free of progress", async () => {
    const out = tempDir("demo-evidence");
    const r = await cli(["demo", "--report-dir", out, "--json", "--attach"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(r.stderr).not.toMatch(PLAIN_LINE);
    for (const f of ["report.html", "report.json", "confirmation.eml", "junit.xml", "confirmation-email.txt"])
      expect(existsSync(join(out, f)), f).toBe(true);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain('<section id="timeline">');
    expect(html).toContain('<table class="matrix">');
    expect(readFileSync(join(out, "junit.xml"), "utf8")).toMatch(
      /<testsuites name="hkex-ready session \d{4}-\d{2}-\d{2}" tests="51" failures="0"/,
    );
    const mail = await simpleParser(readFileSync(join(out, "confirmation.eml")));
    expect(mail.text).toBe(report.session!.email.body);
    expect(mail.attachments.map((a) => a.filename)).toEqual(["report.json", "report.html"]);
    // The throwaway private key is in none of the evidence.
    const secret = readFileSync(join(out, "sandbox", "id_ed25519"), "utf8");
    const keyBody = secret
      .split("\n")
      .filter((l) => l && !l.startsWith("-----"))
      .join("")
      .slice(0, 40);
    for (const f of ["report.html", "report.json", "confirmation.eml", "junit.xml"])
      expect(readFileSync(join(out, f), "utf8")).not.toContain(keyBody);
  });

  it("check --format tap prints only TAP on stdout, progress lines on stderr, and writes --junit and --prometheus", async () => {
    const junit = join(dir, "ci", "junit.xml");
    const prom = join(dir, "textfile", "hkex_sftp.prom");
    const r = await cli(["check", "--config", config, "--site", "secondary", "--format", "tap", "--junit", junit, "--prometheus", prom]);
    expect(r.code).toBe(0);
    const parsed = await new Promise<{ ok: boolean; count: number; fail: number; skip: number }>((resolve) => {
      const p = new Parser((res) => resolve(res as never));
      p.end(r.stdout);
    });
    expect(r.stdout.startsWith("TAP version 14\n1..16\n")).toBe(true);
    expect(parsed).toMatchObject({ ok: true, count: 16, fail: 0, skip: 2 });
    expect(r.stdout.split("\n").filter((l) => l && !/^(TAP version 14|1\.\.16|(not )?ok \d+ - .*|# check pass)$/.test(l))).toEqual([]);
    expect(r.stderr).toMatch(PLAIN_LINE);
    expect(readFileSync(junit, "utf8")).toMatch(/<testsuites name="hkex-ready check" tests="16" failures="0" errors="0" skipped="2">/);
    const metrics = readFileSync(prom, "utf8");
    const ep = sim.endpoints.find((e) => e.host === "10.152.14.142")!;
    expect(metrics).toContain(`hkex_sftp_probe_success{site="secondary",host="${ep.bindHost}",port="${ep.port}"} 1`);
    expect(metrics).toMatch(
      new RegExp(
        `hkex_sftp_phase_duration_seconds\\{site="secondary",host="${ep.bindHost.replace(/\./g, "\\.")}",port="${ep.port}",phase="auth"\\} \\d`,
      ),
    );
  });

  it("rejects --issued-at without --weather, a bad time, and --weather without a time, naming the flag, before reading the config", async () => {
    const missing = join(dir, "no-such-config.yaml");
    const a = await cli(["session", "--config", missing, "--report-dir", join(dir, "w1"), "--issued-at", "10:00"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toBe(
      "hkex-ready: --issued-at: goes with --weather: say which warning was issued (signal8, black-rainstorm, extreme)\n",
    );
    const b = await cli(["session", "--config", missing, "--report-dir", join(dir, "w1"), "--weather", "signal8", "--issued-at", "25:00"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--issued-at: "25:00" is not a Hong Kong time in HH:MM form (00:00-23:59)');
    const c = await cli(["session", "--config", missing, "--report-dir", join(dir, "w1"), "--weather", "extreme"]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain("--weather: needs --issued-at HH:MM");
    const d = await cli(["session", "--config", missing, "--report-dir", join(dir, "w1"), "--weather", "snow", "--issued-at", "10:00"]);
    expect(d.code).toBe(2);
  });

  it("session --weather signal8 --issued-at 08:00 cancels the day: nothing contacted, the e-mail says why", async () => {
    const before = sim.stats().connections;
    const out = join(dir, "cancelled");
    const r = await cli([
      "session",
      "--config",
      config,
      "--report-dir",
      out,
      "--date",
      "2024-11-30",
      "--rehearsal",
      "--weather",
      "signal8",
      "--issued-at",
      "08:00",
    ]);
    expect(r.code).toBe(1);
    expect(sim.stats().connections).toBe(before);
    expect(r.stderr).toContain(
      "hkex-ready: weather: Typhoon Signal No. 8 (or above) issued at 08:00 and in force at 9:00 a.m. Hong Kong time on 30 November 2024",
    );
    const email = readFileSync(join(out, "confirmation-email.txt"), "utf8");
    expect(email).toContain(
      "- Part 1 (Secondary Data Centre) did not run: Typhoon Signal No. 8 (or above) issued at 08:00 and in force at 9:00 a.m.",
    );
    expect(existsSync(join(out, "report.html"))).toBe(true);
    expect(existsSync(join(out, "confirmation.eml"))).toBe(true);
  });

  it("schedule prints what is due at --now, as JSON too, and rejects a bad --now", async () => {
    const text = await cli(["schedule", "--now", "2024-11-16T12:30"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("  - Part 1 - Secondary Data Centre window open until 14:00 (1 h 30 min left)");
    const json = await cli(["schedule", "--now", "2024-11-03T10:00", "--json"]);
    expect(JSON.parse(json.stdout).due[0]).toContain("closes in 3 days");
    const bad = await cli(["schedule", "--now", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--now: "soon" is not an ISO 8601 date-time');
  });

  it("a configured session day today: schedule --config shows it, and session runs the real session, no rehearsal", async () => {
    const today = hkDate();
    const withDays = join(dir, "hkex-today.yaml");
    writeFileSync(
      withDays,
      `${readFileSync(config, "utf8")}sessionDays:\n  - date: "${today}"\n    registrationDeadline: "${today}"\n    circular: PT/OEC/SEOCH/999/2099\n    parts:\n      - { start: "00:00", end: "11:59" }\n      - { start: "12:00", end: "23:59" }\n`,
    );
    const schedule = await cli(["schedule", "--config", withDays, "--now", `${today}T10:00`]);
    expect(schedule.code).toBe(0);
    expect(schedule.stdout).toContain("(circular PT/OEC/SEOCH/999/2099)");
    expect(schedule.stdout).toMatch(/ {2}\S+ \d+ \S+ \d{4} {2}\(TODAY\) {2}circular PT\/OEC\/SEOCH\/999\/2099\n/);
    expect(schedule.stdout).toContain("    00:00-11:59  Part 1 - Secondary Data Centre:");
    expect(schedule.stdout).toContain("  - Part 1 - Secondary Data Centre window open until 11:59");

    const out = join(dir, "real-today");
    const r = await cli(["session", "--config", withDays, "--report-dir", out, "--no-progress"]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("rehearsal");
    expect(r.stdout).toContain(`send ${join(out, "confirmation-email.txt")} to HKEX today (successfully completed)`);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Report;
    expect(report.session).toMatchObject({ date: today, rehearsal: false, windowsOf: { date: today, circular: "PT/OEC/SEOCH/999/2099" } });
    expect(report.session!.windows.map((w) => `${w.start}-${w.end}`)).toEqual(["00:00-11:59", "12:00-23:59"]);
    expect(readFileSync(join(out, "confirmation-email.txt"), "utf8")).not.toContain("REHEARSAL");
    expect(readFileSync(join(out, "confirmation.eml"), "latin1")).not.toMatch(/X-Unsent/);

    // The same day again with --rehearsal: a draft, and the real session's folder is not continued.
    const again = await cli(["session", "--config", withDays, "--report-dir", out, "--part", "2", "--rehearsal", "--no-progress"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("holds the real session of");
  });

  it("draws the live task list on a terminal (a pty from script(1)), with the failed endpoint and the degraded part", async () => {
    const out = tempDir("demo-live");
    const command = `stty cols 160 rows 60; exec '${process.execPath}' '${BIN}' demo --report-dir '${out}' --fault 10.152.14.142=reject-auth`;
    const r = await run("script", ["-q", "-e", "-c", command, "/dev/null"], { ...withoutCi(process.env), TERM: "xterm" });
    expect(r.code).toBe(1);
    // eslint-disable-next-line no-control-regex
    const screen = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
    expect(screen).toContain("Pre-check: primary: pass 2/2");
    expect(screen).toContain("Part 1: secondary (window 12:00-14:00): degraded 1/2");
    expect(screen).toMatch(/✖ secondary \S+ {2}FAIL at auth {2}\(tcp \d+ ms · banner \d+ ms · hostkey \d+ ms · auth FAIL · sftp skip/);
    expect(screen).toMatch(/auth failed after \d+ ms: server rejected publickey login/);
    expect(screen).toContain("Part 2: primary (window 15:00-17:00): pass 2/2");
    expect(screen).not.toMatch(PLAIN_LINE);
    expect(screen).toContain("hkex-ready session: FAIL");
  });

  it("on a terminal, SIGINT still stops the run cleanly: exit 130 and the report says interrupted", async () => {
    const out = tempDir("demo-sigint");
    const command = `stty cols 160 rows 60; exec '${process.execPath}' '${BIN}' demo --report-dir '${out}' --fault 10.152.14.141=stall-mid-transfer --fault 10.152.14.142=stall-mid-transfer`;
    const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
      env: { ...withoutCi(process.env), TERM: "xterm" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let screen = "";
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no download phase on screen:\n${screen}`)), 30_000);
      child.stdout!.on("data", (d: Buffer) => {
        screen += d.toString("utf8");
        if (/secondary \S+ {2}tcp [^\n]*list \d+ ms · download…/.test(screen)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // script(1) runs the shell that exec'd node: its only child is the CLI.
    const cliPid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(/\s+/)[0]);
    process.kill(cliPid, "SIGINT");
    expect(await exited).toBe(130);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Report;
    expect(report.interrupted).toBe("interrupted by SIGINT during Part 1");
    expect(report.endpoints.filter((e) => e.part === 1).map((e) => e.phases.find((p) => p.name === "download")!.code)).toEqual([
      "interrupted",
      "interrupted",
    ]);
    expect(existsSync(join(out, "report.html"))).toBe(true);
  });
});
