/**
 * The planned network as `hkex-ready plan` prints it: one row per AWS
 * resource the program declares (what kind of rule, for which site, to which
 * destination and port, through what), then, per endpoint, everything on its
 * path (the group's attachment, the egress rule, both NACL rules with their
 * numbers, the route with its target kind, the Reachability Analyzer path
 * with its destination filter), and the warnings the config deserves. Each
 * resource type the program creates has one entry in PLAN_ROWS; other types
 * are not listed. planStack runs the program under the mock runtime.
 *
 * No @pulumi imports: the plan is laid out from what the mock runtime recorded.
 */
import { AWS_TYPES } from "./awsTypes";
import { cidrContains, hostCidr } from "./cidr";
import { configPath, type SftpAccessArgs } from "./config";
import type { CapturedResource, MockRun } from "./mockRuntime";
import { ROUTE_TARGETS, readRouteTarget, routeTargetOf } from "./routeTarget";

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

/** A NetworkInsightsPath's filterAtSource, as the program declares it. */
interface SourceFilter {
  destinationAddress?: string;
  destinationPortRange?: { fromPort?: number; toPort?: number };
}

function filterOf(inputs: Record<string, unknown>): SourceFilter {
  const f = inputs.filterAtSource;
  return f !== null && typeof f === "object" ? (f as SourceFilter) : {};
}

/** "tcp/18801" for the path's protocol and destination port range. */
function pathPortsOf(inputs: Record<string, unknown>): string {
  const range = filterOf(inputs).destinationPortRange;
  return range ? portsOf(inputs.protocol, range.fromPort, range.toPort) : `${text(inputs.protocol)}/${text(inputs.destinationPort)}`;
}

function pathDestinationOf(inputs: Record<string, unknown>): string {
  return text(filterOf(inputs).destinationAddress ?? inputs.destinationIp);
}

/** "transit gateway tgw-…" */
function routeTargetText(inputs: Record<string, unknown>): string {
  const target = readRouteTarget(inputs);
  return target ? `${target.label} ${target.id}` : "-";
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
  [AWS_TYPES.networkInterfaceSecurityGroupAttachment]: (i, view) => {
    const group = view.byId(i.securityGroupId);
    return {
      order: 1.5,
      kind: "sg attachment",
      site: "-",
      destination: "-",
      port: "-",
      target: `${group ? `${group.name} (new)` : text(i.securityGroupId)} on ${text(i.networkInterfaceId)}`,
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
    site: view.siteOf(pathDestinationOf(i)),
    destination: pathDestinationOf(i),
    port: pathPortsOf(i),
    target: `from ${text(i.source)}`,
  }),
  [AWS_TYPES.networkInsightsAnalysis]: (i, view) => {
    const path = view.byId(i.networkInsightsPathId);
    const destination = path ? pathDestinationOf(path.inputs) : "-";
    return {
      order: 6,
      kind: "reachability analysis",
      site: view.siteOf(destination),
      destination,
      port: path ? pathPortsOf(path.inputs) : "-",
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

/** One piece of an endpoint's path: what it is and the resource that declares it. */
export interface PathStep {
  readonly step: "attachment" | "sg egress" | "nacl egress" | "nacl ingress" | "route" | "reachability path" | "reachability analysis";
  /** One line a network engineer reads: numbers, ports, addresses, target kind. */
  readonly detail: string;
  readonly resource: string;
}

/** Everything the program declares on the path to one endpoint, in the order traffic meets it. */
export interface EndpointPlan {
  readonly site: string;
  readonly host: string;
  readonly port: number;
  readonly steps: PathStep[];
  /** Steps the endpoint has none of, e.g. "attachment" for an unattached group. */
  readonly missing: PathStep["step"][];
}

const STEP_ORDER: readonly PathStep["step"][] = [
  "attachment",
  "sg egress",
  "nacl egress",
  "nacl ingress",
  "route",
  "reachability path",
  "reachability analysis",
];

/**
 * Per endpoint of the config's sites, the declared resources that carry its
 * traffic: the group's attachments, the /32 egress rule, the NACL rules
 * whose range holds the host, the routes whose destination holds it, and the
 * paths whose destination filter is the host.
 */
export function endpointPlans(resources: readonly CapturedResource[], args: Pick<SftpAccessArgs, "sites">): EndpointPlan[] {
  const ids = new Map(resources.flatMap((r) => (r.id === undefined ? [] : [[r.id, r] as const])));
  const groupText = (id: unknown) => {
    const created = typeof id === "string" ? ids.get(id) : undefined;
    return created ? `${created.name} (new)` : text(id);
  };
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  return args.sites.flatMap((site) =>
    site.hosts.map((host): EndpointPlan => {
      const holds = (cidr: unknown) => typeof cidr === "string" && cidrContains(cidr, hostCidr(host));
      const steps: PathStep[] = [
        ...ofType(AWS_TYPES.networkInterfaceSecurityGroupAttachment).map((r) => ({
          step: "attachment" as const,
          detail: `${groupText(r.inputs.securityGroupId)} on ${text(r.inputs.networkInterfaceId)}`,
          resource: r.name,
        })),
        ...ofType(AWS_TYPES.securityGroupEgressRule)
          .filter((r) => holds(r.inputs.cidrIpv4))
          .map((r) => ({
            step: "sg egress" as const,
            detail: `${portsOf(r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort)} to ${text(r.inputs.cidrIpv4)} on ${groupText(r.inputs.securityGroupId)}`,
            resource: r.name,
          })),
        ...ofType(AWS_TYPES.networkAclRule)
          .filter((r) => holds(r.inputs.cidrBlock))
          .map((r) => ({
            step: r.inputs.egress ? ("nacl egress" as const) : ("nacl ingress" as const),
            detail: `${text(r.inputs.networkAclId)} #${text(r.inputs.ruleNumber)} ${text(r.inputs.ruleAction)} ${portsOf(
              r.inputs.protocol,
              r.inputs.fromPort,
              r.inputs.toPort,
            )} ${r.inputs.egress ? "to" : "from"} ${text(r.inputs.cidrBlock)}`,
            resource: r.name,
          })),
        ...ofType(AWS_TYPES.route)
          .filter((r) => holds(r.inputs.destinationCidrBlock))
          .map((r) => ({
            step: "route" as const,
            detail: `${text(r.inputs.routeTableId)} ${text(r.inputs.destinationCidrBlock)} via ${routeTargetText(r.inputs)}`,
            resource: r.name,
          })),
        ...ofType(AWS_TYPES.networkInsightsPath)
          .filter((r) => pathDestinationOf(r.inputs) === host)
          .flatMap((r) => {
            const range = filterOf(r.inputs).destinationPortRange;
            const analysis = ofType(AWS_TYPES.networkInsightsAnalysis).find((a) => a.inputs.networkInsightsPathId === r.id);
            const path = {
              step: "reachability path" as const,
              detail:
                `from ${text(r.inputs.source)} ${text(r.inputs.protocol)}, filterAtSource destinationAddress ${host} ` +
                `destinationPortRange ${text(range?.fromPort)}-${text(range?.toPort)}`,
              resource: r.name,
            };
            if (analysis === undefined) return [path];
            return [
              path,
              {
                step: "reachability analysis" as const,
                detail: `of that path, on pulumi up after every rule, route and attachment; pathFound in stack output reachability`,
                resource: analysis.name,
              },
            ];
          }),
      ].sort((a, b) => STEP_ORDER.indexOf(a.step) - STEP_ORDER.indexOf(b.step));
      return { site: site.name, host, port: site.port, steps, missing: STEP_ORDER.filter((s) => !steps.some((p) => p.step === s)) };
    }),
  );
}

/** A new group attached to nothing: its rules reach no SFTP client. */
function unattachedGroupWarning(): string {
  return (
    `${configPath("attach")}: the new security group is attached to no network interface, so its egress rules reach no SFTP client; ` +
    `list the client ENIs in ${configPath("attach")}.networkInterfaceIds, or attach the exported securityGroupId yourself`
  );
}

/** What the config leaves unproven or accepts with a reason, each naming the key that changes it. */
export function planWarnings(
  args: Pick<SftpAccessArgs, "vpcId" | "securityGroupId" | "attach" | "vpcCidrBlocks" | "reachability" | "routeTarget">,
): string[] {
  const warnings: string[] = [];
  if (args.vpcId !== undefined && args.attach.networkInterfaceIds.length === 0) warnings.push(unattachedGroupWarning());
  if (args.securityGroupId !== undefined) {
    warnings.push(
      `${configPath("securityGroupId")}: the live egress rules of ${args.securityGroupId} are read and checked during pulumi preview; ` +
        "this offline plan cannot read them",
    );
  }
  if (args.vpcCidrBlocks.length === 0) {
    warnings.push(`${configPath("vpcCidrBlocks")}: not given, so the VPC's CIDR was not checked against the HKEX ranges`);
  }
  if (args.reachability === undefined) {
    warnings.push(`${configPath("reachability")}: not set, so no Reachability Analyzer path proves the path before the session`);
  } else if (!args.reachability.analyze) {
    warnings.push(`${configPath("reachability")}.analyze: false, so the paths are declared but never analysed`);
  }
  const target = args.routeTarget;
  if (target?.allowIndirectTarget !== undefined) {
    warnings.push(
      `${configPath("routeTarget")}: routes go through a ${ROUTE_TARGETS[target.kind].label} (${target.id}); HKEX sees that device's address. ` +
        `Accepted because: ${target.allowIndirectTarget.reason}`,
    );
  }
  return warnings;
}

export interface StackPlan {
  /** Every resource the program registered, as the mock runtime recorded it. */
  readonly resources: CapturedResource[];
  readonly rows: PlanRow[];
  readonly endpoints: EndpointPlan[];
  readonly warnings: string[];
  readonly outputs: MockRun["outputs"];
}

/**
 * Runs the program under the mock runtime with `config`, already validated
 * into `args`, and lays out its rows. The Pulumi SDK takes seconds to load,
 * so it is loaded here, once the config has passed, and a bad config is
 * reported without waiting for it.
 */
export async function planStack(config: Readonly<Record<string, string>>, args: SftpAccessArgs, stack: string): Promise<StackPlan> {
  const { runUnderMocks } = await import("./mockRuntime.js");
  const run = await runUnderMocks(config, stack);
  return {
    resources: run.resources,
    rows: planRows(run.resources, args),
    endpoints: endpointPlans(run.resources, args),
    warnings: planWarnings(args),
    outputs: run.outputs,
  };
}
