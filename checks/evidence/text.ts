/** Plain-text rendering of a report for a terminal or a log. */
import { endpointLabel, partInline, type RunPart } from "../../catalogue";
import type { EndpointReport, KeyDecryptionRecord, PhaseResult, Report, SwitchoverRecord } from "../report";

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

/** "key decrypted in 3.8 s, …": the decryption as its own step, outside the phase timers. */
export function decryptionText(record: KeyDecryptionRecord): string {
  const took = record.ms >= 1000 ? `${(record.ms / 1000).toFixed(1)} s` : `${record.ms} ms`;
  return record.status === "decrypted"
    ? `key decrypted in ${took}, once, before any endpoint was contacted (outside the phase timers)`
    : `key NOT decrypted: the passphrase is wrong (tried in ${took}, before any endpoint was contacted)`;
}

/** What ran, site by site; when nothing did, why (a day the weather cancelled, a run interrupted before it started). */
function sitesSummary(r: Report): string {
  if (r.sites.length > 0) return r.sites.map((s) => `${partPrefix(s.part)}${s.site} ${s.status} ${s.passed}/${s.endpoints}`).join(", ");
  const notRun = r.session?.parts.find((p) => p.status === "not-run" && p.note);
  if (notRun) return `no endpoint was contacted: ${notRun.note}`;
  if (r.interrupted) return `no endpoint was contacted: ${r.interrupted}`;
  return "no endpoint was contacted";
}

/** "HostName 10.151.14.141 → 10.152.14.141", with the ports when the switch changed the port too. */
export function switchText(w: SwitchoverRecord): string {
  if (w.portBefore !== undefined && w.portAfter !== undefined && w.portBefore !== w.portAfter) {
    return `HostName ${w.before ?? "(none)"} Port ${w.portBefore} → HostName ${w.after} Port ${w.portAfter}`;
  }
  return `HostName ${w.before ?? "(none)"} → ${w.after}`;
}

export function renderReport(r: Report): string {
  const lines: string[] = [];
  lines.push(`hkex-ready ${r.kind}: ${r.verdict.toUpperCase()}  (${sitesSummary(r)})`);
  if (r.session?.rehearsal) {
    lines.push(`  REHEARSAL: ${r.session.rehearsalReason ?? "not the real session"}; its e-mail is a draft: do NOT send it to HKEX`);
  }
  if (r.interrupted) lines.push(`  interrupted: ${r.interrupted}`);
  if (r.keyDecryption) lines.push(`  user ${decryptionText(r.keyDecryption)}`);
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
    lines.push(`  ${s.rehearsal ? "rehearsal of the session" : "session"} ${s.date}: ${s.completed ? "completed" : "NOT completed"}`);
    for (const p of s.parts) {
      const sw = p.switchover ? `  ${switchText(p.switchover)}` : "";
      lines.push(
        `    ${partInline(p.part)} on ${p.site}: ${p.status}${p.withinWindow === false ? " (outside the published window)" : ""}${sw}`,
      );
    }
    for (const reason of s.reasons) lines.push(`    reason: ${reason}`);
  }
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return `${lines.join("\n")}\n`;
}
