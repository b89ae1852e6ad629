/** Keys (#keys): the user key of each part, same throughout or not, and the host key each endpoint presented. */
import { CIRCULAR, endpointLabel, partKey, partTitle } from "../../../catalogue";
import type { Report } from "../../report";
import { badge, esc } from "./markup";

export function keysSection(report: Report): string {
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
