/** `hkex-ready check`: the pre-session readiness check. */
import { SITE_NAMES, type SiteName } from "../../catalogue";
import type { OutputRequest } from "../../checks/evidence/formats";
import { buildReport, runSites } from "../../checks/run";
import { hkNow } from "../../core/time";
import { exitCodeForSignal } from "../exitCodes";
import { keyDecryptionOf } from "../../checks/keys";
import { interruptSignal, preludeOf, printWarnings } from "../common";
import { loadAll } from "../../checks/inputs";
import { checkPlan, createProgress, plainProgress } from "../progress";
import { writeOutputs } from "../outputs";

/** The output flags (--json, --format, --report-dir, --junit, --prometheus, --no-progress) come from the format registry. */
export interface CheckOptions extends OutputRequest {
  readonly config: string;
  readonly site: SiteName | "all";
  readonly download?: boolean;
}

export async function run(opts: CheckOptions): Promise<number> {
  const loaded = loadAll(opts.config);
  printWarnings(loaded.warnings, false);
  const sites = opts.site === "all" ? SITE_NAMES : [opts.site];
  const stop = interruptSignal();
  const startedAt = hkNow();
  const progress = createProgress(opts, plainProgress, checkPlan(loaded.config, sites), undefined, preludeOf(loaded.key));
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
      keyDecryption: keyDecryptionOf(loaded.key),
    });
    await writeOutputs(report, "check", opts, { files: loaded.config.files, sessionDays: loaded.config.sessionDays });
    return exitCodeForSignal(sig, report.verdict);
  } finally {
    stop.dispose();
  }
}
