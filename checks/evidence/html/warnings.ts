/** The run's warnings (#warnings), when it had any. */
import type { Report } from "../../report";
import { esc } from "./markup";

export function warningsSection(report: Report): string {
  if (report.warnings.length === 0) return "";
  return `<section id="warnings"><h2>Warnings</h2><ul class="warnings">${report.warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul></section>`;
}
