/** The session day (#day-timeline): the published windows, when each part ran, and the switchover moments. */
import type { DateTime } from "luxon";
import { partKey, partTitle, SESSION_PARTS } from "../../../catalogue";
import type { PartReport, Report, SessionSummary, WindowRecord } from "../../report";
import { switchText } from "../text";
import { LABEL_W, PLOT_W, px, W } from "./chart";
import { clock, esc, hk } from "./markup";

/** Hours of the day on the x axis (minutes since midnight), one row per part. */
interface DayChart {
  readonly x: (minutes: number) => number;
  readonly lo: number;
  readonly hi: number;
  readonly rows: number;
  readonly top: number;
  readonly rowH: number;
}

function minutesOfDay(t: DateTime): number {
  return t.hour * 60 + t.minute + t.second / 60 + t.millisecond / 60_000;
}

function hhmmMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number) as [number, number];
  return h * 60 + m;
}

/** The windows the run followed (session.windows: the configured session day's), else the circular's rundown. */
function windowsFor(report: Report): readonly WindowRecord[] {
  const windows = report.session?.windows;
  return windows && windows.length > 0 ? windows : SESSION_PARTS;
}

/** Every instant the parts ran at, and so the hours to show: at least 11:00-18:00, whole hours. */
function dayChart(parts: readonly PartReport[]): { chart: DayChart; ranOn: string[] } {
  const instants: DateTime[] = [];
  for (const p of parts) {
    instants.push(hk(p.startedAt), hk(p.finishedAt));
    if (p.switchover) instants.push(hk(p.switchover.at));
  }
  const valid = instants.filter((t) => t.isValid);
  const ranOn = [...new Set(valid.map((t) => t.toISODate()!))];
  const mins = valid.map(minutesOfDay);
  const lo = Math.max(0, Math.floor(Math.min(11 * 60, ...mins) / 60) * 60);
  const hi = Math.min(24 * 60, Math.ceil(Math.max(18 * 60, ...mins) / 60) * 60);
  const x = (m: number) => LABEL_W + ((m - lo) / (hi - lo)) * PLOT_W;
  return { chart: { x, lo, hi, rows: parts.length, top: 34, rowH: 26 }, ranOn };
}

function windowBand(w: WindowRecord, c: DayChart): string {
  const x1 = c.x(hhmmMinutes(w.start));
  const x2 = c.x(hhmmMinutes(w.end));
  return (
    `<g class="window-band" data-part="${partKey(w.part)}" data-start="${w.start}" data-end="${w.end}"><rect class="window" x="${px(x1)}" y="${c.top - 6}" width="${px(x2 - x1)}" height="${c.rows * c.rowH + 8}"><title>${esc(`${partTitle(w.part)} window: ${w.start}-${w.end}`)}</title></rect>` +
    `<text x="${px((x1 + x2) / 2)}" y="${c.top - 12}" text-anchor="middle">${esc(`${partTitle(w.part)} window ${w.start}–${w.end} (${w.site})`)}</text></g>`
  );
}

function hourGrid(c: DayChart): string[] {
  const out: string[] = [];
  const bottom = c.top + c.rows * c.rowH;
  for (let h = c.lo; h <= c.hi; h += 60) {
    out.push(`<line class="grid" x1="${px(c.x(h))}" y1="${c.top - 6}" x2="${px(c.x(h))}" y2="${bottom + 2}"/>`);
    out.push(`<text class="small" x="${px(c.x(h))}" y="${bottom + 16}" text-anchor="middle">${String(h / 60).padStart(2, "0")}:00</text>`);
  }
  return out;
}

/** One part's row: its label, and a bar from start to finish with its status. */
function partRun(p: PartReport, row: number, c: DayChart): string[] {
  const y = c.top + row * c.rowH;
  const s = hk(p.startedAt);
  const f = hk(p.finishedAt);
  const out = [
    `<g class="part-run" data-part="${partKey(p.part)}" data-status="${esc(p.status)}">`,
    `<text x="8" y="${y + 16}">${esc(`${partTitle(p.part)} · ${p.site}`)}</text>`,
  ];
  if (s.isValid && f.isValid) {
    const x1 = c.x(minutesOfDay(s));
    const w = Math.max(4, c.x(minutesOfDay(f)) - x1);
    const what =
      p.status === "not-run" ? `not run${p.note ? `: ${p.note}` : ""}` : `${p.status}, ${clock(p.startedAt)}–${clock(p.finishedAt)}`;
    out.push(
      `<rect class="run ${esc(p.status)}" x="${px(x1)}" y="${y + 5}" width="${px(w)}" height="14" rx="2"><title>${esc(`${partTitle(p.part)} on ${p.site}: ${what}`)}</title></rect>`,
    );
    const label = `${clock(p.startedAt, false)} ${p.status}${p.withinWindow === false ? " (outside window)" : ""}`;
    // Near the right edge the label reads leftwards from the bar's start.
    const right = x1 + w + 4 > W - 120;
    out.push(
      `<text class="small" x="${px(right ? x1 - 4 : x1 + w + 4)}" y="${y + 16}"${right ? ' text-anchor="end"' : ""}>${esc(label)}</text>`,
    );
  }
  out.push("</g>");
  return out;
}

/** A dashed line across every row at the moment the client was switched for this part. */
function switchoverLine(p: PartReport, c: DayChart): string[] {
  if (!p.switchover) return [];
  const t = hk(p.switchover.at);
  if (!t.isValid) return [];
  const sx = px(c.x(minutesOfDay(t)));
  const tip = `switchover for ${partTitle(p.part)} at ${clock(p.switchover.at)}: ${switchText(p.switchover)}`;
  return [
    `<g class="switchover-mark" data-part="${partKey(p.part)}"><line class="switch" x1="${sx}" y1="${c.top - 4}" x2="${sx}" y2="${c.top + c.rows * c.rowH}"><title>${esc(tip)}</title></line></g>`,
  ];
}

/** A rehearsal on another day is drawn against the session day's windows, and says so. */
function ranOnAnotherDayNote(ranOn: readonly string[], session: SessionSummary): string {
  const of = session.windowsOf ? ` of ${session.windowsOf.date} (circular ${session.windowsOf.circular})` : "";
  if (ranOn.length === 0 || (ranOn.length === 1 && ranOn[0] === session.date)) {
    return session.rehearsal ? `<p class="sub">A rehearsal: the bars show when the parts ran against the windows${esc(of)}.</p>` : "";
  }
  return `<p class="sub">Ran on ${esc(ranOn.join(", "))}, not only on the session date ${esc(session.date)}: the bars show the time of day against the session day's windows${esc(of)}.</p>`;
}

export function dayTimeline(report: Report): string {
  const session = report.session!;
  const { chart: c, ranOn } = dayChart(session.parts);
  const height = c.top + c.rows * c.rowH + 40;
  const out = [`<svg id="day-timeline" viewBox="0 0 ${W} ${height}" role="img" aria-label="Session day timeline, Hong Kong time">`];
  for (const w of windowsFor(report)) out.push(windowBand(w, c));
  out.push(...hourGrid(c));
  for (const [row, p] of session.parts.entries()) out.push(...partRun(p, row, c), ...switchoverLine(p, c));
  const axisY = c.top + c.rows * c.rowH + 2;
  out.push(`<line class="axis" x1="${LABEL_W}" y1="${axisY}" x2="${W - 20}" y2="${axisY}"/>`, "</svg>");
  return ranOnAnotherDayNote(ranOn, session) + out.join("\n");
}
