/**
 * Runs a table of phases in order. Each phase runs under its own timeout and
 * the caller's signal, records its duration, and hands what it yields to the
 * phases after it. The first failure names the phase and the cause; every
 * later phase is a skip (never a pass), except a clean-up phase after a
 * failure the connection survived. A phase that finishes after its timeout
 * fails with its timeout cause: it never passes late.
 */
import { PhaseError } from "../download";
import type { PhaseResult } from "../report";
import { printable } from "../../core/text";
import { hkNow } from "../../core/time";
import { sshErrorToPhase } from "./errors";
import { CAUSE_CODES, type CauseCode } from "./table";
import type { Closeable, Evidence, PhaseContext, PhaseProducts, ProbeOptions, RunnablePhase } from "./types";

/** After a timeout or interrupt, how long a phase may take to remove its temporary files. */
const CLEANUP_GRACE_MS = 2000;

/** What one probe's phases share: the caller's options, the evidence for the report, and what must be closed. */
export interface ProbeRun {
  readonly opts: ProbeOptions;
  readonly evidence: Evidence;
  readonly owned: Closeable[];
}

interface Failure {
  readonly phase: RunnablePhase;
  readonly error: PhaseError;
}

interface Outcome {
  readonly result: PhaseResult;
  readonly yields?: Partial<PhaseProducts>;
  readonly error?: PhaseError;
}

export async function runPhases(
  table: readonly RunnablePhase[],
  run: ProbeRun,
): Promise<{ results: PhaseResult[]; products: Partial<PhaseProducts> }> {
  const results: PhaseResult[] = [];
  const products: Partial<PhaseProducts> = {};
  let failure: Failure | undefined;
  for (const phase of table) {
    const outcome = skipped(phase, failure, run.opts) ?? (await attempt(phase, products, run));
    results.push(outcome.result);
    run.opts.onEvent?.({ kind: "end", target: run.opts.target, result: outcome.result });
    if (outcome.error) failure ??= { phase, error: outcome.error };
    else Object.assign(products, outcome.yields);
  }
  return { results, products };
}

/** Closes everything the phases opened, the last opened first. */
export function closeOwned(owned: readonly Closeable[]): void {
  for (const r of [...owned].reverse()) r.destroy();
}

/**
 * A phase error carries its code as a string (the phases cannot name the
 * report's CauseCode, which derives from them); only a declared cause reaches
 * the report, and a code no phase declares is reported as "error".
 */
function declaredCause(code: string): CauseCode {
  return (CAUSE_CODES as readonly string[]).includes(code) ? (code as CauseCode) : "error";
}

function skipped(phase: RunnablePhase, failure: Failure | undefined, opts: ProbeOptions): Outcome | undefined {
  if (failure && !(phase.cleanup && failure.phase.connectionSurvives?.(failure.error))) {
    return {
      result: { name: phase.name, status: "skip", ms: 0, code: "earlier-phase-failed", cause: `not run: ${failure.phase.name} failed` },
    };
  }
  const skip = failure ? undefined : phase.skip?.(opts);
  return skip ? { result: { name: phase.name, status: "skip", ms: 0, code: declaredCause(skip.code), cause: skip.cause } } : undefined;
}

async function attempt(phase: RunnablePhase, products: Partial<PhaseProducts>, run: ProbeRun): Promise<Outcome> {
  const { opts } = run;
  const t = opts.target;
  opts.onEvent?.({ kind: "start", target: t, phase: phase.name });
  const timeoutMs = opts.timeouts[phase.timeout];
  const started = performance.now();
  const startedAt = hkNow();
  const limit = phaseSignal(phase, timeoutMs, opts);
  const ctx: PhaseContext = {
    opts,
    target: t,
    signal: limit.signal,
    timeoutMs,
    evidence: run.evidence,
    own: (r) => void run.owned.push(r),
    sshError: (err) => sshErrorToPhase(err as Error, phase, t),
  };
  const work = phase.run(inputsOf(phase, products), ctx);
  work.catch(() => undefined);
  try {
    const yields = await firstOf(work, limit.signal);
    const elapsed = performance.now() - started;
    // Blocked timers (a busy event loop) must not let late work pass.
    if (elapsed > timeoutMs) throw phase.timeoutError(timeoutMs, t);
    return { result: { name: phase.name, status: "pass", ms: Math.round(elapsed), timeoutMs, startedAt }, yields };
  } catch (err) {
    const error = err instanceof PhaseError ? err : ctx.sshError(err);
    if (limit.signal.aborted) {
      // A timed-out handshake or SFTP request never answers: closing the connection
      // settles it at once. A download cleans up after itself on the same signal.
      if (!phase.cleansUpOnAbort) closeOwned(run.owned);
      await settledWithin(work, CLEANUP_GRACE_MS);
    }
    const ms = Math.round(performance.now() - started);
    // Causes may quote the server (SFTP status text, disconnect reasons): never raw to a terminal.
    return {
      result: {
        name: phase.name,
        status: "fail",
        ms,
        code: declaredCause(error.code),
        cause: printable(error.message),
        timeoutMs,
        startedAt,
      },
      error,
    };
  } finally {
    limit.dispose();
  }
}

function inputsOf(phase: RunnablePhase, products: Partial<PhaseProducts>): Partial<PhaseProducts> {
  const missing = phase.needs.filter((n) => products[n] === undefined);
  if (missing.length > 0) throw new Error(`phase ${phase.name} needs ${missing.join(", ")}, which no earlier phase yielded`);
  return products;
}

/** Aborted by the phase's timeout or by the caller's signal, whichever comes first. */
function phaseSignal(phase: RunnablePhase, timeoutMs: number, opts: ProbeOptions): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const outer = opts.signal;
  const timer = setTimeout(() => ac.abort(phase.timeoutError(timeoutMs, opts.target)), timeoutMs);
  const onOuterAbort = () =>
    ac.abort(new PhaseError("interrupted", `interrupted (${String(outer?.reason ?? "abort")}) during ${phase.name}`));
  if (outer?.aborted) onOuterAbort();
  else outer?.addEventListener("abort", onOuterAbort, { once: true });
  return {
    signal: ac.signal,
    dispose: () => {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onOuterAbort);
    },
  };
}

/** The work's result, or the abort reason; the phase's own abort handling runs first, so it can name the cause more precisely. */
function firstOf<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  const aborted = new Promise<never>((_, reject) => {
    const late = () => setImmediate(() => reject(signal.reason));
    if (signal.aborted) late();
    else signal.addEventListener("abort", late, { once: true });
  });
  aborted.catch(() => undefined);
  return Promise.race([work, aborted]);
}

function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    const settle = () => {
      clearTimeout(timer);
      resolve();
    };
    p.then(settle, settle);
  });
}
