/**
 * `hkex-ready trust`: the only way the kit records host keys. It prints each
 * fingerprint it records; a key that differs from a pinned one is never
 * replaced automatically.
 */
import { endpointLabel, SITE_NAMES, type SiteName } from "../../catalogue";
import { appendKnownHosts, knownHostsLine, prepareKnownHostsFolder, verifyHostKey } from "../../checks/knownHosts";
import { runSites } from "../../checks/run";
import { interruptSignal, printWarnings } from "../common";
import { loadAll } from "../../checks/inputs";
import { EXIT } from "../exitCodes";

export interface TrustOptions {
  readonly config: string;
  readonly site: SiteName | "all";
}

export async function run(opts: TrustOptions): Promise<number> {
  const loaded = loadAll(opts.config);
  // Where the keys go is settled before any host is contacted: a missing folder is made (0700), an unusable one is exit 2.
  const created = prepareKnownHostsFolder(loaded.config.knownHostsFile);
  if (created) process.stderr.write(`hkex-ready: created ${created} (mode 0700) for ${loaded.config.knownHostsFile}\n`);
  printWarnings(
    loaded.warnings.filter((w) => !w.startsWith("knownHostsFile:")),
    false,
  );
  const stop = interruptSignal();
  try {
    const sites = opts.site === "all" ? SITE_NAMES : [opts.site];
    const run = await runSites({ ...loaded, signal: stop.signal }, sites, { download: false, trustOnly: true });
    const lines: string[] = [];
    let problems = 0;
    for (const r of run.results) {
      const t = r.report;
      const where = endpointLabel(t);
      if (!r.presentedHostKey) {
        const failed = t.phases.find((p) => p.status === "fail");
        process.stdout.write(`${where}: no host key (${failed?.name}: ${failed?.cause})\n`);
        problems++;
        continue;
      }
      const verdict = verifyHostKey(loaded.knownHosts, t.host, t.port, r.presentedHostKey);
      const type = t.hostKey?.type ?? "";
      if (verdict.status === "match") {
        process.stdout.write(`${where}: ${type} ${verdict.fingerprint} already pinned (line ${verdict.line})\n`);
      } else if (verdict.status === "unknown") {
        lines.push(knownHostsLine(t.host, t.port, r.presentedHostKey));
        process.stdout.write(`${where}: recorded ${type} ${verdict.fingerprint}\n`);
      } else if (verdict.status === "mismatch") {
        process.stdout.write(
          `${where}: NOT recorded: presents ${verdict.fingerprint} but ${verdict.expected.join(", ")} is pinned. Do not trust it; call the DCASS hotline. If HKEX confirms a new key, delete the old line from ${loaded.config.knownHostsFile} and run trust again.\n`,
        );
        problems++;
      } else {
        process.stdout.write(`${where}: NOT recorded: ${verdict.fingerprint} is marked @revoked (line ${verdict.line})\n`);
        problems++;
      }
    }
    appendKnownHosts(loaded.config.knownHostsFile, lines);
    if (lines.length > 0)
      process.stdout.write(
        `wrote ${lines.length} key(s) to ${loaded.config.knownHostsFile}; compare the fingerprints with those HKEX published before you rely on them\n`,
      );
    return problems > 0 || stop.interrupted() ? EXIT.failed : EXIT.ok;
  } finally {
    stop.dispose();
  }
}
