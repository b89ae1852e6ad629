/**
 * The probe as its callers see it: what they ask for (ProbeOptions), what
 * they get back (ProbeResult) and hear on the way (PhaseEvent), and a phase
 * as the runner sees it (RunnablePhase). What one phase is lives in phase.ts.
 */
import type { DownloadRecord, EndpointReport, PhaseName, PhaseResult } from "../report";
import type { PhaseContext, PhaseOptions, PhaseProducts, PhaseShape, ProbeTarget, ProductName } from "./phase";

export type { Closeable, Evidence, PhaseContext, PhaseOptions, PhaseProducts, ProbeTarget } from "./phase";

/** What a caller asks of one probe: the phases' options, the caller's signal and its progress callback. */
export interface ProbeOptions extends PhaseOptions {
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: PhaseEvent) => void;
}

export type PhaseEvent =
  | { readonly kind: "start"; readonly target: ProbeTarget; readonly phase: PhaseName }
  | { readonly kind: "end"; readonly target: ProbeTarget; readonly result: PhaseResult };

export interface ProbeResult {
  readonly report: EndpointReport;
  readonly downloads: readonly DownloadRecord[];
  /** The raw host key blob presented, for `trust`. */
  readonly presentedHostKey?: Buffer;
}

/** A phase as the runner sees it, whatever it needs and yields. */
export interface RunnablePhase extends PhaseShape<PhaseName, readonly string[]> {
  readonly needs: readonly ProductName[];
  readonly yields: readonly ProductName[];
  run(input: Partial<PhaseProducts>, ctx: PhaseContext): Promise<Partial<PhaseProducts>>;
}
