/** Downloaded files (#downloads) and the cross-site comparison of their hashes (#comparison). */
import { endpointLabel, partTitle } from "../../../catalogue";
import type { Report } from "../../report";
import { compareDownloads, type FileComparison } from "../rows";
import { badge, duration, esc } from "./markup";

export function downloadsSection(report: Report): string {
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

export function comparisonSection(report: Report): string {
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
