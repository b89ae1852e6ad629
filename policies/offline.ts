/**
 * Runs the pack without the Pulumi CLI, the way the policy analyzer does:
 * every resource policy on each resource's inputs, then every stack policy on
 * all resources' state, with the same enforcement levels and policy config.
 * `hkex-ready plan` feeds it the resources captured under mocks and
 * `hkex-ready policy` the resources of an exported stack.
 */
import type {
  EnforcementLevel,
  PolicyConfigSchema,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { InputError, type InputProblem } from "../core/errors";
import type { StackResource } from "../infra/stackResource";
import { type FlowEvaluation, evaluateHkexFlows, fromStateResource } from "./flows";
import { flowOptionsOf, hkexBothSitesCovered, hkexPolicies } from "./policies";
import { FLOW_DEFAULTS, type FlowSettings, type ReportWithExceptions, settingsOf } from "./settings";

export interface PolicyViolation {
  readonly policy: string;
  readonly enforcementLevel: "advisory" | "mandatory";
  readonly message: string;
  readonly description: string;
  readonly urn?: string;
}

export interface WaivedFinding {
  readonly policy: string;
  readonly message: string;
  readonly reason: string;
  readonly urn?: string;
}

export interface PackReport {
  readonly policies: readonly { name: string; enforcementLevel: EnforcementLevel }[];
  readonly violations: readonly PolicyViolation[];
  readonly exceptions: readonly WaivedFinding[];
  readonly verdict: "pass" | "fail";
}

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

/** The `--policy-pack-config` file format of the Pulumi CLI. */
export type PackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

class NotApplicable extends Error {}

const DEFAULT_OPTS: PolicyResourceOptions = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

const isTypeFn = (type: string) => (cls: unknown) => (cls as { __pulumiType?: string })?.__pulumiType === type;

export async function runPackOffline(
  resources: readonly StackResource[],
  config: PackConfig = {},
  policies: readonly AnyPolicy[] = hkexPolicies,
): Promise<PackReport> {
  const settings = resolvePackConfig(config, policies);
  const violations: PolicyViolation[] = [];
  const exceptions: WaivedFinding[] = [];

  const reporter = (p: AnyPolicy, level: "advisory" | "mandatory", fallbackUrn?: string): ReportWithExceptions => {
    const report = ((message: string, urn?: string) => {
      violations.push({ policy: p.name, enforcementLevel: level, message, description: p.description, urn: urn ?? fallbackUrn });
    }) as ReportWithExceptions;
    report.excepted = (message, reason, urn) => exceptions.push({ policy: p.name, message, reason, urn: urn ?? fallbackUrn });
    return report;
  };
  const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
  };

  for (const p of policies) {
    const { level, props } = settings.get(p.name)!;
    if (level === "disabled") continue;
    // As in the analyzer: a violation of a remediate policy is reported as mandatory.
    const reportLevel = level === "advisory" ? "advisory" : "mandatory";
    if ("validateResource" in p && p.validateResource) {
      const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
      for (const r of resources) {
        const args: ResourceValidationArgs = {
          type: r.type,
          props: { ...r.inputs },
          urn: r.urn,
          name: r.name,
          opts: { ...DEFAULT_OPTS, parent: r.parent },
          stackTags: new Map(),
          isType: isTypeFn(r.type),
          asType: ((cls: unknown) => (isTypeFn(r.type)(cls) ? { ...r.inputs } : undefined)) as ResourceValidationArgs["asType"],
          getConfig: <T extends object>() => ({ ...props }) as T,
          notApplicable,
        };
        for (const validate of validations) {
          await swallowNotApplicable(() => validate(args, reporter(p, reportLevel, r.urn)));
        }
      }
    }
    if ("validateStack" in p && p.validateStack) {
      const args: StackValidationArgs = {
        resources: policyResources(resources),
        stackTags: new Map(),
        getConfig: <T extends object>() => ({ ...props }) as T,
        notApplicable,
      };
      await swallowNotApplicable(() => p.validateStack(args, reporter(p, reportLevel)));
    }
  }

  return {
    policies: policies.map((p) => ({ name: p.name, enforcementLevel: settings.get(p.name)!.level })),
    violations,
    exceptions,
    verdict: violations.some((v) => v.enforcementLevel === "mandatory") ? "fail" : "pass",
  };
}

/**
 * The flow evaluation the pack's flow policies report on, for the path
 * traces `plan` and `policy` print: the same resources and the endpoints and
 * client scope set for ec2-hkex-both-sites-covered in the pack config.
 */
export function evaluateStackFlows(resources: readonly StackResource[], config: PackConfig = {}): FlowEvaluation {
  const given = resolvePackConfig(config).get(hkexBothSitesCovered.name)?.props ?? {};
  const settings = settingsOf(FLOW_DEFAULTS, given as Partial<FlowSettings>);
  return evaluateHkexFlows(resources.map(fromStateResource), flowOptionsOf(settings));
}

async function swallowNotApplicable(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof NotApplicable)) throw err;
  }
}

/**
 * The analyzer's view of the stack: state props (an output still unknown in
 * a preview does not hide a known input), with parents and dependencies
 * linked by URN. Each resource also keeps its `inputs`, which the analyzer
 * does not give: the flow evaluator reads them to tell a declared inline
 * block from the provider's read-back.
 */
export function policyResources(resources: readonly StackResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const linked = resources.map((r) => {
    const { props } = fromStateResource(r);
    const pr: PolicyResource & { inputs: Record<string, unknown> } = {
      inputs: { ...r.inputs },
      type: r.type,
      props,
      urn: r.urn,
      name: r.name,
      opts: { ...DEFAULT_OPTS, parent: r.parent },
      dependencies: [],
      propertyDependencies: {},
      isType: isTypeFn(r.type),
      asType: ((cls: unknown) => (isTypeFn(r.type)(cls) ? props : undefined)) as PolicyResource["asType"],
    };
    byUrn.set(r.urn, pr);
    return { r, pr };
  });
  for (const { r, pr } of linked) {
    const link = (urns: readonly string[] | undefined) =>
      (urns ?? []).map((u) => byUrn.get(u)).filter((x): x is PolicyResource => x !== undefined);
    if (r.parent) pr.parent = byUrn.get(r.parent);
    pr.dependencies = link(r.dependencies);
    for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) pr.propertyDependencies[k] = link(urns);
  }
  return linked.map(({ pr }) => pr);
}

// ---------------------------------------------------------------------------
// Pack config

interface PolicySettings {
  level: EnforcementLevel;
  props: Record<string, unknown>;
}

/**
 * Levels and settings per policy, checked against each policy's configSchema
 * the way the Pulumi CLI checks a --policy-pack-config file. "all" sets the
 * level of every policy; a policy's own entry wins.
 */
function resolvePackConfig(config: PackConfig, policies: readonly AnyPolicy[] = hkexPolicies): Map<string, PolicySettings> {
  const problems: InputProblem[] = [];
  const known = new Map(policies.map((p) => [p.name, p]));
  for (const key of Object.keys(config)) {
    if (key !== "all" && !known.has(key)) problems.push({ path: key, message: "is not a policy of this pack" });
  }
  const levelOf = (key: string, v: unknown): EnforcementLevel | undefined => {
    if (v === undefined) return undefined;
    if (LEVELS.includes(v as EnforcementLevel)) return v as EnforcementLevel;
    problems.push({ path: key, message: `enforcement level must be one of ${LEVELS.join(", ")}` });
    return undefined;
  };
  const all = levelOf(
    "all",
    typeof config.all === "string" ? config.all : (config.all as { enforcementLevel?: unknown })?.enforcementLevel,
  );

  const out = new Map<string, PolicySettings>();
  for (const p of policies) {
    const entry = config[p.name];
    let level = all ?? p.enforcementLevel ?? "advisory";
    let props: Record<string, unknown> = {};
    if (typeof entry === "string") {
      level = levelOf(p.name, entry) ?? level;
    } else if (entry !== undefined) {
      if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
        problems.push({ path: p.name, message: "must be an enforcement level or an object" });
      } else {
        const { enforcementLevel, ...rest } = entry;
        level = levelOf(`${p.name}.enforcementLevel`, enforcementLevel) ?? level;
        props = rest;
        problems.push(...checkAgainstSchema(p.name, rest, p.configSchema));
      }
    }
    out.set(p.name, { level, props });
  }
  if (problems.length > 0) throw new InputError(problems, "policy pack config");
  return out;
}

type Schema = Record<string, unknown>;

/** The subset of JSON Schema the pack's configSchema uses. */
function checkAgainstSchema(policy: string, props: Record<string, unknown>, schema?: PolicyConfigSchema): InputProblem[] {
  const problems: InputProblem[] = [];
  const properties = (schema?.properties ?? {}) as Record<string, Schema>;
  for (const [k, v] of Object.entries(props)) {
    const setting = Object.hasOwn(properties, k) ? properties[k] : undefined;
    if (setting === undefined) problems.push({ path: `${policy}.${k}`, message: "is not a setting of this policy" });
    else checkValue(`${policy}.${k}`, v, setting, problems);
  }
  for (const k of schema?.required ?? []) {
    if (!(k in props)) problems.push({ path: `${policy}.${k}`, message: "is required" });
  }
  return problems;
}

function checkValue(path: string, v: unknown, s: Schema, problems: InputProblem[]): void {
  const fail = (message: string) => problems.push({ path, message });
  switch (s.type) {
    case "string":
      if (typeof v !== "string") return void fail("must be a string");
      if (typeof s.minLength === "number" && v.length < s.minLength) return void fail(`must have at least ${s.minLength} character(s)`);
      if (typeof s.pattern === "string" && !new RegExp(s.pattern).test(v)) return void fail(`must match ${s.pattern}`);
      break;
    case "integer":
    case "number":
      if (typeof v !== "number" || (s.type === "integer" && !Number.isInteger(v)))
        return void fail(`must be ${s.type === "integer" ? "an integer" : "a number"}`);
      if (typeof s.minimum === "number" && v < s.minimum) return void fail(`must be at least ${s.minimum}`);
      if (typeof s.maximum === "number" && v > s.maximum) return void fail(`must be at most ${s.maximum}`);
      break;
    case "boolean":
      if (typeof v !== "boolean") return void fail("must be true or false");
      break;
    case "array":
      if (!Array.isArray(v)) return void fail("must be a list");
      if (typeof s.minItems === "number" && v.length < s.minItems) return void fail(`must have at least ${s.minItems} item(s)`);
      for (const [i, item] of v.entries()) checkValue(`${path}[${i}]`, item, (s.items ?? {}) as Schema, problems);
      break;
    case "object": {
      if (v === null || typeof v !== "object" || Array.isArray(v)) return void fail("must be an object");
      const props = (s.properties ?? {}) as Record<string, Schema>;
      for (const k of (s.required as string[] | undefined) ?? []) {
        if (!(k in v)) problems.push({ path: `${path}.${k}`, message: "is required" });
      }
      for (const [k, item] of Object.entries(v)) {
        const property = Object.hasOwn(props, k) ? props[k] : undefined;
        if (property !== undefined) checkValue(`${path}.${k}`, item, property, problems);
        else if (s.additionalProperties === false) problems.push({ path: `${path}.${k}`, message: "is not allowed" });
      }
      break;
    }
  }
  if (Array.isArray(s.enum) && !s.enum.includes(v)) fail(`must be one of ${s.enum.join(", ")}`);
}
