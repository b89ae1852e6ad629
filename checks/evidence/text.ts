/** Plain-text rendering of a report for a terminal or a log. */
import { endpointLabel, partInline, type RunPart } from "../../catalogue";
import type { EndpointReport, PhaseResult, Report } from "../report";

const MARK: Record<PhaseResult["status"], string> = { pass: "ok", fail: "FAIL", skip: "skip" };

/** "pre-check ", "Part 1 ", or nothing for a plain check. */
function partPrefix(p: RunPart): string {
  return p === undefined ? "" : `${partInline(p)} `;
}

export function renderEndpoint(e: EndpointReport): string[] {
  const head = `  ${partPrefix(e.part)}${endpointLabel(e)}  ${e.verdict === "pass" ? "PASS" : "FAIL"}  (${e.ms} ms)`;
  const phases = e.phases.map((p) => `${p.name} ${MARK[p.status]}${p.status === "skip" ? "" : ` ${p.ms}ms`}`).join(" · ");
  const lines = [head, `      ${phases}`];
  if (e.hostKey) lines.push(`      host key ${e.hostKey.type ?? ""} ${e.hostKey.fingerprint} (${e.hostKey.status})`);
  for (const p of e.phases) {
    if (p.status === "fail") lines.push(`      ✗ ${p.name}: ${p.cause ?? "failed"}`);
  }
  return lines;
}

export function renderReport(r: Report): string {
  const lines: string[] = [];
  const sites = r.sites.map((s) => `${partPrefix(s.part)}${s.site} ${s.status} ${s.passed}/${s.endpoints}`).join(", ");
  lines.push(`hkex-ready ${r.kind}: ${r.verdict.toUpperCase()}  (${sites})`);
  if (r.interrupted) lines.push(`  interrupted: ${r.interrupted}`);
  for (const e of r.endpoints) lines.push(...renderEndpoint(e));
  if (r.downloads.length > 0) {
    lines.push("  downloads:");
    for (const d of r.downloads) {
      const prev = d.previous
        ? d.previous.status === "identical"
          ? " (same as the file already there)"
          : ` (REPLACED a different file, sha256 ${d.previous.sha256.slice(0, 16)}…)`
        : "";
      lines.push(`    ${d.site} ${d.host} ${d.file}  ${d.bytes} bytes  sha256 ${d.sha256}${prev}`);
    }
  }
  if (r.session) {
    const s = r.session;
    lines.push(`  session ${s.date}: ${s.completed ? "completed" : "NOT completed"}`);
    for (const p of s.parts) {
      const sw = p.switchover ? `  HostName ${p.switchover.before ?? "(none)"} → ${p.switchover.after}` : "";
      lines.push(
        `    ${partInline(p.part)} on ${p.site}: ${p.status}${p.withinWindow === false ? " (outside the published window)" : ""}${sw}`,
      );
    }
    for (const reason of s.reasons) lines.push(`    reason: ${reason}`);
  }
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return `${lines.join("\n")}\n`;
}
