/**
 * Runs the probes of one or more sites concurrently and assembles a report.
 * Every endpoint is probed at the same time, so a site with one blackholed
 * host returns within its connect timeout, not the sum of the timeouts.
 */
import { hostname, userInfo } from "node:os";
import { join } from "node:path";
import type { SiteName } from "../catalogue";
import type { Config } from "./config";
import type { UserKey } from "./keys";
import type { KnownHostEntry } from "./knownHosts";
import { probeEndpoint, type PhaseEvent, type ProbeOptions, type ProbeResult } from "./probe";
import {
  REPORT_SCHEMA_VERSION,
  summariseSites,
  type DownloadRecord,
  type EndpointReport,
  type KeyDecryptionRecord,
  type PartReport,
  type Report,
} from "./report";
import { hkNow } from "../core/time";
import { toolVersion } from "../core/version";

export interface RunContext {
  readonly config: Config;
  readonly key: UserKey;
  readonly knownHosts: readonly KnownHostEntry[];
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: PhaseEvent) => void;
  readonly tuning?: ProbeOptions["tuning"];
}

export interface SiteRun {
  readonly endpoints: readonly EndpointReport[];
  readonly downloads: readonly DownloadRecord[];
  readonly results: readonly ProbeResult[];
}

/** A per-endpoint folder, so two hosts never write the same file at once. */
export function endpointDownloadDir(root: string, label: string | undefined, site: SiteName, host: string, port: number): string {
  const leaf = `${site}-${host.replace(/[:[\]]/g, "_")}${port === 18801 ? "" : `-${port}`}`;
  return label ? join(root, label, leaf) : join(root, leaf);
}

export async function runSites(
  ctx: RunContext,
  sites: readonly SiteName[],
  opts: { download: boolean; part?: PartReport["part"]; label?: string; trustOnly?: boolean; downloadSkipReason?: string },
): Promise<SiteRun> {
  const { config } = ctx;
  const targets = sites.flatMap((site) => config.sites[site].targets.map((t) => ({ site, host: t.host, port: t.port })));
  const results = await Promise.all(
    targets.map((target) =>
      probeEndpoint({
        target,
        part: opts.part,
        user: config.user,
        key: ctx.key,
        knownHosts: ctx.knownHosts,
        knownHostsFile: config.knownHostsFile,
        timeouts: config.timeouts,
        remoteDir: config.remoteDir,
        files: config.files,
        download: opts.download,
        downloadSkipReason: opts.downloadSkipReason,
        downloadDir: endpointDownloadDir(config.downloadDir, opts.label, target.site, target.host, target.port),
        signal: ctx.signal,
        onEvent: ctx.onEvent,
        trustOnly: opts.trustOnly,
        tuning: ctx.tuning,
      }),
    ),
  );
  return { endpoints: results.map((r) => r.report), downloads: results.flatMap((r) => r.downloads), results };
}

export function buildReport(args: {
  kind: Report["kind"];
  startedAt: string;
  endpoints: readonly EndpointReport[];
  downloads: readonly DownloadRecord[];
  warnings: readonly string[];
  config?: string;
  interrupted?: string;
  session?: Report["session"];
  verdictOverride?: Report["verdict"];
  keyDecryption?: KeyDecryptionRecord;
}): Report {
  const allPassed = args.endpoints.length > 0 && args.endpoints.every((e) => e.verdict === "pass");
  const verdict = args.verdictOverride ?? (allPassed && !args.interrupted ? "pass" : "fail");
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: "hkex-ready", version: toolVersion() },
    kind: args.kind,
    verdict,
    startedAt: args.startedAt,
    finishedAt: hkNow(),
    from: { hostname: hostname(), user: safeUser() },
    ...(args.config ? { config: args.config } : {}),
    ...(args.interrupted ? { interrupted: args.interrupted } : {}),
    sites: summariseSites(args.endpoints),
    endpoints: args.endpoints,
    downloads: args.downloads,
    warnings: args.warnings,
    ...(args.keyDecryption ? { keyDecryption: args.keyDecryption } : {}),
    ...(args.session ? { session: args.session } : {}),
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
