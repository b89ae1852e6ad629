/** The timeline section (#timeline): the session day, then each part zoomed in, then the parts that did not run. */
import { partTitle } from "../../../catalogue";
import type { Report } from "../../report";
import { runsByPart } from "../rows";
import { dayTimeline } from "./dayTimeline";
import { badge, clock, esc } from "./markup";
import { partTimeline } from "./partTimeline";

const LEGEND =
  '<p class="legend"><span><i style="background:#dfe9fb"></i>published window</span><span><i style="background:#34a853"></i>pass</span><span><i style="background:#d93025"></i>fail</span><span><i style="background:#f29900"></i>degraded</span><span><i style="background:#bdbdbd"></i>not run / skip</span><span><i style="background:#6a3fb5"></i>switchover</span></p>';

export function timelineSection(report: Report): string {
  const parts = report.session?.parts ?? [];
  const out: string[] = ['<section id="timeline">', "<h2>Timeline (Hong Kong time)</h2>", LEGEND];
  if (report.session) out.push(dayTimeline(report));
  for (const g of runsByPart(report)) {
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
