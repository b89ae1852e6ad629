/** runSession under the weather rules, against the simulated facility, with fixed clocks. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMAIL_TEMPLATE } from "../../catalogue";
import { fillDate } from "../../checks/email";
import { renderReport } from "../../checks/evidence/text";
import { runSession } from "../../checks/session";
import { readHostName } from "../../checks/switchover";
import { decideWeather } from "../../checks/weather";
import { simulatedFacility, type SimulatedSite } from "../support/evidence";

const DAY = "2024-11-30";
const clock = (iso: string) => () => new Date(iso);

describe("session under the weather rules", () => {
  let site: SimulatedSite;
  beforeAll(async () => {
    site = await simulatedFacility();
  });
  afterAll(() => site?.close());

  const context = () => ({ config: site.config, key: site.key, knownHosts: site.knownHosts, warnings: [] });

  it("cancels the whole day: no part runs, nothing is contacted, the e-mail gives the circular's reason", async () => {
    const weather = decideWeather("signal8", "08:10", DAY, new Date("2024-11-30T09:30:00+08:00"));
    const before = site.sim.stats().connections;
    const report = await runSession({
      ...context(),
      reportDir: join(site.dir, "cancelled"),
      date: DAY,
      weather,
      now: clock("2024-11-30T12:01:00+08:00"),
    });
    expect(site.sim.stats().connections).toBe(before);
    const s = report.session!;
    expect(s.parts.map((p) => `${p.part}:${p.status}`)).toEqual(["precheck:not-run", "1:not-run", "2:not-run"]);
    expect(s.parts.every((p) => p.note === weather.reason)).toBe(true);
    expect(report.endpoints).toEqual([]);
    expect(s.completed).toBe(false);
    expect(report.verdict).toBe("fail");
    expect(s.weather).toEqual({ warning: "Typhoon Signal No. 8 (or above)", issuedAt: "08:10", effect: "cancelled" });
    expect(s.email.body.startsWith(`${fillDate(EMAIL_TEMPLATE.notCompleted, DAY)}\n\n`)).toBe(true);
    expect(s.email.body).toContain(`- Part 1 (Secondary Data Centre) did not run: ${weather.reason}\n`);
    expect(s.email.body).toContain(`- Part 2 (Primary Data Centre) did not run: ${weather.reason}\n`);
    // Primary stays in place for the next business day.
    expect(readHostName(site.sshConfig, "hkex-rr")).toBe(site.config.sites.primary.targets[0]!.host);
    expect(s.primaryRestored).toBe(true);
    // The summary line says why nothing ran, not "FAIL  ()".
    const first = renderReport(report).split("\n")[0]!;
    expect(first).toBe(`hkex-ready session: FAIL  (no endpoint was contacted: ${weather.reason})`);
    expect(first).not.toContain("()");
  });

  it("after a terminate whose stop time has passed, skips the remaining part and restores primary", async () => {
    const reportDir = join(site.dir, "terminated");
    const one = await runSession({ ...context(), reportDir, date: DAY, part: 1, now: clock("2024-11-30T12:20:00+08:00") });
    expect(one.session!.parts.map((p) => `${p.part}:${p.status}`)).toEqual(["precheck:pass", "1:pass"]);
    expect(readHostName(site.sshConfig, "hkex-rr")).toBe(site.config.sites.secondary.targets[0]!.host);

    const weather = decideWeather("extreme", "12:40", DAY, new Date("2024-11-30T13:00:00+08:00"));
    expect(weather.stopAt!.toISOString()).toBe("2024-11-30T04:55:00.000Z");
    const before = site.sim.stats().connections;
    const two = await runSession({ ...context(), reportDir, date: DAY, part: 2, weather, now: clock("2024-11-30T15:05:00+08:00") });
    expect(site.sim.stats().connections).toBe(before);
    const s = two.session!;
    expect(s.parts.map((p) => `${p.part}:${p.status}`)).toEqual(["precheck:pass", "1:pass", "2:not-run"]);
    expect(s.parts[2]!.note).toBe(weather.reason);
    expect(s.parts[2]!.switchover?.after).toBe(site.config.sites.primary.targets[0]!.host);
    expect(readHostName(site.sshConfig, "hkex-rr")).toBe(site.config.sites.primary.targets[0]!.host);
    expect(s.completed).toBe(false);
    expect(s.weather).toMatchObject({ effect: "terminate", issuedAt: "12:40", stopAt: "2024-11-30T12:55:00.000+08:00" });
    expect(s.reasons).toContain(`Part 2 (Primary Data Centre) did not run: ${weather.reason}`);
    expect(s.email.body).toContain("HKEX terminated the session at 12:55, 15 minutes thereafter");
    const state = JSON.parse(readFileSync(join(reportDir, "session-state.json"), "utf8")) as { parts: unknown[] };
    expect(state.parts).toHaveLength(3);
  });

  it("runs as normal under a Black Rainstorm Warning issued during the session", async () => {
    const weather = decideWeather("black-rainstorm", "12:10", DAY, new Date("2024-11-30T12:15:00+08:00"));
    const report = await runSession({
      ...context(),
      reportDir: join(site.dir, "rainstorm"),
      date: DAY,
      weather,
      now: clock("2024-11-30T12:20:00+08:00"),
    });
    expect(report.session!.parts.map((p) => `${p.part}:${p.status}`)).toEqual(["precheck:pass", "1:pass", "2:pass"]);
    expect(report.session!.completed).toBe(true);
    expect(report.session!.weather?.effect).toBe("continue");
  });
});
