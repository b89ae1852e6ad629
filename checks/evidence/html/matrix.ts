/** The endpoint matrix (#matrix): a row per endpoint run, a cell per phase, then the failures. */
import { endpointLabel, partKey, partTitle } from "../../../catalogue";
import { PHASES, type Report } from "../../report";
import { badge, duration, esc, MARK } from "./markup";

export function matrixSection(report: Report): string {
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
