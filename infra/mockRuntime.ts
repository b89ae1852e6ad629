/**
 * Runs the program in-process under Pulumi's mock runtime: no CLI, no
 * engine, no cloud. Every resource registration is recorded with plausible
 * AWS ids and the options the engine would be sent (aliases,
 * deleteBeforeReplace, dependencies, replacement trigger). The data sources
 * the program reads are answered from an OfflineWorld, by default an empty
 * one; any other provider function call fails loudly, so a new API call in
 * the program cannot slip through a plan unnoticed.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { AWS_TYPES } from "./awsTypes";
import { PROJECT } from "./config";
import type { LiveSecurityGroupRule } from "./existingGroup";
import { defineStack } from "./stack";
import type { StackResource } from "./stackResource";

export interface CapturedResource extends StackResource {
  readonly id?: string;
  readonly custom: boolean;
  /** The resource options the engine is sent, as the mock monitor received them. */
  readonly options?: CapturedOptions;
}

export interface CapturedOptions {
  readonly deleteBeforeReplace: boolean;
  /** Alias URNs (aliases given as a URN) and alias names (given as parts). */
  readonly aliases: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly replacementTrigger?: unknown;
  /** URNs of the resources it depends on (dependsOn and input dependencies). */
  readonly dependencies: readonly string[];
}

/**
 * What the offline run answers for the data sources the program reads, in
 * the shape the provider returns them. The plan runs with the empty world:
 * an existing group then has no rules to review, which the plan says.
 */
export interface OfflineWorld {
  /** Rules of existing security groups, as aws.vpc.getSecurityGroupRule returns each. */
  readonly securityGroupRules?: readonly LiveSecurityGroupRule[];
  /** The outputs of a NetworkInsightsAnalysis once AWS ran it (status, pathFound, explanations), by resource name. */
  readonly analysisResult?: (name: string) => Record<string, unknown> | undefined;
}

export interface MockRun {
  readonly resources: CapturedResource[];
  readonly outputs: Record<string, unknown>;
}

const ACCOUNT = "123456789012";
const REGION = "ap-east-1";

/** Id prefix and ARN resource kind AWS uses for each EC2 type the program creates. */
const AWS_IDS: Readonly<Record<string, { prefix: string; arnKind?: string }>> = {
  [AWS_TYPES.securityGroup]: { prefix: "sg", arnKind: "security-group" },
  [AWS_TYPES.securityGroupEgressRule]: { prefix: "sgr", arnKind: "security-group-rule" },
  [AWS_TYPES.networkAclRule]: { prefix: "nacl" },
  [AWS_TYPES.networkInterfaceSecurityGroupAttachment]: { prefix: "sgattach" },
  [AWS_TYPES.route]: { prefix: "r" },
  [AWS_TYPES.networkInsightsPath]: { prefix: "nip", arnKind: "network-insights-path" },
  [AWS_TYPES.networkInsightsAnalysis]: { prefix: "nia", arnKind: "network-insights-analysis" },
};

/**
 * Types whose AWS id is their name (Pulumi's autoname, `<name>-<7 hex>`,
 * unless the inputs give one), and their ARN as AWS writes it
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
 */
const NAMED_ARNS: Readonly<Record<string, (name: string) => string>> = {
  [AWS_TYPES.lambdaFunction]: (n) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${n}`,
  [AWS_TYPES.iamRole]: (n) => `arn:aws:iam::${ACCOUNT}:role/${n}`,
  [AWS_TYPES.logGroup]: (n) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${n}`,
  [AWS_TYPES.schedule]: (n) => `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/${n}`,
  [AWS_TYPES.metricAlarm]: (n) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${n}`,
};

function mockId(type: string, seq: number): string {
  const prefix = AWS_IDS[type]?.prefix ?? "mock";
  return `${prefix}-${seq.toString(16).padStart(17, "0")}`;
}

function namedId(name: string, inputs: Record<string, unknown>, seq: number): string {
  return typeof inputs.name === "string" ? inputs.name : `${name}-${seq.toString(16).padStart(7, "0")}`;
}

export function createMocks(
  record: (r: {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    id?: string;
    state: Record<string, unknown>;
    custom: boolean;
  }) => void,
  world: OfflineWorld = {},
): pulumi.runtime.Mocks {
  let seq = 0;
  return {
    newResource(args) {
      const custom = args.custom !== false;
      const named = NAMED_ARNS[args.type];
      const id = !custom ? undefined : named ? namedId(args.name, args.inputs, ++seq) : mockId(args.type, ++seq);
      const kind = AWS_IDS[args.type]?.arnKind;
      const extra: Record<string, unknown> = {};
      if (custom && kind) extra.arn = `arn:aws:ec2:${REGION}:${ACCOUNT}:${kind}/${id}`;
      if (custom && named && id !== undefined) Object.assign(extra, { arn: named(id), name: id });
      // A group created without inline blocks reads back empty ones, as the provider does.
      if (args.type === AWS_TYPES.securityGroup) Object.assign(extra, { egress: [], ingress: [] });
      if (args.type === AWS_TYPES.networkInsightsAnalysis) Object.assign(extra, world.analysisResult?.(args.name) ?? {});
      const state = { ...extra, ...args.inputs };
      record({ type: args.type, name: args.name, inputs: args.inputs, id, state, custom });
      return { id, state };
    },
    call(args) {
      const answer = DATA_SOURCES[args.token]?.(args.inputs, world);
      if (answer !== undefined) return answer;
      const err = new Error(`Mock not implemented: ${args.token}`);
      // The SDK rethrows a failed invoke with the RPC error's `details` only.
      Object.assign(err, { details: err.message });
      throw err;
    },
  };
}

const RULES_TOKEN = "aws:vpc/getSecurityGroupRules:getSecurityGroupRules";
const RULE_TOKEN = "aws:vpc/getSecurityGroupRule:getSecurityGroupRule";

/** The data sources answered offline, by invoke token, as DescribeSecurityGroupRules would. */
const DATA_SOURCES: Readonly<Record<string, (inputs: Record<string, unknown>, world: OfflineWorld) => Record<string, unknown>>> = {
  [RULES_TOKEN]: (inputs, world) => {
    const filters = (inputs.filters ?? []) as { name: string; values: string[] }[];
    const groups = filters.find((f) => f.name === "group-id")?.values;
    const ids = (world.securityGroupRules ?? [])
      .filter((r) => groups === undefined || groups.includes(r.securityGroupId))
      .map((r) => r.securityGroupRuleId);
    return { id: ACCOUNT, ids, region: REGION, filters };
  },
  [RULE_TOKEN]: (inputs, world) => {
    const rule = (world.securityGroupRules ?? []).find((r) => r.securityGroupRuleId === inputs.securityGroupRuleId);
    if (rule === undefined) {
      const err = new Error(`no matching security group rule found: ${String(inputs.securityGroupRuleId)}`);
      throw Object.assign(err, { details: err.message });
    }
    // The provider reads unset fields back as empty strings.
    return {
      cidrIpv4: "",
      cidrIpv6: "",
      description: "",
      prefixListId: "",
      referencedSecurityGroupId: "",
      tags: {},
      ...rule,
      id: rule.securityGroupRuleId,
      arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group-rule/${rule.securityGroupRuleId}`,
      region: REGION,
    };
  },
};

/**
 * An Output's value, or its error. The SDK keeps the rejecting promise
 * behind Output's internal `promise()`; `apply` alone would never settle on an error.
 */
function settle<T>(o: pulumi.Output<T>): Promise<T> {
  // An Output holds its knownness and secrecy as promises of their own, which reject with its value.
  const parts = o as unknown as { promise(): Promise<T>; isKnown: Promise<boolean>; isSecret?: Promise<boolean> };
  parts.isKnown.catch(() => undefined);
  parts.isSecret?.catch(() => undefined);
  return parts.promise();
}

/** The fields of a RegisterResourceRequest the tests read (see proto/resource_pb). */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
  getDeletebeforereplace(): boolean;
  getReplaceonchangesList(): string[];
  getAliasesList(): { getUrn(): string; getSpec(): { getName(): string } | undefined }[];
  getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
}

/** Records the options of every registration the mock monitor receives. */
function recordOptions(monitor: unknown, into: Map<string, CapturedOptions>): void {
  if (!(monitor instanceof MockMonitor)) return;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: RegisterRequest, callback: (err: unknown, res: unknown) => void) => {
    into.set(`${req.getType()}::${req.getName()}`, {
      deleteBeforeReplace: req.getDeletebeforereplace(),
      aliases: req.getAliasesList().map((a) => a.getUrn() || a.getSpec()?.getName() || ""),
      replaceOnChanges: req.getReplaceonchangesList(),
      dependencies: req.getDependenciesList(),
      ...(req.getReplacementTrigger() ? { replacementTrigger: req.getReplacementTrigger()?.toJavaScript() } : {}),
    });
    return register(req, callback);
  };
}

/**
 * Declares the stack from `config` (fully qualified keys, JSON text for
 * structured values, as Pulumi passes them) and waits for every resource.
 * Config problems throw InputError before anything is registered.
 */
export async function runUnderMocks(
  config: Readonly<Record<string, string>>,
  stack = "offline",
  world: OfflineWorld = {},
): Promise<MockRun> {
  return runProgramUnderMocks(() => ({ ...defineStack(config) }), { config, stack, world });
}

/**
 * Runs any program (a function that declares resources and returns its
 * outputs) under the mocks and waits for every resource: how tests declare
 * the component under other names, options or parents.
 */
export async function runProgramUnderMocks(
  program: () => Record<string, unknown>,
  { config = {}, stack = "offline", world = {} }: { config?: Readonly<Record<string, string>>; stack?: string; world?: OfflineWorld } = {},
): Promise<MockRun> {
  const recorded: { type: string; name: string; inputs: Record<string, unknown>; id?: string; custom: boolean }[] = [];
  const states = new Map<string, Record<string, unknown>>();
  const mocks = createMocks((r) => {
    recorded.push({ type: r.type, name: r.name, inputs: r.inputs, id: r.id, custom: r.custom });
    states.set(`${r.type}::${r.name}`, r.state);
  }, world);
  await pulumi.runtime.setMocks(mocks, PROJECT, stack, false);
  const options = new Map<string, CapturedOptions>();
  recordOptions(pulumi.runtime.getMonitor(), options);
  pulumi.runtime.setAllConfig({ ...config });

  const outputs = program();
  const settled: Record<string, unknown> = {};
  try {
    for (const [k, v] of Object.entries(outputs)) settled[k] = await settle(v as pulumi.Output<unknown>);
  } catch (err) {
    // The registrations that waited on the failed value fail with it; the first error is the one to report.
    await pulumi.runtime.disconnect().catch(() => undefined);
    throw err;
  }

  const monitor = pulumi.runtime.getMonitor() as unknown;
  // The component's registerOutputs is still in flight; a later run's setMocks
  // would swap the monitor under it.
  await pulumi.runtime.disconnect();
  const urns = monitor instanceof MockMonitor ? [...monitor.getRegisteredResources().keys()] : [];
  const resources: CapturedResource[] = recorded.map((r) => {
    const suffix = `${r.type}::${r.name}`;
    const urn = urns.find((u) => u.endsWith(`::${suffix}`) || u.endsWith(`$${suffix}`)) ?? `urn:pulumi:${stack}::${PROJECT}::${suffix}`;
    // The URN's qualified type is the parent's qualified type, "$", then its own.
    const parentChain = qualifiedTypeOf(urn).split("$").slice(0, -1).join("$");
    const parent = parentChain ? urns.find((u) => qualifiedTypeOf(u) === parentChain) : undefined;
    const opts = options.get(suffix);
    return {
      ...r,
      urn,
      outputs: states.get(suffix) ?? {},
      parent,
      ...(opts ? { options: opts, dependencies: opts.dependencies } : {}),
    };
  });
  return { resources, outputs: settled };
}

/** The qualified type of `urn:pulumi:<stack>::<project>::<qualified type>::<name>`; "" when the URN has none. */
function qualifiedTypeOf(urn: string): string {
  return urn.split("::")[2] ?? "";
}
