/**
 * The phase runner on its own, with small phases that need no network: the
 * order of events, skips after a failure, the clean-up phase, and the rule
 * that a phase finishing after its timeout fails with its timeout cause.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PhaseError } from "../../../checks/download";
import { timedOut, unlessConnectionEnded } from "../../../checks/probe/errors";
import { runPhases, type ProbeRun } from "../../../checks/probe/runner";
import { CAUSE_CODES, PHASE_TABLE } from "../../../checks/probe/table";
import type { PhaseContext, PhaseEvent, ProbeOptions, RunnablePhase } from "../../../checks/probe/types";
import type { PhaseName } from "../../../checks/report";

/** Blocks the event loop, as a long synchronous computation (or a stalled machine) would. */
function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function phase(name: PhaseName, run: (ctx: PhaseContext) => Promise<void>, extra: Partial<RunnablePhase> = {}): RunnablePhase {
  return {
    name,
    timeout: "operationMs",
    needs: [],
    yields: [],
    causes: [],
    inTrustRun: true,
    afterLogin: false,
    timeoutError: (ms) => timedOut(name, ms),
    run: async (_input, ctx) => {
      await run(ctx);
      return {};
    },
    ...extra,
  };
}

/** `timeoutMs` is operationMs, the timeout of the phases above; the others are long. */
function probeRun(timeoutMs: number, events: PhaseEvent[] = []): ProbeRun {
  const opts = {
    target: { site: "primary", host: "127.0.0.1", port: 1 },
    timeouts: { connectMs: 5000, handshakeMs: 5000, operationMs: timeoutMs, transferMs: 5000 },
    download: true,
    onEvent: (e: PhaseEvent) => events.push(e),
  } as unknown as ProbeOptions;
  return { opts, evidence: { downloads: [] }, owned: [] };
}

const passes = () => Promise.resolve();
const failsWith = (code: "file-missing" | "connection-lost") => () => Promise.reject(new PhaseError(code, `${code} here`));

describe("the phase runner", () => {
  it("a phase whose work completes after its timeout (timers held up by a blocked event loop) fails with its timeout cause", async () => {
    const late = phase("banner", async () => blockEventLoop(80), {
      timeoutError: (ms) => new PhaseError("no-banner", `no SSH banner within ${ms} ms`),
    });
    const tcp = phase("tcp", passes, { timeout: "connectMs" });
    const { results } = await runPhases([tcp, late, phase("hostkey", passes)], probeRun(20));
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ["tcp", "pass"],
      ["banner", "fail"],
      ["hostkey", "skip"],
    ]);
    expect(results[1]).toMatchObject({ code: "no-banner", cause: "no SSH banner within 20 ms", timeoutMs: 20 });
    expect(results[1]!.ms).toBeGreaterThan(20);
    expect(results[2]).toMatchObject({ code: "earlier-phase-failed", cause: "not run: banner failed" });
  });

  it("a phase that passes within its timeout records its duration and the timeout", async () => {
    const { results } = await runPhases([phase("tcp", passes)], probeRun(5000));
    expect(results[0]).toMatchObject({ name: "tcp", status: "pass", timeoutMs: 5000 });
    expect(results[0]!.ms).toBeLessThanOrEqual(5000);
  });

  it("a phase that never settles is aborted at its timeout with its timeout cause", async () => {
    let aborted: unknown;
    const hangs = phase(
      "sftp",
      (ctx) =>
        new Promise<void>((_, reject) =>
          ctx.signal.addEventListener("abort", () => {
            aborted = ctx.signal.reason;
            reject(aborted);
          }),
        ),
    );
    const { results } = await runPhases([hangs], probeRun(30));
    expect(results[0]).toMatchObject({ status: "fail", code: "timeout", cause: "sftp timed out after 30 ms" });
    expect(aborted).toBeInstanceOf(PhaseError);
  });

  it("emits start and end for a phase that runs and only end for a skip, in table order", async () => {
    const events: PhaseEvent[] = [];
    await runPhases([phase("tcp", failsWith("file-missing")), phase("banner", passes)], probeRun(1000, events));
    expect(events.map((e) => (e.kind === "start" ? `start ${e.phase}` : `end ${e.result.name} ${e.result.status}`))).toEqual([
      "start tcp",
      "end tcp fail",
      "end banner skip",
    ]);
  });

  it("a clean-up phase still runs after a failure the connection survived, and not after one that ended it", async () => {
    const table = (code: "file-missing" | "connection-lost") => [
      phase("list", failsWith(code), { connectionSurvives: unlessConnectionEnded }),
      phase("download", passes),
      phase("logout", passes, { cleanup: true }),
    ];
    const survived = await runPhases(table("file-missing"), probeRun(1000));
    expect(survived.results.map((r) => r.status)).toEqual(["fail", "skip", "pass"]);
    const ended = await runPhases(table("connection-lost"), probeRun(1000));
    expect(ended.results.map((r) => r.status)).toEqual(["fail", "skip", "skip"]);
    expect(ended.results[2]).toMatchObject({ code: "earlier-phase-failed", cause: "not run: list failed" });
  });

  it("a phase's own skip (download not asked for) is no failure: the phases after it still run", async () => {
    const notAsked = phase("download", passes, { skip: () => ({ code: "not-requested", cause: "not requested" }) });
    const { results } = await runPhases([notAsked, phase("logout", passes)], probeRun(1000));
    expect(results).toMatchObject([
      { name: "download", status: "skip", code: "not-requested" },
      { name: "logout", status: "pass" },
    ]);
  });
});

describe("the probe's table of phases", () => {
  it("reports a cause code that no phase declares as error, never as itself", async () => {
    const odd = phase("tcp", async () => {
      throw new PhaseError("made-up-code", "a cause nobody declared");
    });
    const { results } = await runPhases([odd], probeRun(1000));
    expect(results[0]).toMatchObject({ status: "fail", code: "error", cause: "a cause nobody declared" });
  });

  it("every cause code written in the checks' source is one the table declares", () => {
    // Phase errors carry their code as a string (checks/probe/phase.ts); this holds the literals to the table.
    const root = join(__dirname, "..", "..", "..", "checks");
    const files = readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    const written = new Set<string>();
    for (const f of files) {
      const text = readFileSync(join(root, f), "utf8");
      for (const m of text.matchAll(/new PhaseError\(\s*"([a-z-]+)"/g)) written.add(m[1]!);
      for (const m of text.matchAll(/timedOut\([^)]*?,\s*"([a-z-]+)"\)/g)) written.add(m[1]!);
    }
    expect(written.size).toBeGreaterThan(10);
    expect([...written].filter((c) => !(CAUSE_CODES as readonly string[]).includes(c))).toEqual([]);
  });

  it("every phase needs only what an earlier phase yields, and every product has exactly one phase yielding it", () => {
    const yielded: string[] = [];
    for (const p of PHASE_TABLE) {
      expect(
        p.needs.filter((n) => !yielded.includes(n)),
        p.name,
      ).toEqual([]);
      yielded.push(...p.yields);
    }
    expect(new Set(yielded).size).toBe(yielded.length);
  });

  it("every phase declares the timeout cause it fails with", () => {
    for (const p of PHASE_TABLE) {
      const code: string = p.timeoutError(1000, { site: "primary", host: "127.0.0.1", port: 18801 }).code;
      expect(p.causes as readonly string[], p.name).toContain(code);
    }
  });
});
