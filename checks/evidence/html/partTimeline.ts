/** One part, zoomed in (.part-timeline): each endpoint and each phase with its duration; the switchover at the start. */
import { switchText } from "../text";
import { DateTime } from "luxon";
import { endpointLabel, HKEX_TIME_ZONE, partKey, partTitle, type RunPart } from "../../../catalogue";
import type { EndpointReport, PartReport, PhaseResult, SwitchoverRecord } from "../../report";
import { LABEL_W, PLOT_W, px, W } from "./chart";
import { clock, duration, esc, hk, WORD } from "./markup";

/** Milliseconds since the part began on the x axis, one row per endpoint. */
interface PartChart {
  readonly x: (ms: number) => number;
  readonly t0: number;
  readonly span: number;
  readonly rows: number;
  readonly top: number;
  readonly rowH: number;
}

/** From the earliest start (or the switchover before it) to the latest end. */
function partChart(endpoints: readonly EndpointReport[], switchAt: number): PartChart {
  const starts = endpoints.map((e) => hk(e.startedAt).toMillis()).filter(Number.isFinite);
  const ends = endpoints.map((e) => hk(e.startedAt).toMillis() + e.ms).filter(Number.isFinite);
  const t0 = Math.min(...starts, ...(Number.isFinite(switchAt) ? [switchAt] : []));
  const t1 = Math.max(...ends, t0 + 1);
  const span = t1 - t0;
  return { x: (ms: number) => LABEL_W + ((ms - t0) / span) * PLOT_W, t0, span, rows: endpoints.length, top: 22, rowH: 30 };
}

/** Five ticks: the clock time at the start, then the time elapsed. */
function timeTicks(c: PartChart): string[] {
  const out: string[] = [];
  const bottom = c.top + c.rows * c.rowH;
  for (let i = 0; i <= 4; i++) {
    const ms = c.t0 + (c.span * i) / 4;
    const gx = px(c.x(ms));
    out.push(`<line class="grid" x1="${gx}" y1="${c.top - 4}" x2="${gx}" y2="${bottom}"/>`);
    const label =
      i === 0 ? DateTime.fromMillis(ms, { zone: HKEX_TIME_ZONE }).toFormat("HH:mm:ss.SSS") : `+${duration(Math.round(ms - c.t0))}`;
    const anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";
    out.push(`<text class="small" x="${gx}" y="${bottom + 14}" text-anchor="${anchor}">${esc(label)}</text>`);
  }
  return out;
}

/** A phase that ran, as a segment from its start for its duration; its name on it when there is room. */
function phaseSegment(p: PhaseResult, start: number, y: number, c: PartChart): string[] {
  const x1 = c.x(start);
  const w = Math.max(2, c.x(start + p.ms) - x1);
  const tip = `${p.name}: ${WORD[p.status]} in ${duration(p.ms)}, from ${clock(p.startedAt)}${p.cause ? ` (${p.cause})` : ""}`;
  const out = [
    `<rect class="${p.status}" data-phase="${p.name}" data-status="${p.status}" x="${px(x1)}" y="${y + 4}" width="${px(w)}" height="14"><title>${esc(tip)}</title></rect>`,
  ];
  if (w > 44) out.push(`<text class="small" x="${px(x1 + 3)}" y="${y + 15}" style="fill:#fff">${esc(p.name)}</text>`);
  return out;
}

/** One endpoint's row: label, verdict and time, a segment per phase that ran, the phases that never ran at the end. */
function endpointRow(e: EndpointReport, part: RunPart, row: number, c: PartChart): string[] {
  const y = c.top + row * c.rowH;
  const out = [
    `<g class="tl-row" data-endpoint="${esc(endpointLabel(e))}" data-part="${partKey(part)}" data-verdict="${e.verdict}">`,
    `<text x="8" y="${y + 15}">${esc(endpointLabel(e))}</text>`,
    `<text class="small" x="8" y="${y + 27}">${esc(`${e.verdict === "pass" ? "PASS" : "FAIL"} · ${duration(e.ms)}`)}</text>`,
  ];
  const skipped: string[] = [];
  for (const p of e.phases) {
    const start = p.startedAt ? hk(p.startedAt).toMillis() : NaN;
    if (Number.isFinite(start)) out.push(...phaseSegment(p, start, y, c));
    else skipped.push(p.name);
  }
  if (skipped.length > 0) {
    const lastEnd = Math.max(
      ...e.phases.filter((p) => p.startedAt).map((p) => hk(p.startedAt!).toMillis() + p.ms),
      hk(e.startedAt).toMillis(),
    );
    const sx = Math.min(c.x(lastEnd) + 6, W - 150);
    out.push(`<text class="small" x="${px(sx)}" y="${y + 28}">${esc(`not run: ${skipped.join(", ")}`)}</text>`);
  }
  out.push("</g>");
  return out;
}

function switchoverMark(part: RunPart, sw: SwitchoverRecord, at: number, c: PartChart): string {
  const sx = c.x(at);
  // A label right of the middle would run off the chart: it reads leftwards from the line instead.
  const labelX = sx > LABEL_W + PLOT_W / 2 ? `x="${px(sx - 4)}" text-anchor="end"` : `x="${px(sx + 4)}"`;
  return (
    `<g class="switchover-mark" data-part="${partKey(part)}"><line class="switch" x1="${px(sx)}" y1="${c.top - 8}" x2="${px(sx)}" y2="${c.top + c.rows * c.rowH}"/>` +
    `<text class="switch-label small" ${labelX} y="${c.top - 10}">${esc(`switchover ${clock(sw.at)}: ${sw.alias} ${switchText(sw)}`)}</text></g>`
  );
}

export function partTimeline(part: RunPart, endpoints: readonly EndpointReport[], partReport: PartReport | undefined): string {
  const switchAt = partReport?.switchover ? hk(partReport.switchover.at).toMillis() : NaN;
  const c = partChart(endpoints, switchAt);
  const height = c.top + c.rows * c.rowH + 34;
  const out = [
    `<svg class="part-timeline" data-part="${partKey(part)}" viewBox="0 0 ${W} ${height}" role="img" aria-label="${esc(`${partTitle(part)} phases`)}">`,
    ...timeTicks(c),
  ];
  for (const [row, e] of endpoints.entries()) out.push(...endpointRow(e, part, row, c));
  if (partReport?.switchover && Number.isFinite(switchAt)) out.push(switchoverMark(part, partReport.switchover, switchAt, c));
  out.push("</svg>");
  return out.join("\n");
}
