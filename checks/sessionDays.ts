/**
 * The session calendar a run works with: the config's `sessionDays`, or the
 * catalogue's days when it has none. A session run on a day that is not one
 * of them, or with --rehearsal, is a rehearsal: its evidence says so and its
 * e-mail is a draft not to send.
 */
import { SESSION_PARTS, type PartWindow, type SessionDay } from "../catalogue";
import { hkDateTime, longDate, minutesOfDay } from "../core/time";

export function sessionDayOn(days: readonly SessionDay[], date: string): SessionDay | undefined {
  return days.find((d) => d.date === date);
}

/**
 * The session day whose windows a run on `date` follows: that day itself, or
 * for a rehearsal on another day, the next configured day after it (the one
 * being rehearsed), else the last one. Undefined when no day is configured.
 */
export function rehearsedDay(days: readonly SessionDay[], date: string): SessionDay | undefined {
  const sorted = [...days].sort((a, b) => (a.date < b.date ? -1 : 1));
  return sessionDayOn(sorted, date) ?? sorted.find((d) => d.date > date) ?? sorted.at(-1);
}

/** The windows of the parts on `date`: those of the day being run or rehearsed, else the circular's rundown. */
export function windowsOn(days: readonly SessionDay[], date: string): readonly PartWindow[] {
  return rehearsedDay(days, date)?.parts ?? SESSION_PARTS;
}

/** "the session days are 2024-11-16 and 2024-11-30", "the session day is 2025-03-15". */
function listDates(days: readonly SessionDay[]): string {
  const dates = [...days].map((d) => d.date).sort();
  return dates.length <= 1
    ? `the session day is ${dates[0] ?? "none"}`
    : `the session days are ${dates.slice(0, -1).join(", ")} and ${dates.at(-1)}`;
}

/**
 * Why a run of the session on `date` is a rehearsal, or undefined when it is
 * the real session: `date` is a configured session day and no rehearsal was
 * asked for. `requested` is --rehearsal, or the reason the caller always
 * rehearses (the demo).
 */
export function rehearsalReason(days: readonly SessionDay[], date: string, requested: boolean | string): string | undefined {
  if (typeof requested === "string") return requested;
  if (!sessionDayOn(days, date)) {
    return `${longDate(date)} is not a configured session day (${listDates(days)}; add the next ones under sessionDays in the config)`;
  }
  if (requested) return `run with --rehearsal on the session day ${longDate(date)}`;
  return undefined;
}

/** Whether `at` falls inside the window, comparing the time of day in Hong Kong (a rehearsal on another day is judged against the windows it rehearses). */
export function insideWindow(window: Pick<PartWindow, "start" | "end">, at: Date): boolean {
  const t = hkDateTime(at);
  const minutes = t.hour * 60 + t.minute + t.second / 60;
  return minutes >= minutesOfDay(window.start) && minutes < minutesOfDay(window.end);
}
