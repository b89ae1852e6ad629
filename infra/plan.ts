/**
 * The planned network, one row per AWS resource the program declares, as
 * `hkex-ready plan` prints it: what kind of rule, for which site, to which
 * destination and port, through what. Each resource type the program creates
 * has one entry in PLAN_ROWS; other types are not listed. planStack runs the
 * program under the mock runtime and returns the rows with the resources.
 */
import { AWS_TYPES } from "./awsTypes";
import { cidrContains } from "./cidr";
import type { SftpAccessArgs } from "./config";
import type { CapturedResource, MockRun } from "./mockRuntime";
import { routeTargetOf } from "./routeTarget";

export interface PlanRow {
  readonly kind: string;
  readonly site: string;
  readonly destination: string;
  readonly port: string;
  readonly target: string;
  readonly resource: string;
}

/** A row and where it goes: group, egress rules, NACL egress, NACL ingress, routes, paths, analyses, the probe. */
interface OrderedRow extends Omit<PlanRow, "resource"> {
  readonly order: number;
}

/** What a row needs besides the resource's own inputs. */
interface PlanView {
  /** The site whose range holds the destination (a CIDR or an address), or "-". */
  siteOf(destination: string): string;
  /** The resource of this plan with that AWS id. */
  byId(id: unknown): CapturedResource | undefined;
}

const text = (v: unknown): string => (v === undefined || v === null ? "-" : String(v));

/** "tcp/18801", or "tcp/1024-65535" for a range. */
function portsOf(protocol: unknown, from: unknown, to: unknown): string {
  return `${text(protocol)}/${text(from)}${from === to ? "" : `-${text(to)}`}`;
}

const PLAN_ROWS: Readonly<Record<string, (i: Record<string, unknown>, view: PlanView) => OrderedRow>> = {
  [AWS_TYPES.securityGroup]: (i) => ({
    order: 0,
    kind: "security group",
    site: "-",
    destination: "-",
    port: "-",
    target: `in ${text(i.vpcId)}`,
  }),
  [AWS_TYPES.securityGroupEgressRule]: (i, view) => {
    const group = view.byId(i.securityGroupId);
    return {
      order: 1,
      kind: "sg egress",
      site: view.siteOf(text(i.cidrIpv4)),
      destination: text(i.cidrIpv4),
      port: portsOf(i.ipProtocol, i.fromPort, i.toPort),
      target: group ? `${group.name} (new)` : text(i.securityGroupId),
    };
  },
  [AWS_TYPES.networkAclRule]: (i, view) => ({
    order: i.egress ? 2 : 3,
    kind: `nacl ${i.egress ? "egress" : "ingress"} #${text(i.ruleNumber)}`,
    site: view.siteOf(text(i.cidrBlock)),
    destination: text(i.cidrBlock),
    port: portsOf(i.protocol, i.fromPort, i.toPort),
    target: text(i.networkAclId),
  }),
  [AWS_TYPES.route]: (i, view) => ({
    order: 4,
    kind: "route",
    site: view.siteOf(text(i.destinationCidrBlock)),
    destination: text(i.destinationCidrBlock),
    port: "-",
    target: `${text(i.routeTableId)} via ${text(routeTargetOf(i))}`,
  }),
  [AWS_TYPES.networkInsightsPath]: (i, view) => ({
    order: 5,
    kind: "reachability path",
    site: view.siteOf(text(i.destinationIp)),
    destination: text(i.destinationIp),
    port: `${text(i.protocol)}/${text(i.destinationPort)}`,
    target: `from ${text(i.source)}`,
  }),
  [AWS_TYPES.networkInsightsAnalysis]: (i, view) => {
    const path = view.byId(i.networkInsightsPathId);
    const destination = text(path?.inputs.destinationIp);
    return {
      order: 6,
      kind: "reachability analysis",
      site: view.siteOf(destination),
      destination,
      port: path ? `${text(path.inputs.protocol)}/${text(path.inputs.destinationPort)}` : "-",
      target: `path ${path?.name ?? text(i.networkInsightsPathId)}`,
    };
  },
  // The VPC probe (infra/probe/): where it runs, when, and what each alarm watches.
  [AWS_TYPES.lambdaFunction]: (i, view) => {
    const vpc = (i.vpcConfig ?? {}) as { subnetIds?: unknown[]; securityGroupIds?: unknown[] };
    const groups = (vpc.securityGroupIds ?? []).map((g) => {
      const group = view.byId(g);
      return group ? `${group.name} (new)` : text(g);
    });
    return {
      order: 7,
      kind: "vpc probe",
      site: "-",
      destination: "-",
      port: "-",
      target: `in ${(vpc.subnetIds ?? []).map(text).join(", ") || "no subnet"} with ${groups.join(", ") || "no group"}`,
    };
  },
  [AWS_TYPES.schedule]: (i) => ({
    order: 8,
    kind: "vpc probe schedule",
    site: "-",
    destination: "-",
    port: "-",
    target: text(i.scheduleExpression),
  }),
  [AWS_TYPES.metricAlarm]: (i) => {
    const metrics = ((i.metricQueries ?? []) as { metric?: { metricName?: string; dimensions?: Record<string, string> } }[]).flatMap((q) =>
      q.metric ? [q.metric] : [],
    );
    const dims = metrics.map((m) => m.dimensions ?? {});
    return {
      order: 9,
      kind: "vpc probe alarm",
      site: text(dims[0]?.site),
      destination: dims.map((d) => text(d.host)).join(", "),
      port: `tcp/${text(dims[0]?.port)}`,
      target: `${text(metrics[0]?.metricName)} < ${text(i.threshold)}`,
    };
  },
};

/** One row per planned AWS resource, in the order a reader checks them: group, rules, NACLs, routes, paths. */
export function planRows(resources: readonly CapturedResource[], args: Pick<SftpAccessArgs, "sites">): PlanRow[] {
  const ids = new Map(resources.flatMap((r) => (r.id === undefined ? [] : [[r.id, r] as const])));
  const view: PlanView = {
    siteOf: (dest) => args.sites.find((s) => cidrContains(s.range, dest.includes("/") ? dest : `${dest}/32`))?.name ?? "-",
    byId: (id) => (typeof id === "string" ? ids.get(id) : undefined),
  };
  const rows = resources.flatMap((r) => {
    const rowOf = PLAN_ROWS[r.type];
    return rowOf === undefined ? [] : [{ ...rowOf(r.inputs, view), resource: r.name }];
  });
  return rows
    .sort((a, b) => a.order - b.order || a.kind.localeCompare(b.kind) || a.resource.localeCompare(b.resource))
    .map(({ order: _order, ...row }) => row);
}

export interface StackPlan {
  /** Every resource the program registered, as the mock runtime recorded it. */
  readonly resources: CapturedResource[];
  readonly rows: PlanRow[];
  readonly outputs: MockRun["outputs"];
}

/**
 * Runs the program under the mock runtime with `config`, already validated
 * into `args`, and lays out its rows. The Pulumi SDK takes seconds to load,
 * so it is loaded here, once the config has passed, and a bad config is
 * reported without waiting for it.
 */
export async function planStack(
  config: Readonly<Record<string, string>>,
  args: Pick<SftpAccessArgs, "sites">,
  stack: string,
): Promise<StackPlan> {
  const { runUnderMocks } = await import("./mockRuntime.js");
  const run = await runUnderMocks(config, stack);
  return { resources: run.resources, rows: planRows(run.resources, args), outputs: run.outputs };
}
