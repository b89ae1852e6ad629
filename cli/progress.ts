/**
 * Progress while the checks run, on stderr so stdout stays clean for --json
 * and --format tap:
 *  - live: a listr2 task list (groups → endpoints → phases ticking over with
 *    the probe's own timings) when stdout and stderr are terminals and CI is
 *    not set;
 *  - plain: one line per finished phase (CI, pipes, --no-progress);
 *  - silent: --json.
 *
 * The probe calls onEvent from its hot path, so the callback only looks up
 * the endpoint and settles a promise; listr2 does the drawing on its own timer.
 */
// listr2 is loaded only when a live task list is drawn (a terminal), not in CI or pipes.
import type { DefaultRenderer, ListrTaskWrapper, SimpleRenderer } from "listr2";
import { endpointLabel, partTitle, type PartNumber, type SiteName } from "../catalogue";
import type { Config } from "../checks/config";
import type { PhaseEvent, ProbeTarget } from "../checks/probe";
import { PHASES, type PhaseName, type PhaseResult } from "../checks/report";
import { sessionSteps } from "../checks/session";
import { windowsOn } from "../checks/sessionDays";
import { hkDate } from "../core/time";

export interface ProgressGroup {
  readonly title: string;
  readonly targets: readonly ProbeTarget[];
}

function targetsOf(config: Config, sites: readonly SiteName[]): ProbeTarget[] {
  return sites.flatMap((site) => config.sites[site].targets.map((t) => ({ site, host: t.host, port: t.port })));
}

/** `check`: every endpoint of the chosen sites at once. */
export function checkPlan(config: Config, sites: readonly SiteName[]): ProgressGroup[] {
  return [{ title: `Readiness check: ${sites.join(" + ")}`, targets: targetsOf(config, sites) }];
}

/** `session` and `demo`: the steps in the order runSession takes them, with the windows of the day being run. */
export function sessionPlan(config: Config, part?: PartNumber, date: string = hkDate()): ProgressGroup[] {
  return sessionSteps(part, windowsOn(config.sessionDays ?? [], date)).map((s) => ({
    title: `${partTitle(s.part)}: ${s.site}${s.window ? ` (window ${s.window.start}-${s.window.end})` : ""}`,
    targets: targetsOf(config, [s.site]),
  }));
}

export type ProgressMode = "live" | "plain" | "silent";

export function progressMode(
  opts: { readonly json?: boolean; readonly progress?: boolean },
  env: { readonly stdoutIsTTY: boolean; readonly stderrIsTTY: boolean; readonly ci: boolean },
): ProgressMode {
  if (opts.json) return "silent";
  if (opts.progress === false) return "plain";
  if (env.ci || !env.stdoutIsTTY || !env.stderrIsTTY) return "plain";
  return "live";
}

function processProgressEnv(): { stdoutIsTTY: boolean; stderrIsTTY: boolean; ci: boolean } {
  const ci = process.env.CI;
  return {
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    ci: ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false",
  };
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  settled: boolean;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  const d: Deferred<T> = {
    promise,
    settled: false,
    resolve: (v) => {
      if (d.settled) return;
      d.settled = true;
      resolve(v);
    },
  };
  return d;
}

export interface TrackedEndpoint {
  readonly group: number;
  readonly target: ProbeTarget;
  readonly phases: ReadonlyMap<PhaseName, Deferred<PhaseResult>>;
  /** The phase running now, for display. */
  running?: PhaseName;
  resolvedCount: number;
}

const keyOf = (t: ProbeTarget) => `${t.site}|${t.host}|${t.port}`;

/**
 * Routes phase events to the plan. The same endpoint can appear in several
 * groups (primary in the pre-check and in Part 2): events go to the earliest
 * group where it has not finished. When a group sees its first event, every
 * earlier group is over, so whatever it never heard about is settled as "not run".
 */
export class ProgressTracker {
  readonly groups: readonly {
    readonly title: string;
    readonly endpoints: readonly TrackedEndpoint[];
    readonly started: Deferred<boolean>;
  }[];
  private readonly byKey = new Map<string, TrackedEndpoint[]>();
  private readonly finished = deferred<void>();

  constructor(plan: readonly ProgressGroup[]) {
    this.groups = plan.map((g, group) => ({
      title: g.title,
      started: deferred<boolean>(),
      endpoints: g.targets.map((target) => {
        const e: TrackedEndpoint = { group, target, phases: new Map(PHASES.map((p) => [p, deferred<PhaseResult>()])), resolvedCount: 0 };
        const list = this.byKey.get(keyOf(target)) ?? [];
        list.push(e);
        this.byKey.set(keyOf(target), list);
        return e;
      }),
    }));
  }

  get done(): Promise<void> {
    return this.finished.promise;
  }

  /** The endpoint an event belongs to, or undefined for one outside the plan. */
  private route(e: PhaseEvent): TrackedEndpoint | undefined {
    const list = this.byKey.get(keyOf(e.target));
    if (!list) return undefined;
    const phase = e.kind === "start" ? e.phase : e.result.name;
    // An endpoint that already reported this phase is on its next run (a later group).
    return list.find((x) => x.resolvedCount < PHASES.length && !x.phases.get(phase)!.settled);
  }

  readonly onEvent = (e: PhaseEvent): void => {
    const entry = this.route(e);
    if (!entry) return;
    const g = this.groups[entry.group]!;
    if (!g.started.settled) {
      for (let i = 0; i < entry.group; i++) this.closeGroup(i);
      g.started.resolve(true);
    }
    if (e.kind === "start") {
      entry.running = e.phase;
      return;
    }
    this.settle(entry, e.result);
  };

  private settle(entry: TrackedEndpoint, result: PhaseResult): void {
    const d = entry.phases.get(result.name);
    if (!d || d.settled) return;
    d.resolve(result);
    entry.resolvedCount++;
    if (entry.running === result.name) entry.running = undefined;
  }

  private closeGroup(i: number): void {
    const g = this.groups[i]!;
    g.started.resolve(false);
    for (const entry of g.endpoints) {
      for (const name of PHASES) this.settle(entry, { name, status: "skip", ms: 0, cause: "not run" });
    }
  }

  /** Settles everything still open: the run is over. */
  finish(): void {
    for (const i of this.groups.keys()) this.closeGroup(i);
    this.finished.resolve();
  }
}

/** "tcp 3 ms · banner 1 ms · hostkey FAIL": the phases reported so far. */
export function phaseLine(results: readonly PhaseResult[]): string {
  return results.map((r) => `${r.name} ${r.status === "pass" ? `${r.ms} ms` : r.status === "fail" ? "FAIL" : "skip"}`).join(" · ");
}

/** Plain progress lines on stderr: one per finished phase. */
export function plainProgress(enabled: boolean): ((e: PhaseEvent) => void) | undefined {
  if (!enabled) return undefined;
  return (e) => {
    if (e.kind !== "end") return;
    const r = e.result;
    const tail = r.status === "pass" ? `${r.ms} ms` : `${r.status}${r.cause ? `: ${r.cause}` : ""}`;
    process.stderr.write(`  ${endpointLabel(e.target)} ${r.name} ${tail}\n`);
  };
}

export interface Progress {
  readonly onEvent?: (e: PhaseEvent) => void;
  /** Settles the display; resolves once the task list has drawn its last frame. */
  done(): Promise<void>;
}

type TaskWrapper = ListrTaskWrapper<unknown, typeof DefaultRenderer, typeof SimpleRenderer>;
type TrackedGroup = ProgressTracker["groups"][number];

/** One endpoint's task: the title ticks over as its phases report; it ends PASS, FAIL at a phase, or not run. */
function endpointTask(entry: TrackedEndpoint, onDone: (passed: boolean) => void) {
  const title = endpointLabel(entry.target);
  return {
    title,
    task: async (_ctx: unknown, task: TaskWrapper) => {
      const results: PhaseResult[] = [];
      for (const name of PHASES) {
        results.push(await entry.phases.get(name)!.promise);
        const next = PHASES[results.length];
        task.title = `${title}  ${phaseLine(results)}${next && results.every((r) => r.status !== "fail") ? ` · ${next}…` : ""}`;
      }
      const failed = results.find((r) => r.status === "fail");
      onDone(!failed);
      if (results.every((r) => r.cause === "not run")) {
        task.skip(`${title}: not run`);
        return;
      }
      const total = results.reduce((sum, r) => sum + r.ms, 0);
      if (failed) {
        task.title = `${title}  FAIL at ${failed.name}  (${phaseLine(results)})`;
        throw new Error(`${failed.name} failed after ${failed.ms} ms: ${failed.cause ?? failed.code ?? "failed"}`);
      }
      task.title = `${title}  PASS in ${total} ms  (${phaseLine(results)})`;
    },
  };
}

/** One group's task: waits for the group's first event, runs its endpoints side by side, then counts how many passed. */
function groupTask(g: TrackedGroup) {
  return {
    title: g.title,
    task: async (_ctx: unknown, task: TaskWrapper) => {
      // false: a later group started, or the run ended, before this one saw an event (weather, interruption).
      const started = await g.started.promise;
      if (!started) {
        task.skip(`${g.title}: not run`);
        return;
      }
      let finished = 0;
      let passed = 0;
      const onDone = (ok: boolean) => {
        finished++;
        if (ok) passed++;
        if (finished === g.endpoints.length) {
          const status = passed === finished ? "pass" : passed > 0 ? "degraded" : "fail";
          task.title = `${g.title}: ${status} ${passed}/${finished}`;
        }
      };
      return task.newListr(
        g.endpoints.map((entry) => endpointTask(entry, onDone)),
        { concurrent: true, exitOnError: false },
      );
    },
  };
}

/** listr2's settings: groups one after another, drawn on `output` while `held` waits. */
function listOptions(output: NodeJS.WriteStream, held: NodeJS.WriteStream) {
  const { ListrLogger, ProcessOutput } = require("listr2") as typeof import("listr2");
  return {
    concurrent: false,
    exitOnError: false,
    registerSignalListeners: false,
    rendererOptions: {
      // Redraw on state changes only, not on a spinner timer: the probes share this event loop and time their phases.
      lazy: true,
      collapseSubtasks: true,
      collapseErrors: false,
      showErrorMessage: true,
      logger: new ListrLogger({ useIcons: true, toStderr: [], processOutput: new ProcessOutput(output, held) }),
    },
    // Should listr2 itself decide the terminal cannot take the task list, its line renderer also writes to stderr.
    fallbackRenderer: "simple" as const,
    fallbackRendererOptions: {
      logger: new ListrLogger({ useIcons: false, toStderr: [], processOutput: new ProcessOutput(output, held) }),
    },
  };
}

/**
 * listr2 hides the cursor through signal-exit, which re-raises SIGINT/SIGTERM when it sees no other
 * listener; the CLI's own handler is a `once`, gone by then. Holding a listener for as long as the
 * list is drawn lets the run stop cleanly and still write its report ("interrupted", exit 130/143).
 * Returns the release.
 */
function holdSignals(): () => void {
  const hold = () => undefined;
  process.on("SIGINT", hold);
  process.on("SIGTERM", hold);
  return () => {
    process.removeListener("SIGINT", hold);
    process.removeListener("SIGTERM", hold);
  };
}

/** A step that was over before any endpoint was contacted (the key's decryption): a task that is already done. */
function doneTask(title: string) {
  return { title, task: async () => undefined };
}

/** The live task list. `output` is where it draws (stderr); the other stream is held back while it draws. */
function liveProgress(
  plan: readonly ProgressGroup[],
  output: NodeJS.WriteStream = process.stderr,
  held: NodeJS.WriteStream = process.stdout,
  prelude: readonly string[] = [],
): Progress {
  const { Listr } = require("listr2") as typeof import("listr2");
  const tracker = new ProgressTracker(plan);
  const list = new Listr<unknown, "default", "simple">(
    [...prelude.map(doneTask), ...tracker.groups.map(groupTask)],
    listOptions(output, held),
  );
  const release = holdSignals();
  const running = list.run().catch(() => undefined);
  return {
    onEvent: tracker.onEvent,
    done: async () => {
      tracker.finish();
      await running;
      release();
    },
  };
}

/**
 * The progress display for a run. `plain` makes the one-line-per-phase
 * printer (plainProgress); `plan` lists the groups and endpoints in
 * the order they will run; `prelude` the steps already done before any
 * endpoint was contacted (the key's decryption), shown first.
 */
export function createProgress(
  opts: { readonly json?: boolean; readonly progress?: boolean },
  plain: (enabled: boolean) => ((e: PhaseEvent) => void) | undefined,
  plan: readonly ProgressGroup[] | undefined,
  env = processProgressEnv(),
  prelude: readonly string[] = [],
  stderr: (line: string) => void = (line) => process.stderr.write(line),
): Progress {
  const mode = progressMode(opts, env);
  if (mode === "live" && plan && plan.length > 0) return liveProgress(plan, process.stderr, process.stdout, prelude);
  if (mode === "plain") for (const line of prelude) stderr(`  ${line}\n`);
  const onEvent = plain(mode !== "silent");
  return { ...(onEvent ? { onEvent } : {}), done: async () => undefined };
}
