/** `hkex-ready schedule`: the calendar from the catalogue and what is due, at fixed Hong Kong instants. */
import { describe, expect, it } from "vitest";
import { InputError } from "../../core/errors";
import { parseNow, renderSchedule, scheduleAt } from "../../checks/schedule";

const at = (iso: string) => scheduleAt(parseNow(iso));

describe("schedule", () => {
  it("lists both session days with their windows, hosts and registration deadlines", () => {
    const s = at("2024-10-30T10:00");
    expect(s.now).toBe("2024-10-30T10:00:00+08:00");
    expect(s.days.map((d) => [d.date, d.label, d.registrationDeadline, d.status, d.registration])).toEqual([
      ["2024-11-16", "Saturday 16 November 2024", "2024-11-06", "upcoming", "open"],
      ["2024-11-30", "Saturday 30 November 2024", "2024-11-20", "upcoming", "open"],
    ]);
    expect(s.days[0]!.parts).toEqual([
      {
        part: 1,
        title: "Part 1 - Secondary Data Centre",
        site: "secondary",
        start: "12:00",
        end: "14:00",
        hosts: ["10.152.14.141", "10.152.14.142"],
        port: 18801,
      },
      {
        part: 2,
        title: "Part 2 - Primary Data Centre",
        site: "primary",
        start: "15:00",
        end: "17:00",
        hosts: ["10.151.14.141", "10.151.14.142"],
        port: 18801,
      },
    ]);
  });

  it("counts down to the registration deadlines and the next session", () => {
    expect(at("2024-10-30T10:00").due).toEqual([
      "registration for the session of Saturday 16 November 2024 closes in 7 days (on or before Wednesday 6 November 2024, on Client Connect)",
      "registration for the session of Saturday 30 November 2024 closes in 21 days (on or before Wednesday 20 November 2024, on Client Connect)",
      "next session: Saturday 16 November 2024, Part 1 12:00-14:00 (secondary), Part 2 15:00-17:00 (primary), in 17 days",
    ]);
    expect(at("2024-11-03T23:00").due[0]).toContain("closes in 3 days");
    expect(at("2024-11-05T09:00").due[0]).toContain("closes tomorrow");
    expect(at("2024-11-06T23:59").due[0]).toContain("closes today");
    expect(at("2024-11-07T00:00").due[0]).toBe(
      "registration for the session of Saturday 16 November 2024 closed on Wednesday 6 November 2024",
    );
  });

  it("reads --now in Hong Kong time unless it carries an offset", () => {
    // 04:30 UTC is 12:30 in Hong Kong: Part 1 is open, not "opens at 12:00".
    expect(at("2024-11-16T04:30Z").due[0]).toBe(at("2024-11-16T12:30").due[0]);
    expect(at("2024-11-16T04:30Z").due[0]).toMatch(/window open until 14:00/);
  });

  it("on a session day, says what is due hour by hour", () => {
    const morning = at("2024-11-16T08:00").due;
    expect(morning[0]).toMatch(/^session day \(Saturday 16 November 2024\): .* at or after 09:00 cancels the day/);
    expect(morning[1]).toBe(
      "Part 1 - Secondary Data Centre window opens at 12:00 (in 4 h): point the SFTP client at the secondary data centre, 10.152.14.141, 10.152.14.142 port 18801",
    );
    expect(morning.at(-1)).toBe(
      "next session after today: Saturday 30 November 2024, Part 1 12:00-14:00 (secondary), Part 2 15:00-17:00 (primary), in 14 days",
    );
    expect(at("2024-11-16T11:15").due[0]).toMatch(/^Part 1 - Secondary Data Centre window opens at 12:00 \(in 45 min\)/);
    expect(at("2024-11-16T12:30").due[0]).toBe(
      "Part 1 - Secondary Data Centre window open until 14:00 (1 h 30 min left): secondary data centre, 10.152.14.141, 10.152.14.142 port 18801",
    );
    expect(at("2024-11-16T14:30").due[0]).toMatch(
      /^Part 2 - Primary Data Centre window opens at 15:00 \(in 30 min\): point the SFTP client at the primary data centre, 10\.151\.14\.141/,
    );
    expect(at("2024-11-16T16:59").due[0]).toMatch(/^Part 2 - Primary Data Centre window open until 17:00 \(1 min left\)/);
    expect(at("2024-11-16T17:00").due[0]).toBe(
      "today's session is over: keep the primary IP addresses for the next business day, and send the confirmation e-mail to clearingpsd@hkex.com.hk today",
    );
  });

  it("says when every session is past", () => {
    const s = at("2024-12-01T09:00");
    expect(s.days.every((d) => d.status === "past")).toBe(true);
    expect(s.due).toEqual([
      "all configured sessions are past (the last was Saturday 30 November 2024): when HKEX announces new ones, add their days under sessionDays in the config and run schedule --config",
    ]);
    expect(at("2024-11-30T18:00").due).toEqual([
      "today's session is over: keep the primary IP addresses for the next business day, and send the confirmation e-mail to clearingpsd@hkex.com.hk today",
    ]);
  });

  it("renders the calendar as text", () => {
    const text = renderSchedule(at("2024-11-16T12:30"));
    expect(text).toContain("now: Saturday 16 November 2024 12:30");
    expect(text).toContain(
      "  Saturday 16 November 2024  (TODAY)  circular PT/OEC/SEOCH/293/2024\n    registration on or before Wednesday 6 November 2024 (closed)\n    12:00-14:00  Part 1 - Secondary Data Centre: 10.152.14.141, 10.152.14.142 port 18801\n",
    );
    expect(text).toContain("due now:\n  - Part 1 - Secondary Data Centre window open until 14:00");
  });

  it("rejects a --now that is not ISO 8601, naming the flag", () => {
    expect(() => parseNow("next tuesday")).toThrow(InputError);
    expect(() => parseNow("2024-13-01")).toThrow(/--now: "2024-13-01" is not a calendar date \(there is no month 13\)/);
    expect(() => parseNow("2024-11-31T12:00")).toThrow(/--now: "2024-11-31" is not a calendar date \(November 2024 has 30 days\)/);
    expect(() => parseNow("2024-02-30")).toThrow(/February 2024 has 29 days/);
    expect(() => parseNow("2024-11-30T25:00")).toThrow(/--now: "2024-11-30T25:00" is not an ISO 8601 date-time/);
  });
});
