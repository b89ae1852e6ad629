/**
 * The ready-to-copy CI pipelines (deploy/ci/): they parse as YAML, gate on
 * `pulumi preview --policy-pack policies` after the build that writes the
 * pack's entry, and never update with the preview skipped, neither spelled
 * `--skip-preview` nor hidden in pulumi/actions' `command: up`, which is the
 * Automation API's `pulumi up --yes --skip-preview`
 * (@pulumi/pulumi automation/stack.js, Stack.up). Every update runs after the
 * gate and with the pack.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";

const CI = join(__dirname, "..", "..", "deploy", "ci");

/**
 * The inputs of pulumi/actions v7 (action.yml at tag v7.0.0, commit
 * 8e5e406f4007fca908480587cb9893c07090f58d; unchanged on main in July 2026).
 */
const PULUMI_ACTIONS_V7_INPUTS = new Set([
  "command",
  "stack-name",
  "pulumi-version",
  "pulumi-version-file",
  "work-dir",
  "comment-on-pr",
  "comment-on-pr-number",
  "comment-on-summary",
  "github-token",
  "cloud-url",
  "secrets-provider",
  "parallel",
  "message",
  "config-map",
  "expect-no-changes",
  "diff",
  "replace",
  "exclude",
  "exclude-dependents",
  "target",
  "target-dependents",
  "policyPacks",
  "policyPackConfigs",
  "refresh",
  "upsert",
  "remove",
  "edit-pr-comment",
  "color",
  "exclude-protected",
  "plan",
  "suppress-outputs",
  "suppress-progress",
  "always-include-summary",
  "continue-on-error",
  "log-verbosity",
  "log-flow",
  "debug",
]);

function loadYaml(file: string): unknown {
  const doc = parseDocument(readFileSync(join(CI, file), "utf8"));
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  expect(doc.warnings.map((e) => e.message)).toEqual([]);
  return doc.toJS();
}

const PULUMI_UP = /\bpulumi\s+(up|update)\b/;
const PULUMI_PREVIEW = /\bpulumi\s+preview\b/;
const POLICY_PACK = /--policy-pack(=|\s+)policies(\s|$)/;

/** The jobs `name` waits for, directly or through the jobs it waits for. */
function upstream(needs: Map<string, string[]>, name: string, seen = new Set<string>()): Set<string> {
  for (const n of needs.get(name) ?? []) {
    if (!seen.has(n)) {
      seen.add(n);
      upstream(needs, n, seen);
    }
  }
  return seen;
}

describe("GitHub Actions workflow (deploy/ci/github-actions.yml)", () => {
  interface Step {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
  }
  interface Job {
    needs?: string | string[];
    if?: string;
    steps: Step[];
  }
  const workflow = loadYaml("github-actions.yml") as { on: Record<string, unknown>; jobs: Record<string, Job> };
  const jobs = Object.entries(workflow.jobs);
  const needs = new Map(jobs.map(([name, job]) => [name, job.needs === undefined ? [] : ([] as string[]).concat(job.needs)]));
  const isPulumiAction = (s: Step): boolean => /^pulumi\/actions@/.test(s.uses ?? "");
  const isGate = (s: Step): boolean => isPulumiAction(s) && s.with?.command === "preview";

  it("runs on pull requests and on pushes to main", () => {
    expect(Object.keys(workflow.on).sort()).toEqual(["pull_request", "push"]);
    expect(workflow.on.push).toEqual({ branches: ["main"] });
  });

  it("passes pulumi/actions only inputs that its v7 action.yml declares", () => {
    const used = jobs.flatMap(([, job]) => job.steps.filter(isPulumiAction).flatMap((s) => Object.keys(s.with ?? {})));
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((k) => !PULUMI_ACTIONS_V7_INPUTS.has(k))).toEqual([]);
    for (const [, job] of jobs) for (const s of job.steps.filter(isPulumiAction)) expect(s.uses).toBe("pulumi/actions@v7");
  });

  it("gates on pulumi preview with the policy pack, for a named stack, after the build that writes the pack's entry", () => {
    const gates = jobs.filter(([, job]) => job.steps.some(isGate));
    expect(gates.map(([name]) => name)).toEqual(["preview"]);
    const steps = gates[0]![1].steps;
    const gate = steps.findIndex(isGate);
    expect(steps[gate]!.with).toMatchObject({ command: "preview", policyPacks: "policies", "work-dir": "." });
    expect(String(steps[gate]!.with!["stack-name"])).not.toBe("");
    const build = steps.findIndex((s) => s.run === "npm run build");
    expect(build).toBeGreaterThan(steps.findIndex((s) => s.run === "npm ci"));
    expect(build).toBeLessThan(gate);
  });

  it("never updates with the preview skipped: no --skip-preview, no pulumi/actions `command: up`", () => {
    const runs = jobs.flatMap(([, job]) => job.steps.map((s) => s.run ?? ""));
    expect(runs.filter((r) => /--skip-preview|\bpulumi\s+up\b.*\s-f\b/.test(r))).toEqual([]);
    const commands = jobs.flatMap(([, job]) => job.steps.filter(isPulumiAction).map((s) => s.with?.command));
    expect(commands.filter((c) => c === "up" || c === "update")).toEqual([]);
  });

  it("updates only on main, after the gate passed, with the policy pack", () => {
    const updates = jobs.filter(([, job]) => job.steps.some((s) => PULUMI_UP.test(s.run ?? "")));
    expect(updates.map(([name]) => name)).toEqual(["up"]);
    for (const [name, job] of updates) {
      expect([...upstream(needs, name)]).toContain("preview");
      expect(job.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
      for (const s of job.steps.filter((st) => PULUMI_UP.test(st.run ?? ""))) expect(s.run).toMatch(POLICY_PACK);
    }
  });
});

describe("GitLab CI pipeline (deploy/ci/gitlab-ci.yml)", () => {
  interface Job {
    stage?: string;
    needs?: string[];
    script?: string[];
    before_script?: string[];
    rules?: { if?: string; when?: string }[];
  }
  /** Top-level keys that are settings, not jobs (GitLab CI/CD YAML syntax reference). */
  const GLOBAL_KEYWORDS = new Set([
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
  ]);
  const pipeline = loadYaml("gitlab-ci.yml") as Record<string, unknown> & { stages: string[]; default: Job };
  const jobs = Object.entries(pipeline).filter(([key]) => !GLOBAL_KEYWORDS.has(key) && !key.startsWith(".")) as [string, Job][];
  const needs = new Map(jobs.map(([name, job]) => [name, job.needs ?? []]));
  /** Every shell line the job runs: the default before_script (unless its own), then its script. */
  const lines = (job: Job): string[] => [...(job.before_script ?? pipeline.default.before_script ?? []), ...(job.script ?? [])];

  it("builds before every job, so the pack's entry exists", () => {
    expect(pipeline.default.before_script).toEqual(["npm ci", "npm run build"]);
    expect(jobs.filter(([, job]) => job.before_script !== undefined)).toEqual([]);
  });

  it("gates on pulumi preview with the policy pack, for a named stack, on merge requests and the default branch", () => {
    const gates = jobs.filter(([, job]) => lines(job).some((l) => PULUMI_PREVIEW.test(l)));
    expect(gates.map(([name]) => name)).toEqual(["preview"]);
    const [, gate] = gates[0]!;
    const command = lines(gate).find((l) => PULUMI_PREVIEW.test(l))!;
    expect(command).toMatch(POLICY_PACK);
    expect(command).toMatch(/--stack\s+"\$PULUMI_STACK"/);
    expect(gate.rules?.map((r) => r.if)).toEqual([
      '$CI_PIPELINE_SOURCE == "merge_request_event"',
      "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
    ]);
  });

  it("never updates with the preview skipped", () => {
    expect(jobs.flatMap(([, job]) => lines(job)).filter((l) => /--skip-preview|\bpulumi\s+up\b.*\s-f\b/.test(l))).toEqual([]);
  });

  it("updates only on the default branch, after the gate, in a later stage, with the policy pack", () => {
    const updates = jobs.filter(([, job]) => lines(job).some((l) => PULUMI_UP.test(l)));
    expect(updates.map(([name]) => name)).toEqual(["up"]);
    for (const [name, job] of updates) {
      expect([...upstream(needs, name)]).toContain("preview");
      expect(pipeline.stages.indexOf(job.stage!)).toBeGreaterThan(pipeline.stages.indexOf((pipeline.preview as Job).stage!));
      expect(job.rules?.map((r) => r.if)).toEqual(["$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"]);
      for (const l of lines(job).filter((line) => PULUMI_UP.test(line))) expect(l).toMatch(POLICY_PACK);
    }
  });
});
