/** The circular's severe weather arrangements (section 5), as a pure decision with fixed clocks. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WEATHER_RULES } from "../../catalogue";
import { weatherFor } from "../../cli/commands/session";
import { InputError } from "../../core/errors";
import { decideWeather, parseIssuedAt, WEATHER_NAMES } from "../../checks/weather";

const DAY = "2024-11-30";
/** The last second of the session day in Hong Kong: every issue time of the day is in the past. */
const EVENING = new Date("2024-11-30T23:59:59+08:00");

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error("expected an InputError");
}

describe("decideWeather", () => {
  it("reads the rules from the catalogue's words", () => {
    expect(WEATHER_RULES.cancelled).toMatch(/at or after 9:00 a\.m\..*will be cancelled/);
    expect(WEATHER_RULES.terminated).toMatch(/terminated 15 minutes thereafter/);
    expect(WEATHER_RULES.blackRainstormDuring).toMatch(/continue as normal/);
  });

  it("cancels the day for Signal No. 8 issued before 09:00: in force at 09:00", () => {
    const d = decideWeather("signal8", "07:30", DAY, EVENING);
    expect(d.effect).toBe("cancelled");
    expect(d.stopAt).toBeUndefined();
    expect(d.warning).toBe(WEATHER_NAMES.signal8);
    expect(d.reason).toBe(
      "Typhoon Signal No. 8 (or above) issued at 07:30 and in force at 9:00 a.m. Hong Kong time on 30 November 2024: HKEX cancelled the Connectivity Session for the rest of the day (severe weather arrangements)",
    );
  });

  it.each([
    ["signal8", "09:00"],
    ["extreme", "10:15"],
    ["signal8", "11:59"],
  ] as const)("cancels the day for %s issued at %s, at or after 09:00 and before the session starts", (warning, at) => {
    const d = decideWeather(warning, at, DAY, EVENING);
    expect(d.effect).toBe("cancelled");
    expect(d.reason).toContain(`issued at ${at} Hong Kong time on 30 November 2024, at or after 9:00 a.m.`);
  });

  it("cancels the day for a Black Rainstorm Warning at or after 09:00 but before the start, as the circular's first paragraph says", () => {
    expect(decideWeather("black-rainstorm", "09:30", DAY, EVENING).effect).toBe("cancelled");
    expect(decideWeather("black-rainstorm", "06:00", DAY, EVENING).effect).toBe("cancelled");
    expect(decideWeather("black-rainstorm", "11:59", DAY, EVENING).effect).toBe("cancelled");
  });

  it("lets the session continue for a Black Rainstorm Warning issued during it", () => {
    const d = decideWeather("black-rainstorm", "12:40", DAY, EVENING);
    expect(d.effect).toBe("continue");
    expect(d.stopAt).toBeUndefined();
    expect(d.reason).toContain("during the Connectivity Session: all scheduled activities continue as normal");
    expect(decideWeather("black-rainstorm", "16:59", DAY, EVENING).effect).toBe("continue");
  });

  it("terminates the session 15 minutes after Signal No. 8 or Extreme Conditions issued after the start", () => {
    const s8 = decideWeather("signal8", "12:30", DAY, EVENING);
    expect(s8.effect).toBe("terminate");
    expect(s8.stopAt?.toISOString()).toBe("2024-11-30T04:45:00.000Z");
    expect(s8.reason).toContain(
      "after the start of the Connectivity Session (12:00): HKEX terminated the session at 12:45, 15 minutes thereafter",
    );
    const ex = decideWeather("extreme", "15:10", DAY, EVENING);
    expect(ex.effect).toBe("terminate");
    expect(ex.stopAt?.toISOString()).toBe("2024-11-30T07:25:00.000Z");
  });

  it("treats an issue at 12:00 exactly as after the start: terminate at 12:15", () => {
    const d = decideWeather("signal8", "12:00", DAY, EVENING);
    expect(d.effect).toBe("terminate");
    expect(d.stopAt?.toISOString()).toBe("2024-11-30T04:15:00.000Z");
  });

  it("refuses an issue time later than now on the session day itself", () => {
    const e = inputError(() => decideWeather("signal8", "13:00", DAY, new Date("2024-11-30T12:10:00+08:00")));
    expect(e.problems[0]).toMatchObject({ path: "--issued-at" });
    expect(e.message).toContain("13:00 is later than now (12:10 Hong Kong time on 2024-11-30)");
    // A rehearsal for a future day is not "the future" in that sense.
    expect(decideWeather("signal8", "13:00", DAY, new Date("2024-11-20T09:00:00+08:00")).effect).toBe("terminate");
  });

  it("has no effect for Signal No. 8 issued after the last window closed", () => {
    const d = decideWeather("signal8", "17:30", DAY, EVENING);
    expect(d.effect).toBe("continue");
    expect(d.stopAt).toBeUndefined();
    expect(d.reason).toContain("after the session's last window closed (17:00): no effect on the session");
  });

  it("follows the rules for every minute of the day", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.constantFrom("signal8", "extreme", "black-rainstorm" as const),
        (h, m, w) => {
          const at = `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
          const d = decideWeather(w, at, DAY, EVENING);
          const minutes = h * 60 + m;
          if (minutes < 12 * 60) expect(d.effect).toBe("cancelled");
          else if (w === "black-rainstorm" || minutes >= 17 * 60) expect(d.effect).toBe("continue");
          else {
            expect(d.effect).toBe("terminate");
            expect(d.stopAt!.getTime() - new Date(`${DAY}T${at}:00+08:00`).getTime()).toBe(15 * 60_000);
          }
          expect(d.issuedAt).toBe(at);
        },
      ),
    );
  });
});

describe("--weather and --issued-at", () => {
  it.each(["24:00", "9:00", "12:60", "noon", "12:00:00", ""])("rejects --issued-at %j naming the flag", (value) => {
    const e = inputError(() => parseIssuedAt(value));
    expect(e.problems).toEqual([{ path: "--issued-at", message: `"${value}" is not a Hong Kong time in HH:MM form (00:00-23:59)` }]);
  });

  it("needs both flags together", () => {
    expect(inputError(() => weatherFor({ issuedAt: "10:00" }, DAY, EVENING)).problems[0]!.path).toBe("--issued-at");
    expect(inputError(() => weatherFor({ weather: "signal8" }, DAY, EVENING)).problems[0]!.path).toBe("--weather");
    expect(inputError(() => weatherFor({ weather: "snow", issuedAt: "10:00" }, DAY, EVENING)).message).toContain(
      '"snow" is not one of signal8, black-rainstorm, extreme',
    );
    expect(weatherFor({}, DAY, EVENING)).toBeUndefined();
    expect(weatherFor({ weather: "extreme", issuedAt: "13:05" }, DAY, EVENING)).toMatchObject({ effect: "terminate", issuedAt: "13:05" });
  });
});
