/** The confirmation e-mail (#email) as sent: To, Subject and the body. */
import type { Report } from "../../report";
import { esc } from "./markup";

export function emailSection(report: Report): string {
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
