/** Progress: which display, and how phase events find their place in the plan. */
import { describe, expect, it, vi } from "vitest";
import type { Config } from "../../checks/config";
import type { PhaseEvent, ProbeTarget } from "../../checks/probe";
import { checkPlan, createProgress, phaseLine, progressMode, ProgressTracker, sessionPlan } from "../../cli/progress";
import { PHASES, type PhaseName, type PhaseResult } from "../../checks/report";

const tty = { stdoutIsTTY: true, stderrIsTTY: true, ci: false };

const config = {
  sites: {
    primary: {
      name: "primary",
      targets: [
        { host: "10.151.14.141", port: 18801 },
        { host: "10.151.14.142", port: 18801 },
      ],
    },
    secondary: {
      name: "secondary",
      targets: [
        { host: "10.152.14.141", port: 18801 },
        { host: "10.152.14.142", port: 18801 },
      ],
    },
  },
} as unknown as Config;

const A: ProbeTarget = { site: "primary", host: "10.151.14.141", port: 18801 };
const C: ProbeTarget = { site: "secondary", host: "10.152.14.141", port: 18801 };

function run(target: ProbeTarget, ms = 1): PhaseEvent[] {
  return PHASES.flatMap((phase): PhaseEvent[] => [
    { kind: "start", target, phase },
    { kind: "end", target, result: { name: phase, status: "pass", ms } },
  ]);
}

async function results(tracker: ProgressTracker, group: number, endpoint: number): Promise<PhaseResult[]> {
  const e = tracker.groups[group]!.endpoints[endpoint]!;
  return Promise.all(PHASES.map((p) => e.phases.get(p as PhaseName)!.promise));
}

describe("progress display", () => {
  it("is live only on a terminal outside CI, plain lines otherwise, and silent with --json", () => {
    expect(progressMode({}, tty)).toBe("live");
    expect(progressMode({ progress: true }, tty)).toBe("live");
    expect(progressMode({ progress: false }, tty)).toBe("plain");
    expect(progressMode({}, { ...tty, ci: true })).toBe("plain");
    expect(progressMode({}, { ...tty, stdoutIsTTY: false })).toBe("plain");
    expect(progressMode({}, { ...tty, stderrIsTTY: false })).toBe("plain");
    expect(progressMode({ json: true }, tty)).toBe("silent");
    expect(progressMode({ json: true, progress: false }, { ...tty, ci: true })).toBe("silent");
  });

  it("hands plain mode to the line printer, and nothing to it with --json", async () => {
    const plain = vi.fn((enabled: boolean) => (enabled ? () => undefined : undefined));
    const p = createProgress({}, plain, checkPlan(config, ["primary"]), { ...tty, ci: true });
    expect(plain).toHaveBeenLastCalledWith(true);
    expect(p.onEvent).toBeTypeOf("function");
    await p.done();
    const silent = createProgress({ json: true }, plain, checkPlan(config, ["primary"]), tty);
    expect(plain).toHaveBeenLastCalledWith(false);
    expect(silent.onEvent).toBeUndefined();
  });

  it("plans the session's steps in runSession's order", () => {
    expect(sessionPlan(config).map((g) => `${g.title}: ${g.targets.map((t) => t.host).join(",")}`)).toEqual([
      "Pre-check: primary: 10.151.14.141,10.151.14.142",
      "Part 1: secondary (window 12:00-14:00): 10.152.14.141,10.152.14.142",
      "Part 2: primary (window 15:00-17:00): 10.151.14.141,10.151.14.142",
    ]);
    expect(sessionPlan(config, 2).map((g) => g.title)).toEqual(["Part 2: primary (window 15:00-17:00)"]);
    expect(checkPlan(config, ["primary", "secondary"])[0]!.targets).toHaveLength(4);
  });

  it("routes a host's second run to the later group, and settles a group that never ran as not run", async () => {
    const tracker = new ProgressTracker(sessionPlan(config));
    for (const e of run(A, 5)) tracker.onEvent(e);
    expect(await tracker.groups[0]!.started.promise).toBe(true);
    // Part 1 is skipped (say, weather): the next events are primary's Part 2 run.
    for (const e of run(A, 7)) tracker.onEvent(e);
    expect((await results(tracker, 0, 0)).map((r) => r.ms)).toEqual(PHASES.map(() => 5));
    expect((await results(tracker, 2, 0)).map((r) => r.ms)).toEqual(PHASES.map(() => 7));
    expect(await tracker.groups[1]!.started.promise).toBe(false);
    expect((await results(tracker, 1, 0)).every((r) => r.status === "skip" && r.cause === "not run")).toBe(true);
    // The pre-check's second host never reported: closed as not run when Part 2 started.
    expect((await results(tracker, 0, 1)).map((r) => r.cause)).toEqual(PHASES.map(() => "not run"));
    tracker.onEvent({ kind: "end", target: { ...C, host: "192.0.2.1" }, result: { name: "tcp", status: "pass", ms: 1 } });
    tracker.finish();
    await tracker.done;
    expect((await results(tracker, 2, 1)).map((r) => r.status)).toEqual(PHASES.map(() => "skip"));
  });

  it("writes an endpoint's phases as one line", () => {
    expect(
      phaseLine([
        { name: "tcp", status: "pass", ms: 3 },
        { name: "auth", status: "fail", ms: 40 },
        { name: "sftp", status: "skip", ms: 0 },
      ]),
    ).toBe("tcp 3 ms · auth FAIL · sftp skip");
  });
});
