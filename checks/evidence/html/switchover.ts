/** The client switchover (#switchover): each rewrite of the alias's HostName, and the HostName at the end. */
import { partKey, partTitle } from "../../../catalogue";
import type { Report } from "../../report";
import { badge, clock, esc } from "./markup";

export function switchoverSection(report: Report): string {
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
      // The port is shown when the switch changed it: two sites on one address differ by port alone.
      const portShown = w.portBefore !== undefined && w.portAfter !== undefined && w.portBefore !== w.portAfter;
      out.push(
        `<tr data-part="${partKey(p.part)}"><td>${esc(partTitle(p.part))}</td><td>${esc(clock(w.at))}</td><td class="mono">${esc(w.file)}</td><td class="mono">${esc(w.alias)}</td><td class="mono">${esc(`${w.before ?? "(none)"}${portShown ? ` port ${w.portBefore}` : ""}`)}</td><td class="mono">${esc(`${w.after}${portShown ? ` port ${w.portAfter}` : ""}`)}</td><td class="mono">${esc(w.backup ?? "")}</td></tr>`,
      );
    }
    out.push("</tbody></table>");
  }
  if (s.primaryRestored !== undefined) {
    out.push(
      `<p>At the end: HostName <span class="mono">${esc(`${s.hostNameAtEnd ?? "(none)"}${s.portAtEnd !== undefined ? ` port ${s.portAtEnd}` : ""}`)}</span>, primary restored ${badge(s.primaryRestored ? "yes" : "no", s.primaryRestored ? "yes" : "NO")}</p>`,
    );
  }
  out.push("</section>");
  return out.join("\n");
}
