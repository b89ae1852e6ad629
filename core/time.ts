/** Hong Kong time helpers: every timestamp the kit writes is Asia/Hong_Kong. */
import { DateTime } from "luxon";
import { HKEX_TIME_ZONE } from "../catalogue";

export function hkDateTime(at: Date | number = Date.now()): DateTime {
  return DateTime.fromMillis(typeof at === "number" ? at : at.getTime(), { zone: HKEX_TIME_ZONE });
}

/** ISO 8601 with the +08:00 offset and milliseconds. */
export function hkNow(at: Date | number = Date.now()): string {
  return hkDateTime(at).toISO({ suppressMilliseconds: false })!;
}

/** yyyy-MM-dd in Hong Kong. */
export function hkDate(at: Date | number = Date.now()): string {
  return hkDateTime(at).toISODate()!;
}

/** "HH:mm" on a Hong Kong date, as an instant. */
export function hkInstant(date: string, hhmm: string): DateTime {
  return DateTime.fromISO(`${date}T${hhmm}`, { zone: HKEX_TIME_ZONE });
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/**
 * Why `value` is not a calendar date in yyyy-mm-dd form ("2024-11-31": November
 * has 30 days), or undefined when it is one. Every date the kit takes, from a
 * flag or the config, is checked with this before anything is done with it.
 */
export function calendarDateProblem(value: string): string | undefined {
  const m = ISO_DATE.exec(value);
  if (!m) return `"${value}" is not a date in yyyy-mm-dd form`;
  const d = DateTime.fromObject({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) }, { zone: HKEX_TIME_ZONE });
  if (d.isValid) return undefined;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return `"${value}" is not a calendar date (there is no month ${m[2]})`;
  const days = DateTime.fromObject({ year: Number(m[1]), month }, { zone: HKEX_TIME_ZONE }).daysInMonth;
  const name = DateTime.fromObject({ year: Number(m[1]), month })
    .setLocale("en-GB")
    .toFormat("MMMM yyyy");
  return `"${value}" is not a calendar date (${name} has ${days} days)`;
}

/** Why `value` is not a Hong Kong time of day in HH:MM form (00:00-23:59), or undefined. */
export function timeOfDayProblem(value: string): string | undefined {
  return HH_MM.test(value) ? undefined : `"${value}" is not a Hong Kong time in HH:MM form (00:00-23:59)`;
}

/** Minutes since midnight of "HH:MM". */
export function minutesOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number) as [number, number];
  return h * 60 + m;
}

/** "30 November 2024". */
export function longDate(date: string): string {
  return hkInstant(date, "00:00").setLocale("en-GB").toFormat("d MMMM yyyy");
}
