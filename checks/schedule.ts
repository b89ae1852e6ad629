/**
 * The session calendar from the catalogue, and what is due at a given instant
 * in Hong Kong time: registration deadlines, the weather check at 09:00, the
 * Part 1 and Part 2 windows, the confirmation e-mail the same day.
 */
import { DateTime } from "luxon";
import {
  EMAIL_TEMPLATE,
  HKEX_SITES,
  HKEX_TIME_ZONE,
  SESSION_DAYS,
  WEATHER_RULES,
  type PartNumber,
  type SessionDay,
  type SiteName,
  type SiteTable,
} from "../catalogue";
import { InputError } from "../core/errors";
import { calendarDateProblem, hkDateTime, hkInstant } from "../core/time";

export interface SchedulePart {
  readonly part: PartNumber;
  readonly title: string;
  readonly site: SiteName;
  readonly start: string;
  readonly end: string;
  readonly hosts: readonly string[];
  readonly port: number;
}

export interface ScheduleDay {
  readonly date: string;
  /** "Saturday 30 November 2024". */
  readonly label: string;
  readonly status: "past" | "today" | "upcoming";
  readonly registrationDeadline: string;
  readonly registration: "open" | "closed";
  readonly parts: readonly SchedulePart[];
  /** The circular that announced the day. */
  readonly circular: string;
}

export interface ScheduleStatus {
  /** The instant looked at, ISO 8601 in Hong Kong time. */
  readonly now: string;
  readonly timeZone: string;
  /** The circulars of the days listed, comma-separated. */
  readonly circular: string;
  readonly days: readonly ScheduleDay[];
  /** What is due now, most pressing first. */
  readonly due: readonly string[];
}

function dayLabel(date: string): string {
  return hkInstant(date, "00:00").setLocale("en-GB").toFormat("cccc d MMMM yyyy");
}

function calendarDaysBetween(from: string, to: string): number {
  return Math.round(hkInstant(to, "00:00").diff(hkInstant(from, "00:00"), "days").days);
}

function inDays(n: number): string {
  return n === 0 ? "today" : n === 1 ? "tomorrow" : `in ${n} days`;
}

/** "2 h 5 min", "45 min", "less than a minute". */
function untilText(from: DateTime, to: DateTime): string {
  const minutes = Math.floor(to.diff(from, "minutes").minutes);
  if (minutes < 1) return "less than a minute";
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h === 0 ? `${m} min` : m === 0 ? `${h} h` : `${h} h ${m} min`;
}

function hostsText(p: SchedulePart): string {
  return `${p.hosts.join(", ")} port ${p.port}`;
}

/** Parses --now: ISO 8601; without an offset it is Hong Kong time. A date that is not on the calendar is named as such. */
export function parseNow(value: string): Date {
  const datePart = /^(\d{4}-\d{2}-\d{2})(T|$)/.exec(value)?.[1];
  const badDate = datePart !== undefined ? calendarDateProblem(datePart) : undefined;
  if (badDate) throw new InputError({ path: "--now", message: badDate });
  const t = DateTime.fromISO(value, { zone: HKEX_TIME_ZONE });
  if (!t.isValid) {
    throw new InputError({
      path: "--now",
      message: `"${value}" is not an ISO 8601 date-time (e.g. 2024-11-30T12:30 for Hong Kong time, or 2024-11-30T04:30Z)`,
    });
  }
  return t.toJSDate();
}

function todayMessages(day: ScheduleDay, t: DateTime): string[] {
  const at = (hhmm: string) => hkInstant(day.date, hhmm);
  const parts = [...day.parts].sort((a, b) => (a.start < b.start ? -1 : 1));
  const out: string[] = [];
  if (t < at(WEATHER_RULES.cancelAt)) {
    out.push(
      `session day (${day.label}): Typhoon Signal No. 8 (or above), Extreme Conditions or a Black Rainstorm Warning in force at or after ${WEATHER_RULES.cancelAt} cancels the day; check the weather at ${WEATHER_RULES.cancelAt}`,
    );
  }
  const open = parts.find((p) => t >= at(p.start) && t < at(p.end));
  const coming = parts.find((p) => t < at(p.start));
  if (open) {
    out.push(
      `${open.title} window open until ${open.end} (${untilText(t, at(open.end))} left): ${open.site} data centre, ${hostsText(open)}`,
    );
  } else if (coming) {
    out.push(
      `${coming.title} window opens at ${coming.start} (in ${untilText(t, at(coming.start))}): point the SFTP client at the ${coming.site} data centre, ${hostsText(coming)}`,
    );
  }
  const last = [...day.parts].sort((a, b) => (a.end < b.end ? 1 : -1))[0];
  if (last && t >= at(last.end)) {
    out.push(
      `today's session is over: keep the primary IP addresses for the next business day, and send the confirmation e-mail to ${EMAIL_TEMPLATE.to} today`,
    );
  }
  return out;
}

/** The calendar and what is due at `now`. */
export function scheduleAt(now: Date, days: readonly SessionDay[] = SESSION_DAYS, sites: SiteTable = HKEX_SITES): ScheduleStatus {
  const t = hkDateTime(now);
  const today = t.toISODate()!;
  const view: ScheduleDay[] = [...days]
    .sort((a, b) => (a.date < b.date ? -1 : 1))
    .map((d) => ({
      date: d.date,
      label: dayLabel(d.date),
      status: d.date < today ? "past" : d.date === today ? "today" : "upcoming",
      registrationDeadline: d.registrationDeadline,
      registration: today <= d.registrationDeadline ? "open" : "closed",
      circular: d.circular,
      parts: d.parts.map((p) => ({
        part: p.part,
        title: p.title,
        site: p.site,
        start: p.start,
        end: p.end,
        hosts: sites[p.site].hosts,
        port: sites[p.site].port,
      })),
    }));

  const due: string[] = [];
  const current = view.find((d) => d.status === "today");
  if (current) due.push(...todayMessages(current, t));
  const upcoming = view.filter((d) => d.status === "upcoming");
  for (const d of upcoming) {
    const deadline = dayLabel(d.registrationDeadline);
    if (d.registration === "open") {
      due.push(
        `registration for the session of ${d.label} closes ${inDays(calendarDaysBetween(today, d.registrationDeadline))} (on or before ${deadline}, on Client Connect)`,
      );
    } else {
      due.push(`registration for the session of ${d.label} closed on ${deadline}`);
    }
  }
  const next = upcoming[0];
  if (next) {
    const windows = next.parts.map((p) => `Part ${p.part} ${p.start}-${p.end} (${p.site})`).join(", ");
    due.push(
      `${current ? "next session after today" : "next session"}: ${next.label}, ${windows}, ${inDays(calendarDaysBetween(today, next.date))}`,
    );
  } else if (!current) {
    const last = view.at(-1);
    due.push(
      `all configured sessions are past${last ? ` (the last was ${last.label})` : ""}: when HKEX announces new ones, add their days under sessionDays in the config and run schedule --config`,
    );
  }
  const circulars = [...new Set(view.map((d) => d.circular))].join(", ");
  return { now: t.toISO({ suppressMilliseconds: true })!, timeZone: HKEX_TIME_ZONE, circular: circulars, days: view, due };
}

export function renderSchedule(s: ScheduleStatus): string {
  const lines = [
    `HKEX secondary data centre connectivity sessions (${s.circular.includes(",") ? "circulars" : "circular"} ${s.circular}), Hong Kong time`,
    `now: ${DateTime.fromISO(s.now, { zone: HKEX_TIME_ZONE }).setLocale("en-GB").toFormat("cccc d MMMM yyyy HH:mm")}`,
    "",
  ];
  for (const d of s.days) {
    const reg = d.registration === "open" ? "open" : "closed";
    lines.push(`  ${d.label}${d.status === "past" ? "  (past)" : d.status === "today" ? "  (TODAY)" : ""}  circular ${d.circular}`);
    lines.push(`    registration on or before ${dayLabel(d.registrationDeadline)} (${reg})`);
    for (const p of d.parts) lines.push(`    ${p.start}-${p.end}  ${p.title}: ${hostsText(p)}`);
  }
  lines.push("", "due now:");
  for (const m of s.due) lines.push(`  - ${m}`);
  return `${lines.join("\n")}\n`;
}
