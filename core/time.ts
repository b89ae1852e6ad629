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
