/**
 * TAP version 14 for `--format tap`: one test point per endpoint and phase, in
 * the order they ran. A failed phase is "not ok" with its cause in a YAML
 * diagnostic block; a skipped phase is "ok … # SKIP <reason>": TAP counts a
 * SKIP directive as a skip, and a skip never appears without it. A session
 * adds one point for the session as a whole.
 */
import type { Report } from "../report";
import { endpointLabel, partTitle } from "../../catalogue";
import { phaseRows, sessionPending } from "./rows";

/** A test point description may not hold an unescaped "#" (it starts a directive) or a newline. */
export function tapDescription(text: string): string {
  return text
    .replace(/[\r\n]+/g, " ")
    .replace(/\\/g, "\\\\")
    .replace(/#/g, "\\#");
}

/** YAML double-quoted scalar: safe for any cause text. */
function yamlString(text: string): string {
  return JSON.stringify(text);
}

interface Point {
  readonly ok: boolean;
  readonly description: string;
  readonly skip?: string;
  readonly diagnostics?: Record<string, string | number | readonly string[]>;
}

function renderPoint(n: number, p: Point): string[] {
  const head = `${p.ok ? "ok" : "not ok"} ${n} - ${tapDescription(p.description)}${p.skip !== undefined ? ` # SKIP ${p.skip.replace(/[\r\n]+/g, " ")}` : ""}`;
  if (!p.diagnostics) return [head];
  const lines = [head, "  ---"];
  for (const [k, v] of Object.entries(p.diagnostics)) {
    if (Array.isArray(v)) {
      lines.push(`  ${k}:`);
      for (const item of v) lines.push(`    - ${yamlString(item)}`);
    } else {
      lines.push(`  ${k}: ${typeof v === "number" ? v : yamlString(v as string)}`);
    }
  }
  lines.push("  ...");
  return lines;
}

export function renderTap(report: Report): string {
  const points: Point[] = [];
  for (const { endpoint: e, phase: p } of phaseRows(report)) {
    const description = `${partTitle(e.part)} ${endpointLabel(e)} ${p.name}`;
    if (p.status === "pass") {
      points.push({ ok: true, description: `${description} (${p.ms} ms)` });
    } else if (p.status === "skip") {
      points.push({ ok: true, description, skip: p.cause ?? "skipped" });
    } else {
      points.push({
        ok: false,
        description,
        diagnostics: {
          message: p.cause ?? "failed",
          severity: "fail",
          ...(p.code ? { code: p.code } : {}),
          site: e.site,
          host: e.host,
          port: e.port,
          phase: p.name,
          duration_ms: p.ms,
          ...(p.timeoutMs !== undefined ? { timeout_ms: p.timeoutMs } : {}),
        },
      });
    }
  }
  const s = report.session;
  if (s) {
    const description = `session ${s.date} completed`;
    if (s.completed) points.push({ ok: true, description });
    else if (sessionPending(report)) points.push({ ok: true, description, skip: "Part 2 has not run yet" });
    else
      points.push({
        ok: false,
        description,
        diagnostics: { message: "the session did not complete", severity: "fail", reasons: s.reasons },
      });
  }
  if (report.interrupted) {
    points.push({ ok: false, description: "run not interrupted", diagnostics: { message: report.interrupted, severity: "fail" } });
  }
  const lines = ["TAP version 14"];
  if (points.length === 0) {
    lines.push("1..0 # SKIP no endpoint was checked");
  } else {
    lines.push(`1..${points.length}`);
    for (const [i, p] of points.entries()) lines.push(...renderPoint(i + 1, p));
  }
  lines.push(`# ${report.kind} ${report.verdict}`);
  return `${lines.join("\n")}\n`;
}
