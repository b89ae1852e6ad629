/**
 * report.html: the evidence for auditors, managers and HKEX, readable at a
 * glance. One self-contained file: inline CSS and SVG, no script, and a
 * Content-Security-Policy that forbids every fetch, so it opens the same
 * offline, from an e-mail attachment or from an archive years later.
 */
import { DateTime } from "luxon";
import { CIRCULAR, endpointLabel, HKEX_TIME_ZONE, partKey, partTitle, SESSION_DAYS, SESSION_PARTS, type PartWindow } from "../../catalogue";
import { PHASES, type EndpointReport, type PartReport, type PhaseResult, type Report } from "../report";
import { compareDownloads, runsByPart, type FileComparison } from "./rows";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
const esc = escapeHtml;

function hk(iso: string): DateTime {
  return DateTime.fromISO(iso, { zone: HKEX_TIME_ZONE });
}

function clock(iso: string | undefined, withSeconds = true): string {
  if (!iso) return "";
  const t = hk(iso);
  return t.isValid ? t.toFormat(withSeconds ? "HH:mm:ss" : "HH:mm") : iso;
}

function when(iso: string | undefined): string {
  if (!iso) return "";
  const t = hk(iso);
  return t.isValid ? t.setLocale("en-GB").toFormat("d LLL yyyy HH:mm:ss 'HKT'") : iso;
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const MARK: Record<PhaseResult["status"], string> = { pass: "✓", fail: "✗", skip: "–" };
const WORD: Record<PhaseResult["status"], string> = { pass: "pass", fail: "FAIL", skip: "skip" };

function badge(status: string, text = status): string {
  return `<span class="badge ${esc(status)}">${esc(text)}</span>`;
}

const STYLE = `
:root { --pass:#1b7f3b; --pass-bg:#e3f4e8; --fail:#b3261e; --fail-bg:#fbe4e2; --skip:#6b6b6b; --skip-bg:#eeeeee;
  --warn:#8a5a00; --warn-bg:#fff4d6; --ink:#1d1d1f; --muted:#5f6368; --rule:#d9d9de; --win:#dfe9fb; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0; padding: 24px 32px 48px; max-width: 1280px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 32px 0 8px; border-bottom: 1px solid var(--rule); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 20px 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border: 1px solid var(--rule); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f6f8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; word-break: break-all; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px; }
.badge.pass, .badge.identical, .badge.match, .badge.yes, .badge.continue { color: var(--pass); background: var(--pass-bg); }
.badge.fail, .badge.different, .badge.mismatch, .badge.no, .badge.cancelled, .badge.terminate, .badge.revoked { color: var(--fail); background: var(--fail-bg); }
.badge.degraded, .badge.unknown, .badge.single-site, .badge.not-run { color: var(--warn); background: var(--warn-bg); }
.badge.skip { color: var(--skip); background: var(--skip-bg); }
.verdict { font-size: 16px; padding: 3px 12px; }
td.cell { white-space: nowrap; font-size: 12.5px; }
td.cell.pass { background: var(--pass-bg); color: var(--pass); }
td.cell.fail { background: var(--fail-bg); color: var(--fail); font-weight: 600; }
td.cell.skip { background: var(--skip-bg); color: var(--skip); }
td.cell .why { display: block; font-weight: 400; white-space: normal; max-width: 22em; font-size: 11.5px; overflow-wrap: anywhere; }
table.matrix td.mono { white-space: nowrap; word-break: normal; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
.flag { color: var(--fail); font-weight: 600; }
pre.email { background: #fafafa; border: 1px solid var(--rule); padding: 12px; white-space: pre-wrap; font-size: 13px; }
ul.warnings li { color: var(--warn); }
svg { display: block; width: 100%; height: auto; font-family: system-ui, sans-serif; }
svg .axis { stroke: #888; stroke-width: 1; } svg .grid { stroke: #e6e6ea; stroke-width: 1; }
svg text { font-size: 11px; fill: #333; } svg text.small { font-size: 10px; fill: #666; }
svg .window { fill: var(--win); } svg .switch { stroke: #6a3fb5; stroke-width: 2; stroke-dasharray: 4 3; }
svg text.switch-label { fill: #6a3fb5; }
svg rect.pass { fill: #34a853; } svg rect.fail { fill: #d93025; } svg rect.skip { fill: #bdbdbd; }
svg rect.run.pass { fill: #34a853; } svg rect.run.fail { fill: #d93025; } svg rect.run.degraded { fill: #f29900; } svg rect.run.not-run { fill: #bdbdbd; }
.legend span { margin-right: 14px; } .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }
@media print { body { padding: 0; } h2 { break-after: avoid; } table, svg { break-inside: avoid; } }
`;

// ---------------------------------------------------------------------------
// Timeline

const W = 1000;
const LABEL_W = 230;
const PLOT_W = W - LABEL_W - 20;

function minutesOfDay(t: DateTime): number {
  return t.hour * 60 + t.minute + t.second / 60 + t.millisecond / 60_000;
}

function hhmmMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number) as [number, number];
  return h * 60 + m;
}

function windowsFor(report: Report): readonly PartWindow[] {
  const date = report.session?.date;
  return SESSION_DAYS.find((d) => d.date === date)?.parts ?? SESSION_PARTS;
}

/** The whole day: the published windows, when each part ran, and the switchover moments. */
function dayTimeline(report: Report): string {
  const session = report.session!;
  const windows = windowsFor(report);
  const instants: DateTime[] = [];
  for (const p of session.parts) {
    instants.push(hk(p.startedAt), hk(p.finishedAt));
    if (p.switchover) instants.push(hk(p.switchover.at));
  }
  const valid = instants.filter((t) => t.isValid);
  const ranOn = [...new Set(valid.map((t) => t.toISODate()!))];
  const mins = valid.map(minutesOfDay);
  const lo = Math.max(0, Math.floor(Math.min(11 * 60, ...mins) / 60) * 60);
  const hi = Math.min(24 * 60, Math.ceil(Math.max(18 * 60, ...mins) / 60) * 60);
  const x = (m: number) => LABEL_W + ((m - lo) / (hi - lo)) * PLOT_W;
  const rows = session.parts.length;
  const top = 34;
  const rowH = 26;
  const height = top + rows * rowH + 40;
  const out: string[] = [];
  out.push(`<svg id="day-timeline" viewBox="0 0 ${W} ${height}" role="img" aria-label="Session day timeline, Hong Kong time">`);
  for (const w of windows) {
    const x1 = x(hhmmMinutes(w.start));
    const x2 = x(hhmmMinutes(w.end));
    out.push(
      `<g class="window-band" data-part="part${w.part}" data-start="${w.start}" data-end="${w.end}"><rect class="window" x="${x1.toFixed(1)}" y="${top - 6}" width="${(x2 - x1).toFixed(1)}" height="${rows * rowH + 8}"><title>${esc(`${w.title}: ${w.start}-${w.end}`)}</title></rect>` +
        `<text x="${((x1 + x2) / 2).toFixed(1)}" y="${top - 12}" text-anchor="middle">${esc(`${partTitle(w.part)} window ${w.start}–${w.end} (${w.site})`)}</text></g>`,
    );
  }
  for (let h = lo; h <= hi; h += 60) {
    out.push(`<line class="grid" x1="${x(h).toFixed(1)}" y1="${top - 6}" x2="${x(h).toFixed(1)}" y2="${top + rows * rowH + 2}"/>`);
    out.push(
      `<text class="small" x="${x(h).toFixed(1)}" y="${top + rows * rowH + 16}" text-anchor="middle">${String(h / 60).padStart(2, "0")}:00</text>`,
    );
  }
  session.parts.forEach((p, i) => {
    const y = top + i * rowH;
    const s = hk(p.startedAt);
    const f = hk(p.finishedAt);
    out.push(`<g class="part-run" data-part="${partKey(p.part)}" data-status="${esc(p.status)}">`);
    out.push(`<text x="8" y="${y + 16}">${esc(`${partTitle(p.part)} · ${p.site}`)}</text>`);
    if (s.isValid && f.isValid) {
      const x1 = x(minutesOfDay(s));
      const w = Math.max(4, x(minutesOfDay(f)) - x1);
      const what =
        p.status === "not-run" ? `not run${p.note ? `: ${p.note}` : ""}` : `${p.status}, ${clock(p.startedAt)}–${clock(p.finishedAt)}`;
      out.push(
        `<rect class="run ${esc(p.status)}" x="${x1.toFixed(1)}" y="${y + 5}" width="${w.toFixed(1)}" height="14" rx="2"><title>${esc(`${partTitle(p.part)} on ${p.site}: ${what}`)}</title></rect>`,
      );
      const label = `${clock(p.startedAt, false)} ${p.status}${p.withinWindow === false ? " (outside window)" : ""}`;
      const right = x1 + w + 4 > W - 120;
      out.push(
        `<text class="small" x="${(right ? x1 - 4 : x1 + w + 4).toFixed(1)}" y="${y + 16}"${right ? ' text-anchor="end"' : ""}>${esc(label)}</text>`,
      );
    }
    out.push("</g>");
    if (p.switchover) {
      const t = hk(p.switchover.at);
      if (t.isValid) {
        const sx = x(minutesOfDay(t));
        out.push(
          `<g class="switchover-mark" data-part="${partKey(p.part)}"><line class="switch" x1="${sx.toFixed(1)}" y1="${top - 4}" x2="${sx.toFixed(1)}" y2="${top + rows * rowH}"><title>${esc(`switchover for ${partTitle(p.part)} at ${clock(p.switchover.at)}: ${p.switchover.before ?? "(none)"} → ${p.switchover.after}`)}</title></line></g>`,
        );
      }
    }
  });
  out.push(`<line class="axis" x1="${LABEL_W}" y1="${top + rows * rowH + 2}" x2="${W - 20}" y2="${top + rows * rowH + 2}"/>`);
  out.push("</svg>");
  const note =
    ranOn.length > 0 && !(ranOn.length === 1 && ranOn[0] === session.date)
      ? `<p class="sub">Ran on ${esc(ranOn.join(", "))}, not only on the session date ${esc(session.date)}: the bars show the time of day against the session day's windows.</p>`
      : "";
  return note + out.join("\n");
}

/** One part, zoomed in: each endpoint and each phase with its duration; the switchover at the start. */
function partTimeline(part: EndpointReport["part"], endpoints: readonly EndpointReport[], partReport: PartReport | undefined): string {
  const starts = endpoints.map((e) => hk(e.startedAt).toMillis()).filter(Number.isFinite);
  const ends = endpoints.map((e) => hk(e.startedAt).toMillis() + e.ms).filter(Number.isFinite);
  const switchAt = partReport?.switchover ? hk(partReport.switchover.at).toMillis() : NaN;
  const t0 = Math.min(...starts, ...(Number.isFinite(switchAt) ? [switchAt] : []));
  const t1 = Math.max(...ends, t0 + 1);
  const span = t1 - t0;
  const x = (ms: number) => LABEL_W + ((ms - t0) / span) * PLOT_W;
  const rowH = 30;
  const top = 22;
  const height = top + endpoints.length * rowH + 34;
  const out: string[] = [];
  out.push(
    `<svg class="part-timeline" data-part="${partKey(part)}" viewBox="0 0 ${W} ${height}" role="img" aria-label="${esc(`${partTitle(part)} phases`)}">`,
  );
  for (let i = 0; i <= 4; i++) {
    const ms = t0 + (span * i) / 4;
    const gx = x(ms);
    out.push(`<line class="grid" x1="${gx.toFixed(1)}" y1="${top - 4}" x2="${gx.toFixed(1)}" y2="${top + endpoints.length * rowH}"/>`);
    const label =
      i === 0 ? DateTime.fromMillis(ms, { zone: HKEX_TIME_ZONE }).toFormat("HH:mm:ss.SSS") : `+${duration(Math.round(ms - t0))}`;
    out.push(
      `<text class="small" x="${gx.toFixed(1)}" y="${top + endpoints.length * rowH + 14}" text-anchor="${i === 0 ? "start" : i === 4 ? "end" : "middle"}">${esc(label)}</text>`,
    );
  }
  endpoints.forEach((e, i) => {
    const y = top + i * rowH;
    out.push(`<g class="tl-row" data-endpoint="${esc(endpointLabel(e))}" data-part="${partKey(part)}" data-verdict="${e.verdict}">`);
    out.push(`<text x="8" y="${y + 15}">${esc(endpointLabel(e))}</text>`);
    out.push(`<text class="small" x="8" y="${y + 27}">${esc(`${e.verdict === "pass" ? "PASS" : "FAIL"} · ${duration(e.ms)}`)}</text>`);
    const skipped: string[] = [];
    for (const p of e.phases) {
      const s = p.startedAt ? hk(p.startedAt).toMillis() : NaN;
      if (!Number.isFinite(s)) {
        skipped.push(p.name);
        continue;
      }
      const x1 = x(s);
      const w = Math.max(2, x(s + p.ms) - x1);
      const tip = `${p.name}: ${WORD[p.status]} in ${duration(p.ms)}, from ${clock(p.startedAt)}${p.cause ? ` (${p.cause})` : ""}`;
      out.push(
        `<rect class="${p.status}" data-phase="${p.name}" data-status="${p.status}" x="${x1.toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="14"><title>${esc(tip)}</title></rect>`,
      );
      if (w > 44) out.push(`<text class="small" x="${(x1 + 3).toFixed(1)}" y="${y + 15}" style="fill:#fff">${esc(p.name)}</text>`);
    }
    if (skipped.length > 0) {
      const lastEnd = Math.max(
        ...e.phases.filter((p) => p.startedAt).map((p) => hk(p.startedAt!).toMillis() + p.ms),
        hk(e.startedAt).toMillis(),
      );
      const sx = Math.min(x(lastEnd) + 6, W - 150);
      out.push(`<text class="small" x="${sx.toFixed(1)}" y="${y + 28}">${esc(`not run: ${skipped.join(", ")}`)}</text>`);
    }
    out.push("</g>");
  });
  if (partReport?.switchover && Number.isFinite(switchAt)) {
    const sx = x(switchAt);
    const sw = partReport.switchover;
    out.push(
      `<g class="switchover-mark" data-part="${partKey(part)}"><line class="switch" x1="${sx.toFixed(1)}" y1="${top - 8}" x2="${sx.toFixed(1)}" y2="${top + endpoints.length * rowH}"/>` +
        // A label right of the middle would run off the chart: it reads leftwards from the line instead.
        `<text class="switch-label small" ${sx > LABEL_W + PLOT_W / 2 ? `x="${(sx - 4).toFixed(1)}" text-anchor="end"` : `x="${(sx + 4).toFixed(1)}"`} y="${top - 10}">${esc(`switchover ${clock(sw.at)}: ${sw.alias} HostName ${sw.before ?? "(none)"} → ${sw.after}`)}</text></g>`,
    );
  }
  out.push("</svg>");
  return out.join("\n");
}

function timelineSection(report: Report): string {
  const groups = runsByPart(report);
  const parts = report.session?.parts ?? [];
  const out: string[] = ['<section id="timeline">', "<h2>Timeline (Hong Kong time)</h2>"];
  out.push(
    '<p class="legend"><span><i style="background:#dfe9fb"></i>published window</span><span><i style="background:#34a853"></i>pass</span><span><i style="background:#d93025"></i>fail</span><span><i style="background:#f29900"></i>degraded</span><span><i style="background:#bdbdbd"></i>not run / skip</span><span><i style="background:#6a3fb5"></i>switchover</span></p>',
  );
  if (report.session) out.push(dayTimeline(report));
  for (const g of groups) {
    const pr = parts.filter((p) => p.part === g.part).at(-1);
    const head = pr
      ? `${partTitle(g.part)} on ${pr.site}: ${clock(pr.startedAt)}–${clock(pr.finishedAt)}${pr.window ? ` (window ${pr.window.start}–${pr.window.end}${pr.withinWindow === false ? ", ran OUTSIDE it" : ""})` : ""}`
      : `${partTitle(g.part)}: ${clock(g.endpoints[0]?.startedAt)}`;
    out.push(`<h3>${esc(head)}</h3>`);
    out.push(partTimeline(g.part, g.endpoints, pr));
  }
  for (const p of parts.filter((p) => p.status === "not-run")) {
    out.push(`<h3>${esc(`${partTitle(p.part)} on ${p.site}`)}: ${badge("not-run", "not run")}</h3><p>${esc(p.note ?? "")}</p>`);
  }
  out.push("</section>");
  return out.join("\n");
}

// ---------------------------------------------------------------------------
// Tables

function matrixSection(report: Report): string {
  if (report.endpoints.length === 0) {
    return '<section id="matrix"><h2>Phase results per endpoint</h2><p>No endpoint was checked.</p></section>';
  }
  const out: string[] = [
    '<section id="matrix">',
    "<h2>Phase results per endpoint</h2>",
    '<table class="matrix">',
    "<thead><tr><th>part</th><th>endpoint</th><th>verdict</th>",
  ];
  for (const p of PHASES) out.push(`<th>${p}</th>`);
  out.push("</tr></thead><tbody>");
  for (const e of report.endpoints) {
    out.push(`<tr data-endpoint="${esc(endpointLabel(e))}" data-part="${partKey(e.part)}" data-verdict="${e.verdict}">`);
    out.push(
      `<td>${esc(partTitle(e.part))}</td><td class="mono">${esc(endpointLabel(e))}</td><td>${badge(e.verdict, e.verdict === "pass" ? "PASS" : "FAIL")}</td>`,
    );
    for (const name of PHASES) {
      const p = e.phases.find((x) => x.name === name);
      if (!p) {
        out.push(`<td class="cell skip" data-phase="${name}" data-status="skip">–</td>`);
        continue;
      }
      const text = p.status === "skip" ? `${MARK.skip} skip` : `${MARK[p.status]} ${p.status === "fail" ? "FAIL " : ""}${duration(p.ms)}`;
      const why = p.status === "pass" ? "" : `<span class="why">${esc(p.code ? `${p.code}: ${p.cause ?? ""}` : (p.cause ?? ""))}</span>`;
      const tip = p.timeoutMs ? ` title="${esc(`timeout ${p.timeoutMs} ms`)}"` : "";
      out.push(`<td class="cell ${p.status}" data-phase="${name}" data-status="${p.status}"${tip}>${esc(text)}${why}</td>`);
    }
    out.push("</tr>");
  }
  out.push("</tbody></table>");
  const failures = report.endpoints.flatMap((e) => e.phases.filter((p) => p.status === "fail").map((p) => ({ e, p })));
  if (failures.length > 0) {
    out.push('<h3>Failures</h3><ul class="failures">');
    for (const { e, p } of failures) {
      out.push(
        `<li><b>${esc(`${partTitle(e.part)} ${endpointLabel(e)} ${p.name}`)}</b>: ${esc(p.cause ?? "failed")}${p.code ? ` <code>${esc(p.code)}</code>` : ""}</li>`,
      );
    }
    out.push("</ul>");
  }
  out.push("</section>");
  return out.join("\n");
}

function downloadsSection(report: Report): string {
  const out: string[] = ['<section id="downloads">', "<h2>Downloaded files</h2>"];
  if (report.downloads.length === 0) {
    out.push("<p>No file was downloaded.</p></section>");
    return out.join("\n");
  }
  out.push("<table><thead><tr><th>part</th><th>endpoint</th><th>file</th><th>bytes</th><th>SHA-256</th><th>time</th></tr></thead><tbody>");
  for (const d of report.downloads) {
    out.push(
      `<tr><td>${esc(partTitle(d.part))}</td><td class="mono">${esc(endpointLabel(d))}</td><td class="mono">${esc(d.file)}</td><td class="num">${d.bytes.toLocaleString("en-GB")}</td><td class="mono">${esc(d.sha256)}</td><td class="num">${esc(duration(d.ms))}</td></tr>`,
    );
  }
  out.push("</tbody></table></section>");
  return out.join("\n");
}

const COMPARISON_TEXT: Record<FileComparison["status"], string> = {
  identical: "same SHA-256 from primary and secondary",
  different: "DIFFERENT: the copies do not have the same SHA-256",
  "single-site": "downloaded from one site only: nothing to compare",
};

function comparisonSection(report: Report): string {
  const comparisons = compareDownloads(report.downloads);
  const out: string[] = ['<section id="comparison">', "<h2>Cross-site comparison</h2>"];
  if (comparisons.length === 0) {
    out.push("<p>No file to compare.</p></section>");
    return out.join("\n");
  }
  out.push("<table><thead><tr><th>file</th><th>copies (part, endpoint, bytes, SHA-256)</th><th>result</th></tr></thead><tbody>");
  for (const c of comparisons) {
    const copies = c.copies
      .map((k) => `${esc(partTitle(k.part))} ${esc(endpointLabel(k))} ${k.bytes} bytes <span class="mono">${esc(k.sha256)}</span>`)
      .join("<br>");
    out.push(
      `<tr data-file="${esc(c.file)}" data-comparison="${c.status}"><td class="mono">${esc(c.file)}</td><td>${copies}</td><td>${badge(c.status, c.status)}<br><span class="${c.status === "different" ? "flag" : ""}">${esc(COMPARISON_TEXT[c.status])}</span></td></tr>`,
    );
  }
  out.push("</tbody></table></section>");
  return out.join("\n");
}

function keysSection(report: Report): string {
  const out: string[] = ['<section id="keys">', "<h2>Keys</h2>"];
  const s = report.session;
  if (s) {
    out.push(
      "<h3>User key used in each part</h3><table><thead><tr><th>part</th><th>site</th><th>user key fingerprint</th></tr></thead><tbody>",
    );
    for (const p of s.parts) {
      out.push(
        `<tr data-part="${partKey(p.part)}"><td>${esc(partTitle(p.part))}</td><td>${esc(p.site)}</td><td class="mono">${esc(p.userKeyFingerprint ?? (p.status === "not-run" ? "(not run)" : "(not recorded)"))}</td></tr>`,
      );
    }
    out.push("</tbody></table>");
    out.push(
      `<p>Same key throughout: ${badge(s.sameKeyThroughout ? "yes" : "no", s.sameKeyThroughout ? "yes" : "NO")} ${s.sameKeyThroughout ? "" : `<span class="flag">${esc(CIRCULAR.keyRenewal)}</span>`}</p>`,
    );
  } else {
    const fps = [...new Set(report.endpoints.map((e) => e.userKeyFingerprint).filter((f): f is string => Boolean(f)))];
    if (fps.length > 0) out.push(`<p>User key: <span class="mono">${esc(fps.join(", "))}</span></p>`);
  }
  out.push(
    "<h3>Host keys presented</h3><table><thead><tr><th>part</th><th>endpoint</th><th>type</th><th>fingerprint</th><th>against the pinned key</th></tr></thead><tbody>",
  );
  for (const e of report.endpoints) {
    if (!e.hostKey) {
      out.push(
        `<tr><td>${esc(partTitle(e.part))}</td><td class="mono">${esc(endpointLabel(e))}</td><td colspan="3">(no host key: the connection did not get that far)</td></tr>`,
      );
      continue;
    }
    out.push(
      `<tr><td>${esc(partTitle(e.part))}</td><td class="mono">${esc(endpointLabel(e))}</td><td>${esc(e.hostKey.type ?? "")}</td><td class="mono">${esc(e.hostKey.fingerprint)}</td><td>${badge(e.hostKey.status)}</td></tr>`,
    );
  }
  out.push("</tbody></table></section>");
  return out.join("\n");
}

function switchoverSection(report: Report): string {
  const s = report.session;
  if (!s) return "";
  const rows = s.parts.filter((p) => p.switchover);
  const out: string[] = ['<section id="switchover">', "<h2>Client switchover</h2>"];
  if (rows.length === 0) {
    out.push("<p>The kit did not switch the SFTP client (no <code>sshConfig</code> in the config).</p>");
  } else {
    out.push(
      "<table><thead><tr><th>part</th><th>at</th><th>file</th><th>alias</th><th>HostName before</th><th>after</th><th>backup</th></tr></thead><tbody>",
    );
    for (const p of rows) {
      const w = p.switchover!;
      out.push(
        `<tr data-part="${partKey(p.part)}"><td>${esc(partTitle(p.part))}</td><td>${esc(clock(w.at))}</td><td class="mono">${esc(w.file)}</td><td class="mono">${esc(w.alias)}</td><td class="mono">${esc(w.before ?? "(none)")}</td><td class="mono">${esc(w.after)}</td><td class="mono">${esc(w.backup ?? "")}</td></tr>`,
      );
    }
    out.push("</tbody></table>");
  }
  if (s.primaryRestored !== undefined) {
    out.push(
      `<p>At the end: HostName <span class="mono">${esc(s.hostNameAtEnd ?? "(none)")}</span>, primary restored ${badge(s.primaryRestored ? "yes" : "no", s.primaryRestored ? "yes" : "NO")}</p>`,
    );
  }
  out.push("</section>");
  return out.join("\n");
}

function emailSection(report: Report): string {
  const s = report.session;
  if (!s) return "";
  const out: string[] = ['<section id="email">', "<h2>Confirmation e-mail</h2>", '<dl class="facts">'];
  out.push(`<dt>To</dt><dd class="mono">${esc(s.email.to)}</dd><dt>Subject</dt><dd>${esc(s.email.subject)}</dd></dl>`);
  out.push(`<pre class="email">${esc(s.email.body)}</pre>`);
  if (s.reasons.length > 0 && s.completed) {
    out.push(`<ul>${s.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>`);
  }
  out.push("</section>");
  return out.join("\n");
}

function header(report: Report): string {
  const s = report.session;
  const title = s ? `Connectivity session of ${hk(`${s.date}T00:00`).setLocale("en-GB").toFormat("d MMMM yyyy")}` : "Readiness check";
  const out: string[] = ["<header>", `<h1>${esc(title)} ${badge(report.verdict, report.verdict.toUpperCase())}</h1>`];
  out.push(
    `<p class="sub">${esc(`HKEX derivatives Report Retrieval SFTP facility, circular ${CIRCULAR.reference}. All times are Hong Kong time.`)}</p>`,
  );
  out.push('<dl class="facts">');
  const fact = (k: string, v: string) => out.push(`<dt>${esc(k)}</dt><dd>${v}</dd>`);
  if (s) {
    fact("session", s.completed ? badge("pass", "completed") : badge("fail", "NOT completed"));
    for (const p of s.parts) {
      fact(
        `${partTitle(p.part)} (${p.site})`,
        `${badge(p.status, p.status === "not-run" ? "not run" : p.status)}${p.note ? ` ${esc(p.note)}` : ""}`,
      );
    }
  }
  fact(
    "sites",
    report.sites
      .map((x) => `${esc(`${x.part !== undefined ? `${partTitle(x.part)} ` : ""}${x.site}`)} ${badge(x.status)} ${x.passed}/${x.endpoints}`)
      .join(" · "),
  );
  if (report.interrupted) fact("interrupted", `<span class="flag">${esc(report.interrupted)}</span>`);
  if (s?.weather) {
    const w = s.weather;
    fact(
      "weather",
      `${esc(`${w.warning} issued at ${w.issuedAt}`)} ${badge(w.effect)}${w.stopAt ? ` ${esc(`stop at ${clock(w.stopAt, false)}`)}` : ""}`,
    );
  }
  fact("run", esc(`${when(report.startedAt)} – ${when(report.finishedAt)}`));
  fact("from", `<span class="mono">${esc(`${report.from.user}@${report.from.hostname}`)}</span>`);
  if (report.config) fact("config", `<span class="mono">${esc(report.config)}</span>`);
  fact("tool", esc(`${report.tool.name} ${report.tool.version}, report schema ${report.schemaVersion}`));
  out.push("</dl>");
  if (s && s.reasons.length > 0 && !s.completed) {
    out.push(`<h3>Reasons</h3><ul class="reasons">${s.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>`);
  }
  out.push("</header>");
  return out.join("\n");
}

function warningsSection(report: Report): string {
  if (report.warnings.length === 0) return "";
  return `<section id="warnings"><h2>Warnings</h2><ul class="warnings">${report.warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul></section>`;
}

/** The whole report.html. */
export function renderHtml(report: Report): string {
  const title = report.session
    ? `HKEX SFTP connectivity session ${report.session.date}: ${report.verdict.toUpperCase()}`
    : `HKEX SFTP readiness check: ${report.verdict.toUpperCase()}`;
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="${esc(`${report.tool.name} ${report.tool.version}`)}">`,
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    "</head>",
    `<body data-verdict="${report.verdict}" data-kind="${report.kind}">`,
    header(report),
    timelineSection(report),
    matrixSection(report),
    downloadsSection(report),
    comparisonSection(report),
    keysSection(report),
    switchoverSection(report),
    emailSection(report),
    warningsSection(report),
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
