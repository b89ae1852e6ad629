/**
 * `hkex-ready policy --state FILE`: the same policy pack as `plan`, run on
 * `pulumi stack export` (deployment v3) or `pulumi preview --json` output,
 * so drift in a live stack is caught without the Pulumi CLI in CI.
 */
import { InputError } from "../../core/errors";
import { evaluateStackFlows, runPackOffline } from "../../policies/offline";
import { loadPackConfig, packReportJson, pathTracesJson, renderPackReport, renderPathTraces } from "../../policies/report";
import { loadStateDocument } from "../../policies/state";
import { EXIT } from "../exitCodes";
import { MAX_STATE_BYTES, readInputText } from "../../core/inputFile";

export interface PolicyOptions {
  readonly state: string;
  readonly json?: boolean;
  /** A --policy-pack-config file; $HKEX_POLICY_PACK_CONFIG when not given. */
  readonly policyPackConfig?: string;
}

export async function run(opts: PolicyOptions): Promise<number> {
  const text = readInputText(opts.state, "--state", MAX_STATE_BYTES);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError({ path: "", message: `is not JSON: ${(err as Error).message}` }, opts.state);
  }
  const state = loadStateDocument(doc, opts.state);
  const packConfig = loadPackConfig(opts.policyPackConfig);
  const report = await runPackOffline(state.resources, packConfig);
  const flows = evaluateStackFlows(state.resources, packConfig);

  if (opts.json) {
    const resources = state.resources.map((r) => ({ type: r.type, urn: r.urn }));
    process.stdout.write(packReportJson({ format: state.format, resources, paths: pathTracesJson(flows) }, report));
  } else {
    const what = state.format === "stack-export" ? "stack export" : "preview";
    process.stdout.write(`Read ${state.resources.length} resources from ${opts.state} (${what})\n\n`);
    process.stdout.write(renderPathTraces(flows));
    process.stdout.write(renderPackReport(report));
  }
  return report.verdict === "pass" ? EXIT.ok : EXIT.failed;
}
