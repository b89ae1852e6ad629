/**
 * Runs the program in-process under Pulumi's mock runtime: no CLI, no
 * engine, no cloud. Every resource registration is recorded with plausible
 * AWS ids; any provider function call fails loudly, so a new API call in the
 * program cannot slip through a plan unnoticed.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { AWS_TYPES } from "./awsTypes";
import { PROJECT } from "./config";
import { defineStack, type StackOutputs } from "./stack";
import type { StackResource } from "./stackResource";

export interface CapturedResource extends StackResource {
  readonly id?: string;
  readonly custom: boolean;
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

export function mockId(type: string, seq: number): string {
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
      const state = { ...extra, ...args.inputs };
      record({ type: args.type, name: args.name, inputs: args.inputs, id, state, custom });
      return { id, state };
    },
    call(args) {
      const err = new Error(`Mock not implemented: ${args.token}`);
      // The SDK rethrows a failed invoke with the RPC error's `details` only.
      Object.assign(err, { details: err.message });
      throw err;
    },
  };
}

function settle<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}

/**
 * Declares the stack from `config` (fully qualified keys, JSON text for
 * structured values, as Pulumi passes them) and waits for every resource.
 * Config problems throw InputError before anything is registered.
 */
export async function runUnderMocks(config: Readonly<Record<string, string>>, stack = "offline"): Promise<MockRun> {
  const recorded: { type: string; name: string; inputs: Record<string, unknown>; id?: string; custom: boolean }[] = [];
  const states = new Map<string, Record<string, unknown>>();
  const mocks = createMocks((r) => {
    recorded.push({ type: r.type, name: r.name, inputs: r.inputs, id: r.id, custom: r.custom });
    states.set(`${r.type}::${r.name}`, r.state);
  });
  await pulumi.runtime.setMocks(mocks, PROJECT, stack, false);
  pulumi.runtime.setAllConfig({ ...config });

  const outputs: StackOutputs = defineStack(config);
  const settled: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputs)) settled[k] = await settle(v as pulumi.Output<unknown>);

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
    return { ...r, urn, outputs: states.get(suffix) ?? {}, parent };
  });
  return { resources, outputs: settled };
}

/** The qualified type of `urn:pulumi:<stack>::<project>::<qualified type>::<name>`; "" when the URN has none. */
function qualifiedTypeOf(urn: string): string {
  return urn.split("::")[2] ?? "";
}
