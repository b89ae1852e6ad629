/** The header: verdict, session and part status, sites, weather, when, where from, config and tool. */
import { CIRCULAR, partTitle } from "../../../catalogue";
import type { Report } from "../../report";
import { decryptionText } from "../text";
import { badge, clock, esc, hk, when } from "./markup";

export function header(report: Report): string {
  const s = report.session;
  const day = s ? hk(`${s.date}T00:00`).setLocale("en-GB").toFormat("d MMMM yyyy") : "";
  const title = s ? `${s.rehearsal ? "REHEARSAL of the connectivity session" : "Connectivity session"} of ${day}` : "Readiness check";
  const out: string[] = ["<header>", `<h1>${esc(title)} ${badge(report.verdict, report.verdict.toUpperCase())}</h1>`];
  if (s?.rehearsal) {
    out.push(
      `<p class="rehearsal" data-rehearsal="true"><strong>Rehearsal, not the real session:</strong> ${esc(s.rehearsalReason ?? "")}. Its confirmation e-mail is a draft: do not send it to HKEX.</p>`,
    );
  }
  out.push(
    `<p class="sub">${esc(`HKEX derivatives Report Retrieval SFTP facility, circular ${CIRCULAR.reference}. All times are Hong Kong time.`)}</p>`,
  );
  out.push('<dl class="facts">');
  const fact = (k: string, v: string) => out.push(`<dt>${esc(k)}</dt><dd>${v}</dd>`);
  if (s) {
    fact(s.rehearsal ? "rehearsal" : "session", s.completed ? badge("pass", "completed") : badge("fail", "NOT completed"));
    if (s.windowsOf) fact("session day", esc(`${s.windowsOf.date}, circular ${s.windowsOf.circular}`));
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
  if (report.keyDecryption) fact("user key", esc(decryptionText(report.keyDecryption)));
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
