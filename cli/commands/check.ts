/** `hkex-ready check`: the pre-session readiness check. */
import { SITE_NAMES, type SiteName } from "../../catalogue";
import { buildReport, runSites } from "../../checks/run";
import { hkNow } from "../../core/time";
import { emit, exitCodeForSignal, interruptSignal, loadAll, plainProgress, printWarnings } from "../common";
import { checkPlan } from "../progress";
import { companionFiles, extraOutputs, progressFor } from "../outputs";

export interface CheckOptions {
  readonly config: string;
  readonly site: SiteName | "all";
  readonly download?: boolean;
  readonly json?: boolean;
  readonly format?: "text" | "tap";
  readonly junit?: string;
  readonly reportDir?: string;
  readonly prometheus?: string;
  readonly progress?: boolean;
}

export async function run(opts: CheckOptions): Promise<number> {
  const loaded = loadAll(opts.config);
  printWarnings(loaded.warnings, false);
  const sites = opts.site === "all" ? SITE_NAMES : [opts.site];
  const stop = interruptSignal();
  const startedAt = hkNow();
  const progress = progressFor(opts, plainProgress, checkPlan(loaded.config, sites));
  try {
    const result = await runSites(
      { config: loaded.config, key: loaded.key, knownHosts: loaded.knownHosts, signal: stop.signal, onEvent: progress.onEvent },
      sites,
      { download: Boolean(opts.download) },
    );
    await progress.done();
    const sig = stop.interrupted();
    const report = buildReport({
      kind: "check",
      startedAt,
      endpoints: result.endpoints,
      downloads: result.downloads,
      warnings: loaded.warnings,
      config: loaded.config.file,
      interrupted: sig ? `interrupted by ${sig}` : undefined,
    });
    await emit(report, opts, companionFiles(report, opts));
    await extraOutputs(report, { junit: opts.junit, prometheus: opts.prometheus, files: loaded.config.files });
    return exitCodeForSignal(sig, report.verdict);
  } finally {
    stop.dispose();
  }
}
