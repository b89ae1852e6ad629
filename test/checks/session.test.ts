/** The whole session flow against two real OpenSSH servers standing in for the two sites. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMAIL_TEMPLATE, type SessionDay } from "../../catalogue";
import type { Config } from "../../checks/config";
import { fillDate } from "../../checks/email";
import { loadUserKey } from "../../checks/keys";
import { parseKnownHosts } from "../../checks/knownHosts";
import { readHostName } from "../../checks/switchover";
import { runSession, STATE_FILE } from "../../checks/session";
import { renderReport } from "../../checks/evidence/text";
import { renderHtml } from "../../checks/evidence/html";
import { startOpenSsh, type OpenSshServer } from "../support/sshd";
import { makeConfig, newUserKey, payload, tempDir, type TestKey } from "../support/facility";

describe("session against real OpenSSH", () => {
  const dir = tempDir("session");
  let key: TestKey;
  let primary: OpenSshServer;
  let secondary: OpenSshServer;

  beforeAll(async () => {
    key = newUserKey(dir);
    const files = { TP001: payload(4096, 7), TP002: payload(10_000, 8) };
    [primary, secondary] = await Promise.all([
      startOpenSsh({ bindHost: "127.0.151.142", authorizedKeys: [key.publicLine], files }),
      startOpenSsh({ bindHost: "127.0.152.142", authorizedKeys: [key.publicLine], files }),
    ]);
    writeFileSync(join(dir, "known_hosts"), `${primary.knownHostsLine}\n${secondary.knownHostsLine}\n`);
  });
  afterAll(async () => {
    await Promise.all([primary?.stop(), secondary?.stop()]);
  });

  function setup(name: string): { config: Config; sshConfig: string; reportDir: string } {
    const sshConfig = join(dir, `${name}_ssh_config`);
    writeFileSync(sshConfig, `Host hkex-rr\n  HostName ${primary.host}\n  Port ${primary.port}\n`);
    const config = makeConfig(dir, {
      user: primary.user,
      identityFile: key.privatePath,
      remoteDir: primary.remoteDir,
      downloadDir: `./${name}-downloads`,
      sites: { primary: { hosts: [`${primary.host}:${primary.port}`] }, secondary: { hosts: [`${secondary.host}:${secondary.port}`] } },
      sshConfig: { file: sshConfig, alias: "hkex-rr" },
    });
    return { config, sshConfig, reportDir: join(dir, `${name}-evidence`) };
  }
  const context = (config: Config) => ({
    config,
    key: loadUserKey(config, {}),
    knownHosts: parseKnownHosts(readFileSync(join(dir, "known_hosts"), "utf8")),
    warnings: [],
  });

  it("runs pre-check, Part 1 on secondary and Part 2 on primary, switching the client and back", async () => {
    const { config, sshConfig, reportDir } = setup("whole");
    const report = await runSession({ ...context(config), reportDir, date: "2024-11-30" });
    expect(report.verdict).toBe("pass");
    const s = report.session!;
    expect(s.parts.map((p) => `${p.part}:${p.site}:${p.status}`)).toEqual(["precheck:primary:pass", "1:secondary:pass", "2:primary:pass"]);
    expect(s.parts[1]!.switchover).toMatchObject({ before: primary.host, after: secondary.host });
    expect(s.parts[2]!.switchover).toMatchObject({ before: secondary.host, after: primary.host });
    expect(readHostName(sshConfig, "hkex-rr")).toBe(primary.host);
    expect(s.primaryRestored).toBe(true);
    expect(s.sameKeyThroughout).toBe(true);
    expect(s.completed).toBe(true);
    expect(s.email.body).toBe(`${fillDate(EMAIL_TEMPLATE.completed, "2024-11-30")}\n`);
    // The pre-check lists but does not download; each part downloads both files.
    expect(report.downloads.map((d) => `${d.part}:${d.site}:${d.file}`)).toEqual([
      "1:secondary:TP001",
      "1:secondary:TP002",
      "2:primary:TP001",
      "2:primary:TP002",
    ]);
    expect(report.endpoints.find((e) => e.part === "precheck")!.phases.find((p) => p.name === "download")).toMatchObject({
      status: "skip",
      code: "not-requested",
      cause: "the pre-check lists only; Part 1 and Part 2 download",
    });
  });

  it("completes the same session when the parts run hours apart, from the state in the report folder", async () => {
    const { config, reportDir } = setup("parts");
    const one = await runSession({ ...context(config), reportDir, date: "2024-11-30", part: 1 });
    expect(one.verdict).toBe("pass");
    expect(one.session!.completed).toBe(false);
    expect(one.session!.reasons.at(-1)).toMatch(/Part 2 has not run yet/);
    expect(existsSync(join(reportDir, STATE_FILE))).toBe(true);
    const two = await runSession({ ...context(config), reportDir, date: "2024-11-30", part: 2 });
    expect(two.session!.parts.map((p) => p.part)).toEqual(["precheck", 1, 2]);
    expect(two.session!.completed).toBe(true);
    expect(two.verdict).toBe("pass");
    await expect(runSession({ ...context(config), reportDir, date: "2024-12-01", part: 2 })).rejects.toThrow(
      /holds the session of 2024-11-30, not 2024-12-01/,
    );
  });

  it("judges a part run again on its new attempt, keeping the earlier one as evidence", async () => {
    const { config, reportDir } = setup("retry");
    await runSession({ ...context(config), reportDir, date: "2024-11-30", part: 1 });
    // First Part 2 attempt fails (a file that is not there), the second succeeds.
    const failing = { ...config, files: ["TP404"] };
    const first = await runSession({ ...context(failing), reportDir, date: "2024-11-30", part: 2 });
    expect(first.session!.completed).toBe(false);
    const second = await runSession({ ...context(config), reportDir, date: "2024-11-30", part: 2 });
    expect(second.verdict).toBe("pass");
    expect(second.session!.completed).toBe(true);
    expect(second.session!.parts.map((p) => `${p.part}:${p.status}`)).toEqual(["precheck:pass", "1:pass", "2:pass"]);
    expect(second.session!.earlierAttempts?.map((p) => `${p.part}:${p.status}`)).toEqual(["2:fail"]);
    expect(second.endpoints.filter((e) => e.part === 2)).toHaveLength(1);
    expect(second.sites.map((x) => `${x.part}:${x.status}:${x.passed}/${x.endpoints}`)).toContain("2:pass:1/1");
    const state = JSON.parse(readFileSync(join(reportDir, STATE_FILE), "utf8")) as { superseded: { endpoints: unknown[] }[] };
    expect(state.superseded[0]!.endpoints).toHaveLength(1);
  });

  it("re-running Part 1 keeps the earlier pre-check and Part 1 as earlier attempts, as a Part 2 re-run does", async () => {
    const { config, reportDir } = setup("retry-part1");
    const failing = { ...config, files: ["TP404"] };
    const first = await runSession({ ...context(failing), reportDir, date: "2024-11-30", part: 1 });
    expect(first.session!.parts.map((p) => `${p.part}:${p.status}`)).toEqual(["precheck:fail", "1:fail"]);
    expect(first.session!.earlierAttempts).toBeUndefined();
    const second = await runSession({ ...context(config), reportDir, date: "2024-11-30", part: 1 });
    expect(second.session!.parts.map((p) => `${p.part}:${p.status}`)).toEqual(["precheck:pass", "1:pass"]);
    expect(second.session!.earlierAttempts?.map((p) => `${p.part}:${p.status}`)).toEqual(["precheck:fail", "1:fail"]);
    const two = await runSession({ ...context(config), reportDir, date: "2024-11-30", part: 2 });
    expect(two.session!.completed).toBe(true);
    expect(two.session!.earlierAttempts?.map((p) => `${p.part}:${p.status}`)).toEqual(["precheck:fail", "1:fail"]);
  });

  const nextCircular: SessionDay = {
    date: "2025-03-15",
    registrationDeadline: "2025-03-05",
    circular: "PT/OEC/SEOCH/999/2025",
    parts: [
      { part: 1, site: "secondary", title: "Part 1 - Secondary Data Centre", start: "09:00", end: "10:00" },
      { part: 2, site: "primary", title: "Part 2 - Primary Data Centre", start: "10:30", end: "11:30" },
    ],
  };

  it("on a configured session day: the real session, judged against that day's windows from sessionDays", async () => {
    const { config, reportDir } = setup("configured-day");
    // 10:45 Hong Kong time on the day: after Part 1's window, inside Part 2's.
    const now = () => new Date("2025-03-15T02:45:00Z");
    const report = await runSession({ ...context({ ...config, sessionDays: [nextCircular] }), reportDir, date: "2025-03-15", now });
    const s = report.session!;
    expect(s.rehearsal).toBe(false);
    expect(s.rehearsalReason).toBeUndefined();
    expect(s.windows).toEqual([
      { part: 1, site: "secondary", start: "09:00", end: "10:00" },
      { part: 2, site: "primary", start: "10:30", end: "11:30" },
    ]);
    expect(s.windowsOf).toEqual({ date: "2025-03-15", circular: "PT/OEC/SEOCH/999/2025", registrationDeadline: "2025-03-05" });
    expect(s.parts.map((p) => `${p.part}:${p.withinWindow}`)).toEqual(["precheck:undefined", "1:false", "2:true"]);
    expect(report.warnings).toContain("Part 1 ran at 10:45 Hong Kong time, outside its published window 09:00-10:00");
    expect(s.email.subject).toBe(EMAIL_TEMPLATE.subject);
    expect(s.email.body).toBe(`${fillDate(EMAIL_TEMPLATE.completed, "2025-03-15")}\n`);
    expect(renderReport(report)).not.toMatch(/REHEARSAL/);
    const html = renderHtml(report);
    expect(html).toContain('data-part="part1" data-start="09:00" data-end="10:00"');
    expect(html).toContain('data-part="part2" data-start="10:30" data-end="11:30"');
  });

  it("on a day that is not a session day: a rehearsal, and no window warning; with --rehearsal of the day on another date, the warning says the dates differ", async () => {
    const { config, reportDir } = setup("not-a-day");
    const withDays = { ...config, sessionDays: [nextCircular] };
    const now = () => new Date("2025-03-10T07:00:00Z");
    const other = await runSession({ ...context(withDays), reportDir, date: "2025-03-10", now });
    const s = other.session!;
    expect(s.rehearsal).toBe(true);
    expect(s.rehearsalReason).toBe(
      "10 March 2025 is not a configured session day (the session day is 2025-03-15; add the next ones under sessionDays in the config)",
    );
    expect(s.windowsOf?.date).toBe("2025-03-15");
    expect(other.warnings.filter((w) => /window/.test(w))).toEqual([]);
    expect(s.email.subject).toBe(`[REHEARSAL - DO NOT SEND] ${EMAIL_TEMPLATE.subject}`);
    expect(s.email.body.split("\n")[0]).toMatch(/^REHEARSAL - DO NOT SEND\. This is not a confirmation/);
    expect(renderReport(other)).toContain(`REHEARSAL: ${s.rehearsalReason}; its e-mail is a draft: do NOT send it to HKEX`);

    const rehearsed = await runSession({
      ...context(withDays),
      reportDir: join(dir, "rehearsed-evidence"),
      date: "2025-03-15",
      rehearsal: true,
      now,
    });
    expect(rehearsed.session!.rehearsalReason).toBe("run with --rehearsal on the session day 15 March 2025");
    const windowWarnings = rehearsed.warnings.filter((w) => /window/.test(w));
    expect(windowWarnings).toEqual([
      "Part 1 ran at 15:00 Hong Kong time on 2025-03-10, outside the window 09:00-10:00 it has on the session day 2025-03-15",
      "Part 2 ran at 15:00 Hong Kong time on 2025-03-10, outside the window 10:30-11:30 it has on the session day 2025-03-15",
    ]);
    expect(windowWarnings.join("\n")).not.toContain("its published window");
  });

  it("warns when the login key's fingerprint is unknown, rather than claiming the same key", async () => {
    const { config, reportDir } = setup("agentkey");
    const unknownKey = { ...context(config), key: { ...loadUserKey(config, {}), fingerprint: undefined } };
    const report = await runSession({ ...unknownKey, reportDir, date: "2024-11-30" });
    expect(report.session!.keyFingerprints).toEqual([]);
    expect(report.warnings).toContain(
      "the login key's fingerprint is not known (ssh-agent without identityFile), so the kit could not check that the same key was used in every part",
    );
  });

  it("fails the session when the key was renewed between parts", async () => {
    const { config, reportDir } = setup("renewed");
    await runSession({ ...context(config), reportDir, date: "2024-11-30", part: 1 });
    const renewed = {
      ...context(config),
      key: { ...loadUserKey(config, {}), fingerprint: "SHA256:renewedkeyrenewedkeyrenewedkeyrenewedkey00" },
    };
    const two = await runSession({ ...renewed, reportDir, date: "2024-11-30", part: 2 });
    expect(two.session!.sameKeyThroughout).toBe(false);
    expect(two.session!.completed).toBe(false);
    expect(two.verdict).toBe("fail");
    expect(two.session!.email.body).toContain(fillDate(EMAIL_TEMPLATE.notCompleted, "2024-11-30"));
    expect(two.session!.email.body).toMatch(/- the SSH key changed between parts \(SHA256:.* → SHA256:renewedkey/);
  });

  it("reports Part 2 alone as not completed, naming Part 1", async () => {
    const { config, reportDir } = setup("alone");
    await expect(runSession({ ...context(config), reportDir, date: "2024-11-16", part: 2 })).rejects.toThrow(
      /--report-dir: .*session-state\.json does not exist: run --part 2 with the --report-dir of Part 1/,
    );
    const two = await runSession({ ...context(config), reportDir, date: "2024-11-16", part: 2, allowMissingPart1: true });
    expect(two.session!.completed).toBe(false);
    expect(two.session!.reasons).toContain("Part 1 (Secondary Data Centre) was not run");
    expect(two.session!.email.body).toContain("on 16 November 2024 due to the following reasons:");
  });

  it("fails when the run stops with secondary still in place, and says to restore primary", async () => {
    const { config, sshConfig, reportDir } = setup("stuck");
    const stop = new AbortController();
    let logouts = 0;
    const report = await runSession({
      ...context(config),
      reportDir,
      date: "2024-11-30",
      signal: stop.signal,
      onEvent: (e) => {
        // Stop once the (only) secondary endpoint has logged out: Part 1 is complete, Part 2 never starts.
        if (e.kind === "end" && e.target.site === "secondary" && e.result.name === "logout" && ++logouts === 1) stop.abort("SIGTERM");
      },
    });
    expect(readHostName(sshConfig, "hkex-rr")).toBe(secondary.host);
    expect(report.session!.primaryRestored).toBe(false);
    expect(report.session!.completed).toBe(false);
    expect(report.verdict).toBe("fail");
    expect(report.interrupted).toBe("interrupted by SIGTERM before Part 2");
    expect(report.session!.reasons).toEqual(
      expect.arrayContaining([
        "Part 2 (Primary Data Centre) was not run",
        `hkex-rr in ${sshConfig} points at ${secondary.host}, not a primary address: restore primary for the next business day`,
      ]),
    );
  });

  it("warns that nothing was switched when sshConfig is not set", async () => {
    const { config, reportDir } = setup("noswitch");
    const report = await runSession({ ...context({ ...config, sshConfig: undefined }), reportDir, date: "2024-11-30" });
    expect(report.session!.primaryRestored).toBeUndefined();
    expect(report.session!.parts.every((p) => p.switchover === undefined)).toBe(true);
    expect(report.warnings.some((w) => w.startsWith("sshConfig is not set"))).toBe(true);
  });
});
