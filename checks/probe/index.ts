/**
 * One endpoint, phase by phase (the table in table.ts): tcp, banner, hostkey,
 * auth, sftp, list, download, logout. Each phase has its own timeout and
 * records its duration; the first failure names the phase and the cause, and
 * every later phase is a skip (never a pass). Host keys are always checked
 * against the pinned file.
 */
import type { EndpointReport, PhaseResult } from "../report";
import { hkNow } from "../../core/time";
import { closeOwned, runPhases, type ProbeRun } from "./runner";
import { PHASE_TABLE } from "./table";
import type { Evidence, ProbeOptions, ProbeResult, RunnablePhase } from "./types";

export type { PhaseEvent, ProbeOptions, ProbeResult, ProbeTarget } from "./types";

export function probeEndpoint(opts: ProbeOptions): Promise<ProbeResult> {
  return probeWith(PHASE_TABLE, opts);
}

/** probeEndpoint over a given table of phases. */
export async function probeWith(table: readonly RunnablePhase[], opts: ProbeOptions): Promise<ProbeResult> {
  const startedAt = hkNow();
  const started = performance.now();
  const run: ProbeRun = { opts, evidence: { downloads: [] }, owned: [] };
  try {
    // `trust` stops after the key exchange: the later phases are not part of its run at all.
    const plan = opts.trustOnly ? table.filter((p) => p.inTrustRun) : table;
    const { results, products } = await runPhases(plan, run);
    const ms = Math.round(performance.now() - started);
    const report = endpointReport({ opts, phases: results, evidence: run.evidence, banner: products.banner, startedAt, ms });
    return { report, downloads: run.evidence.downloads, presentedHostKey: run.evidence.presentedHostKey };
  } finally {
    closeOwned(run.owned);
  }
}

function endpointReport(r: {
  opts: ProbeOptions;
  phases: PhaseResult[];
  evidence: Evidence;
  banner: string | undefined;
  startedAt: string;
  ms: number;
}): EndpointReport {
  const { opts, phases, evidence } = r;
  const t = opts.target;
  return {
    site: t.site,
    host: t.host,
    port: t.port,
    ...(opts.part !== undefined ? { part: opts.part } : {}),
    verdict: phases.some((p) => p.status === "fail") ? "fail" : "pass",
    startedAt: r.startedAt,
    ms: r.ms,
    ...(r.banner ? { banner: r.banner } : {}),
    ...(evidence.hostKey ? { hostKey: evidence.hostKey } : {}),
    ...(opts.key.fingerprint ? { userKeyFingerprint: opts.key.fingerprint } : {}),
    ...(evidence.listing ? { listing: evidence.listing } : {}),
    phases,
  };
}
