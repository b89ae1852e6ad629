/**
 * `hkex-ready plan --stack-config Pulumi.<stack>.yaml`: runs the Pulumi
 * program in-process under the mock runtime with that stack config, prints
 * the planned rules, routes and paths, then per endpoint everything on its
 * path, the warnings, and the whole policy pack's verdict on them.
 * Exit 1 on a mandatory violation, 2 on a config problem; warnings alone exit 0.
 */
import { basename } from "node:path";
import { parse as parseYaml } from "yaml";
import { InputError } from "../../core/errors";
import { PROJECT, parseStackConfig } from "../../infra/config";
import { type EndpointPlan, planStack } from "../../infra/plan";
import { evaluateStackFlows, runPackOffline } from "../../policies/offline";
import { loadPackConfig, packReportJson, pathTracesJson, renderPackReport, renderPathTraces, table } from "../../policies/report";
import { EXIT } from "../exitCodes";
import { readInputText } from "../../core/inputFile";

export interface PlanOptions {
  readonly stackConfig: string;
  readonly json?: boolean;
  /** A --policy-pack-config file; $HKEX_POLICY_PACK_CONFIG when not given. */
  readonly policyPackConfig?: string;
}

/** The stack name Pulumi would use for Pulumi.<stack>.yaml. */
export function stackNameOf(file: string): string {
  const m = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(file));
  return m?.[1] ?? "offline";
}

/**
 * A stack config file as Pulumi hands it to the program: fully qualified
 * keys, strings as they are, structured values as JSON text.
 */
export function readStackConfigFile(file: string): Record<string, string> {
  const text = readInputText(file, "--stack-config");
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new InputError({ path: "", message: `is not valid YAML: ${(err as Error).message}` }, file);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new InputError({ path: "", message: "must be a YAML mapping" }, file);
  const config = (doc as Record<string, unknown>).config ?? {};
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new InputError({ path: "config", message: "must be a mapping of config keys" }, file);
  }
  const out: Record<string, string> = {};
  const problems = [];
  for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
    // Pulumi reads a key without a namespace as the project's own.
    const full = key.includes(":") ? key : `${PROJECT}:${key}`;
    if (value !== null && typeof value === "object" && "secure" in value) {
      problems.push({ path: full, message: "is a secret; offline plans cannot decrypt it, give the plain value in a copy of the file" });
      continue;
    }
    out[full] = typeof value === "string" ? value : JSON.stringify(value);
  }
  if (problems.length > 0) throw new InputError(problems, file);
  return out;
}

export async function run(opts: PlanOptions): Promise<number> {
  const config = readStackConfigFile(opts.stackConfig);
  // Every config problem is reported before the mock runtime starts.
  const args = parseStackConfig(config, opts.stackConfig);
  const packConfig = loadPackConfig(opts.policyPackConfig);

  const plan = await planStack(config, args, stackNameOf(opts.stackConfig));
  const report = await runPackOffline(plan.resources, packConfig);
  const flows = evaluateStackFlows(plan.resources, packConfig);

  if (opts.json) {
    const head = {
      stack: stackNameOf(opts.stackConfig),
      resources: plan.rows,
      endpoints: plan.endpoints,
      warnings: plan.warnings,
      outputs: plan.outputs,
      paths: pathTracesJson(flows),
    };
    process.stdout.write(packReportJson(head, report));
  } else {
    process.stdout.write(
      `Plan of stack "${stackNameOf(opts.stackConfig)}" from ${opts.stackConfig} (Pulumi mock runtime: nothing was sent to AWS)\n\n`,
    );
    process.stdout.write(
      table(
        ["KIND", "SITE", "DESTINATION", "PORT", "TARGET", "RESOURCE"],
        plan.rows.map((r) => [r.kind, r.site, r.destination, r.port, r.target, r.resource]),
      ),
    );
    process.stdout.write("\n");
    process.stdout.write(renderEndpointPlans(plan.endpoints));
    process.stdout.write(renderWarnings(plan.warnings));
    process.stdout.write(renderPathTraces(flows));
    process.stdout.write(renderPackReport(report));
  }
  return report.verdict === "pass" ? EXIT.ok : EXIT.failed;
}

/** Per endpoint, one line per step on its path, then the steps it has none of. */
export function renderEndpointPlans(endpoints: readonly EndpointPlan[]): string {
  const out: string[] = ["Per endpoint, what carries its traffic:\n"];
  for (const e of endpoints) {
    out.push(`${e.site} ${e.host}:${e.port}`);
    // The resources are named in the table above and in --json.
    const width = Math.max(...e.steps.map((s) => s.step.length));
    out.push(...e.steps.map((s) => `  ${s.step.padEnd(width)}  ${s.detail}`));
    if (e.missing.length > 0) out.push(`  none declared: ${e.missing.join(", ")}`);
    out.push("");
  }
  return `${out.join("\n")}\n`;
}

export function renderWarnings(warnings: readonly string[]): string {
  if (warnings.length === 0) return "";
  return `Warnings:\n${warnings.map((w) => `  warning: ${w}`).join("\n")}\n\n`;
}
