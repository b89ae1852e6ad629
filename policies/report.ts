/**
 * Text rendering of a pack run and of the planned network rows, shared by
 * `hkex-ready plan` and `hkex-ready policy`.
 */
import { InputError } from "../core/errors";
import { endpointLabel } from "../catalogue";
import type { FlowEvaluation, HopStep, PathStatus } from "./flows";
import type { PackConfig, PackReport } from "./offline";
import { PACK_NAME } from "./policies";
import { readInputText } from "../core/inputFile";

/** Left-aligned columns; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

/** The --json form of plan and policy: what the command read, then the pack's result. */
export function packReportJson(head: Record<string, unknown>, report: PackReport): string {
  const body = {
    ...head,
    violations: report.violations,
    exceptions: report.exceptions,
    policies: report.policies,
    verdict: report.verdict,
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/** One path trace per client placement and endpoint, as `--json` carries it. */
export interface PathTraceJson {
  readonly scope: string;
  readonly basis: string;
  readonly endpoint: string;
  readonly site: string;
  readonly host: string;
  readonly port: number;
  readonly status: PathStatus;
  /** The step of the hop where the path breaks, when it does. */
  readonly brokenAt?: HopStep;
  readonly trace: string;
  readonly hops: readonly { step: HopStep; status: string; text: string; urn?: string }[];
}

export function pathTracesJson(evaluation: FlowEvaluation): PathTraceJson[] {
  return evaluation.scopes.flatMap((s) =>
    s.paths.map((p) => ({
      scope: s.label,
      basis: s.basis,
      endpoint: endpointLabel(p.endpoint),
      site: p.endpoint.site,
      host: p.endpoint.host,
      port: p.endpoint.port,
      status: p.status,
      ...(p.brokenAt === undefined ? {} : { brokenAt: p.hops[p.brokenAt]?.step }),
      trace: p.trace,
      hops: p.hops.map((h) => ({ step: h.step, status: h.status, text: h.text, ...(h.urn ? { urn: h.urn } : {}) })),
    })),
  );
}

const BASIS: Readonly<Record<string, string>> = {
  attachment: "an interface or instance of the stack",
  declared: "the declared client scope",
  inferred: "where the stack writes HKEX rules and routes",
  "group-only": "its group only; nothing says where it sits",
};

/** The path traces, per client placement and endpoint; a broken one ends at the hop that breaks. */
export function renderPathTraces(evaluation: FlowEvaluation): string {
  const out: string[] = ["Paths toward HKEX (TCP from each client placement, hop by hop, as AWS would forward it):\n"];
  if (evaluation.scopes.length === 0)
    out.push("  no client placement: no security group carries HKEX rules and no client scope is declared\n");
  for (const s of evaluation.scopes) {
    out.push(`\n  From ${s.label} (placed by ${BASIS[s.basis] ?? s.basis}):\n`);
    for (const p of s.paths) {
      const at = p.brokenAt === undefined ? "" : ` at the ${p.hops[p.brokenAt]?.step ?? "?"} hop`;
      out.push(`    ${p.status.toUpperCase()}${at}  ${endpointLabel(p.endpoint)}\n      ${p.trace}\n`);
    }
  }
  return `${out.join("")}\n`;
}

export function renderPackReport(report: PackReport): string {
  const out: string[] = [];
  const mandatory = report.violations.filter((v) => v.enforcementLevel === "mandatory").length;
  const advisory = report.violations.length - mandatory;
  out.push(`Policy pack ${PACK_NAME}: ${report.policies.length} policies\n`);
  out.push(
    table(
      ["LEVEL", "POLICY", "RESULT"],
      report.policies.map((p) => {
        const n = report.violations.filter((v) => v.policy === p.name).length;
        const waived = report.exceptions.filter((e) => e.policy === p.name).length;
        const result = p.enforcementLevel === "disabled" ? "not run" : n === 0 ? "pass" : `${n} violation(s)`;
        return [p.enforcementLevel, p.name, waived > 0 ? `${result}, ${waived} waived` : result];
      }),
    ),
  );
  if (report.violations.length > 0) {
    out.push("\nViolations:\n");
    report.violations.forEach((v, i) => {
      out.push(`  [${v.enforcementLevel}] ${v.policy}: ${v.message}\n`);
      if (v.urn) out.push(`      resource: ${v.urn}\n`);
      // The fix is the policy's; say it once, after that policy's last violation.
      if (report.violations[i + 1]?.policy !== v.policy) out.push(`      fix: ${v.description}\n`);
    });
  }
  if (report.exceptions.length > 0) {
    out.push("\nWaived by pack config:\n");
    for (const e of report.exceptions) {
      out.push(`  ${e.policy}: ${e.message}\n      reason: ${e.reason}\n`);
    }
  }
  const counts = [`${mandatory} mandatory`, `${advisory} advisory`].join(", ");
  out.push(`\nVerdict: ${report.verdict === "pass" ? "PASS" : "FAIL"} (${counts} violation(s))\n`);
  return out.join("");
}

/**
 * The pack config file (Pulumi's --policy-pack-config format) for offline
 * runs: the given path, else $HKEX_POLICY_PACK_CONFIG, else none.
 */
export function loadPackConfig(path: string | undefined = process.env.HKEX_POLICY_PACK_CONFIG): PackConfig {
  if (path === undefined || path === "") return {};
  const text = readInputText(path, path);
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("expected a JSON object");
    return parsed as PackConfig;
  } catch (err) {
    throw new InputError({ path, message: `is not a policy pack config: ${(err as Error).message}` });
  }
}
