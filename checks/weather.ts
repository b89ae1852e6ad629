/**
 * The circular's severe weather arrangements (information package, section 5;
 * WEATHER_RULES in the catalogue, word for word) as a pure decision: which
 * warning, issued when, on which day, seen at which instant.
 *
 *  - Typhoon Signal No. 8 (or above), Extreme Conditions or a Black Rainstorm
 *    Warning issued or in force at or after 09:00, before the session starts:
 *    the day is cancelled.
 *  - Signal 8+ or Extreme Conditions issued after the start: the session is
 *    terminated 15 minutes later; no new step starts after then.
 *  - Black Rainstorm Warning issued during the session: it continues as normal.
 *
 * A single --issued-at cannot say "issued at 07:00 and lowered at 08:30", so
 * an issue time before 09:00 is read as "still in force at 09:00": cancelled.
 * A warning lowered before 09:00 does not affect the day; leave --weather off.
 */
import { SESSION_DAYS, WEATHER_RULES, type SessionDay } from "../catalogue";
import { InputError } from "../core/errors";
import type { WeatherDecision } from "./session";
import { calendarDateProblem, hkDateTime, hkInstant, longDate } from "../core/time";
import { windowsOn } from "./sessionDays";
import { WEATHER_WARNINGS, type WeatherWarning } from "./weatherWarnings";

export { WEATHER_WARNINGS } from "./weatherWarnings";

/** The circular's names for the warnings. */
export const WEATHER_NAMES: Readonly<Record<WeatherWarning, string>> = Object.freeze({
  signal8: "Typhoon Signal No. 8 (or above)",
  extreme: "Extreme Conditions",
  "black-rainstorm": "Black Rainstorm Warning",
});

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function isWeatherWarning(value: string): value is WeatherWarning {
  return (WEATHER_WARNINGS as readonly string[]).includes(value);
}

/** Validates "HH:MM" (00:00-23:59); the message names the flag. */
export function parseIssuedAt(value: string, flag = "--issued-at"): string {
  if (!HHMM.test(value)) {
    throw new InputError({ path: flag, message: `"${value}" is not a Hong Kong time in HH:MM form (00:00-23:59)` });
  }
  return value;
}

/** Session start and end on that day (its windows in `days`, else the circular's): the first part's start, the last part's end. */
function sessionHours(date: string, days: readonly SessionDay[] = SESSION_DAYS): { start: string; end: string } {
  const parts = windowsOn(days, date);
  const start = parts.map((p) => p.start).sort()[0]!;
  const end = parts
    .map((p) => p.end)
    .sort()
    .at(-1)!;
  return { start, end };
}

/**
 * What the weather does to the session of `date` (yyyy-mm-dd, Hong Kong).
 * `issuedAt` is "HH:MM" Hong Kong time on that day. `now` only guards against
 * an issue time later than the present on the session day itself.
 */
export function decideWeather(
  warning: WeatherWarning,
  issuedAt: string,
  date: string,
  now: Date,
  days: readonly SessionDay[] = SESSION_DAYS,
): WeatherDecision {
  if (!isWeatherWarning(warning)) {
    throw new InputError({ path: "--weather", message: `"${String(warning)}" is not one of ${WEATHER_WARNINGS.join(", ")}` });
  }
  parseIssuedAt(issuedAt);
  const badDate = calendarDateProblem(date);
  if (badDate) throw new InputError({ path: "--date", message: badDate });
  const issued = hkInstant(date, issuedAt);
  const nowHk = hkDateTime(now);
  if (nowHk.toISODate() === date && issued > nowHk) {
    throw new InputError({
      path: "--issued-at",
      message: `${issuedAt} is later than now (${nowHk.toFormat("HH:mm")} Hong Kong time on ${date}); give the time the warning was actually issued`,
    });
  }
  const name = WEATHER_NAMES[warning];
  const { start, end } = sessionHours(date, days);
  const day = longDate(date);
  const base = { warning: name, issuedAt };

  if (issuedAt < WEATHER_RULES.cancelAt) {
    return {
      ...base,
      effect: "cancelled",
      reason: `${name} issued at ${issuedAt} and in force at 9:00 a.m. Hong Kong time on ${day}: HKEX cancelled the Connectivity Session for the rest of the day (severe weather arrangements)`,
    };
  }
  if (issuedAt < start) {
    return {
      ...base,
      effect: "cancelled",
      reason: `${name} issued at ${issuedAt} Hong Kong time on ${day}, at or after 9:00 a.m.: HKEX cancelled the Connectivity Session for the rest of the day (severe weather arrangements)`,
    };
  }
  if (warning === "black-rainstorm") {
    return {
      ...base,
      effect: "continue",
      reason:
        issuedAt < end
          ? `${name} issued at ${issuedAt} Hong Kong time on ${day}, during the Connectivity Session: all scheduled activities continue as normal (severe weather arrangements)`
          : `${name} issued at ${issuedAt} Hong Kong time on ${day}, after the session's last window closed (${end}): no effect on the session`,
    };
  }
  if (issuedAt >= end) {
    // Nothing is left to terminate once the last window has closed.
    return {
      ...base,
      effect: "continue",
      reason: `${name} issued at ${issuedAt} Hong Kong time on ${day}, after the session's last window closed (${end}): no effect on the session`,
    };
  }
  const stop = issued.plus({ minutes: WEATHER_RULES.terminateAfterMinutes });
  return {
    ...base,
    effect: "terminate",
    stopAt: stop.toJSDate(),
    reason: `${name} issued at ${issuedAt} Hong Kong time on ${day}, after the start of the Connectivity Session (${start}): HKEX terminated the session at ${stop.toFormat("HH:mm")}, ${WEATHER_RULES.terminateAfterMinutes} minutes thereafter (severe weather arrangements)`,
  };
}
