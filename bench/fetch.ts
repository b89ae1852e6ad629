/**
 * `node dist/bench/fetch.js CONFIG OPTIONS_JSON`: one endpoint's readiness
 * check with download, exactly as `hkex-ready check` runs it (same config
 * loading, same probe, same verified download), but with the tuning and the
 * cipher preference given on the command line. The bench uses it to measure
 * one lever at a time; it prints one JSON line.
 */
import { loadAll } from "../checks/inputs";
import type { DownloadTuning } from "../checks/download";
import { probeEndpoint } from "../checks/probe";
import { endpointDownloadDir } from "../checks/run";
import { sha256OfFile } from "../core/hash";

export interface FetchOptions {
  readonly tuning?: DownloadTuning;
  /** ssh2 cipher names, most preferred first. */
  readonly ciphers?: string[];
  /** Hash the file again from disk afterwards, as a download that does not hash while streaming would. */
  readonly rereadToHash?: boolean;
}

async function main(): Promise<number> {
  const [configFile, json] = process.argv.slice(2);
  if (!configFile) throw new Error("usage: fetch.js CONFIG [OPTIONS_JSON]");
  const options = JSON.parse(json ?? "{}") as FetchOptions;
  const loaded = loadAll(configFile);
  const { config } = loaded;
  const target = config.sites.primary.targets[0]!;
  const result = await probeEndpoint({
    target: { site: "primary", host: target.host, port: target.port },
    user: config.user,
    key: loaded.key,
    knownHosts: loaded.knownHosts,
    timeouts: config.timeouts,
    remoteDir: config.remoteDir,
    files: config.files,
    download: true,
    downloadDir: endpointDownloadDir(config.downloadDir, undefined, "primary", target.host, target.port),
    ...(options.ciphers ? { algorithms: { cipher: options.ciphers as never } } : {}),
    // The probe passes its tuning through to the download untouched.
    ...(options.tuning ? { tuning: options.tuning } : {}),
  });
  let reread: string | undefined;
  if (options.rereadToHash) {
    for (const d of result.downloads) reread = await sha256OfFile(d.path);
  }
  const crypto = require("ssh2/lib/protocol/crypto.js") as { bindingAvailable?: boolean };
  process.stdout.write(
    `${JSON.stringify({
      verdict: result.report.verdict,
      failed: result.report.phases.find((p) => p.status === "fail"),
      downloads: result.downloads.map((d) => ({ file: d.file, bytes: d.bytes, sha256: d.sha256, ms: d.ms, path: d.path })),
      ...(reread ? { reread } : {}),
      nativeBinding: Boolean(crypto.bindingAvailable),
    })}\n`,
  );
  return result.report.verdict === "pass" ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`fetch: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 3;
  },
);
