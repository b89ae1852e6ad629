/**
 * Evaluates the flows from each client placement to each HKEX endpoint the
 * way AWS would forward a packet, hop by hop, and explains the result:
 *
 *   source → security groups (egress) → network ACL (egress) → route table
 *          → network ACL (ingress, the reply)
 *
 * - Security groups: the rules of every group on the interface are
 *   aggregated; one rule that allows the traffic is enough, and groups are
 *   stateful, so the reply needs no rule of its own
 *   (https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html).
 * - Network ACLs: "Rules are evaluated starting with the lowest numbered
 *   rule. As soon as a rule matches traffic, it's applied regardless of any
 *   higher-numbered rule that might contradict it"; a packet no numbered rule
 *   matches is denied by the final * rule. ACLs are stateless: the reply from
 *   the endpoint to the client's ephemeral port (1024-65535 covers every
 *   client OS) must pass the subnet ACL's inbound rules
 *   (https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html,
 *   .../nacl-ephemeral-ports.html).
 * - Routes: longest prefix match; for the same prefix a static route wins
 *   over a prefix-list route, which wins over a propagated route, and a
 *   propagated route never beats the local route
 *   (https://docs.aws.amazon.com/vpc/latest/userguide/route-tables-priority.html,
 *   https://docs.aws.amazon.com/vpn/latest/s2svpn/vpn-route-priority.html).
 *   A prefix-list route counts only where the list is in the stack.
 *   Accepted targets toward HKEX: transit gateway, virtual private gateway,
 *   Cloud WAN core network. An internet gateway cannot reach HKEX's private
 *   addresses; a VPC peering connection is not transitive, so the peer's own
 *   circuit to HKEX cannot be used ("edge to edge routing",
 *   https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-basics.html).
 *   NAT gateways, interfaces, instances and endpoints forward onwards by
 *   their own configuration, which this check does not follow: advisory.
 *
 * What the stack does not hold (a group, ACL or route table created
 * elsewhere, a subnet whose associations are elsewhere) is never passed
 * silently: a hop decided by the visible part only is "assumed" and the
 * outside resource gets an advisory finding; a hop nothing visible decides
 * is "unverified", with an advisory that says what could not be checked.
 */
import { SFTP_PORT, endpointLabel, endpointsOf, type Endpoint } from "../../catalogue";
import { AWS_ROUTE_TARGETS, type RouteTargetVerdict } from "../../infra/routeTarget";
import {
  PORTS_ALL,
  type Interval,
  type Ipv4Cidr,
  addressOf,
  containsPoint,
  formatAddresses,
  formatPorts,
  intersect,
  longestPrefixMatches,
  merge,
  overlaps,
  pieces,
  subtract,
} from "./ip";
import {
  type AclEntity,
  type GroupEntity,
  type Link,
  type NaclRule,
  type NetworkModel,
  type RouteEntry,
  type SgRule,
  type TableEntity,
  type TargetKind,
  buildNetworkModel,
  destText,
  entityLabel,
  isResolved,
} from "./network";
import { FLOW_TYPES, type FlowResource, dependencyUrns } from "./resources";
import {
  type Choice,
  type DeclaredScope,
  type Placement,
  isHkexRule,
  placements as placeClients,
  routeBlocks,
  ruleBlocks,
  siteRanges,
} from "./scope";
import { ALL, ICMP, TCP, UDP, UNKNOWN, hasPorts, protocolLabel, str } from "./values";

export interface FlowOptions {
  /** The endpoints to reach; the catalogue's four by default. */
  readonly endpoints?: readonly Endpoint[];
  /** Where the client sits, when the stack does not attach its group to anything (pack config). */
  readonly scope?: DeclaredScope;
  /** Rule numbers already taken per network ACL id, both directions. */
  readonly naclRuleNumbersInUse?: Readonly<Record<string, readonly number[]>>;
  /** The client's ephemeral ports the replies come back to; 1024-65535 by default. */
  readonly ephemeralPorts?: { readonly from: number; readonly to: number };
  /** A stack with no client at all fails (the default), or only notes it. */
  readonly requireClient?: boolean;
}

export type HopStep = "source" | "security-group" | "nacl-egress" | "route" | "nacl-return";
/** allow: decided by what the stack shows; assumed: allowed by the visible part of a resource outside the stack; advisory: allowed toward a target this check cannot follow; unverified: nothing visible decides; deny: the packet stops here. */
export type HopStatus = "allow" | "assumed" | "advisory" | "unverified" | "deny";

export interface Hop {
  readonly step: HopStep;
  readonly status: HopStatus;
  readonly text: string;
  /** The resource that decided the hop, when it is one of the stack. */
  readonly urn?: string;
  /** Names and ids the hop names, for exceptions and search. */
  readonly subjects: readonly string[];
}

export type PathStatus = "reachable" | "assumed" | "unverified" | "broken";

export interface PathTrace {
  readonly endpoint: Endpoint;
  readonly status: PathStatus;
  readonly hops: readonly Hop[];
  /** Index in `hops` of the first hop that denies. */
  readonly brokenAt?: number;
  /** One line: the hops joined by " → ", up to the one that breaks. */
  readonly trace: string;
}

export interface BroaderFlow {
  readonly range: string;
  /** e.g. "tcp/0-18800, tcp/18802-65535, udp/all ports, icmp, other protocols" */
  readonly flows: string;
  readonly addresses: string;
  readonly rule: string;
  /** The rule's resource name (or inline label), for exceptions. */
  readonly ruleName: string;
  readonly through: readonly string[];
  readonly urn?: string;
}

export interface ScopeResult {
  readonly label: string;
  readonly basis: Placement["basis"];
  readonly attachments: readonly string[];
  readonly groups: readonly string[];
  readonly subnet?: string;
  readonly networkAcl?: string;
  readonly routeTable?: string;
  readonly notes: readonly string[];
  readonly paths: readonly PathTrace[];
  readonly broader: readonly BroaderFlow[];
}

export type FindingCode =
  | "flow-no-client"
  | "flow-path-broken"
  | "flow-path-unverified"
  | "flow-broader"
  | "flow-route-target"
  | "flow-outside-stack"
  | "flow-unresolved"
  | "flow-conflict"
  | "flow-unattached-group"
  | "nacl-rule-number-clash";

export interface FlowFinding {
  readonly code: FindingCode;
  readonly level: "mandatory" | "advisory";
  readonly message: string;
  readonly urn?: string;
  readonly subjects: readonly string[];
  readonly scope?: string;
  readonly endpoint?: Endpoint;
}

export interface FlowEvaluation {
  /** "fail" when any finding is mandatory. */
  readonly verdict: "pass" | "fail";
  readonly endpoints: readonly Endpoint[];
  readonly scopes: readonly ScopeResult[];
  readonly findings: readonly FlowFinding[];
}

const DEFAULT_EPHEMERAL = Object.freeze({ from: 1024, to: 65535 });

// ---------------------------------------------------------------------------

class Findings {
  readonly list: FlowFinding[] = [];
  add(f: FlowFinding): void {
    if (!this.list.some((x) => x.code === f.code && x.message === f.message)) this.list.push({ ...f, subjects: [...new Set(f.subjects)] });
  }
}

/**
 * Evaluates every flow from every client placement of the stack to every
 * HKEX endpoint. Pure: the same resources give the same, JSON-serialisable
 * result.
 */
export function evaluateHkexFlows(resources: readonly FlowResource[], options: FlowOptions = {}): FlowEvaluation {
  const endpoints = options.endpoints ?? endpointsOf();
  const ports = new Set(endpoints.map((e) => e.port));
  const port = endpoints[0]?.port ?? SFTP_PORT;
  const ranges = siteRanges(endpoints);
  const ephemeral = options.ephemeralPorts ?? DEFAULT_EPHEMERAL;
  const model = buildNetworkModel(resources, { naclRuleNumbersInUse: options.naclRuleNumbersInUse });
  const { placements } = placeClients(model, ranges, port, options.scope);
  const findings = new Findings();

  if (placements.length === 0) {
    findings.add({
      code: "flow-no-client",
      level: options.requireClient === false ? "advisory" : "mandatory",
      message: `No client in the stack reaches HKEX: no security group has an egress rule to ${ranges.map((r) => r.cidr).join(" or ")}, and no client scope is declared; add the TCP ${port} egress rules (and attach the group to the client).`,
      subjects: [],
    });
  }

  const scopes = placements.map((p) =>
    evaluatePlacement(model, p, endpoints, ranges, ports, { lo: ephemeral.from, hi: ephemeral.to }, findings),
  );
  unattachedAdvisories(model, placements, findings);
  outsideAdvisories(model, placements, findings);
  issueFindings(model, placements, findings);

  const ordered = [...findings.list].sort((a, b) => (a.level === b.level ? 0 : a.level === "mandatory" ? -1 : 1));
  return {
    verdict: ordered.some((f) => f.level === "mandatory") ? "fail" : "pass",
    endpoints: [...endpoints],
    scopes,
    findings: ordered,
  };
}

// ---------------------------------------------------------------------------
// One placement

function evaluatePlacement(
  model: NetworkModel,
  p: Placement,
  endpoints: readonly Endpoint[],
  ranges: readonly Ipv4Cidr[],
  allowedPorts: ReadonlySet<number>,
  ephemeral: Interval,
  findings: Findings,
): ScopeResult {
  const acl = chosen(model.acls, p.acl);
  const table = chosen(model.tables, p.table);
  const paths = endpoints.map((e) => tracePath(model, p, e, acl, table, ephemeral));
  const unverified = new Map<string, { hop: Hop; endpoints: Endpoint[] }>();
  paths.forEach((path) => {
    const hop = path.brokenAt === undefined ? undefined : path.hops[path.brokenAt];
    if (hop) {
      findings.add({
        code: "flow-path-broken",
        level: "mandatory",
        message: `From ${p.label}, ${endpointLabel(path.endpoint)} is not reachable: ${hop.text}. Path: ${path.trace}`,
        urn: hop.urn,
        subjects: [path.endpoint.host, `${path.endpoint.host}:${path.endpoint.port}`, ...hop.subjects],
        scope: p.label,
        endpoint: path.endpoint,
      });
    }
    for (const hop of path.hops) {
      if (hop.status === "unverified") {
        const key = `${hop.step}|${hop.text}`;
        const entry = unverified.get(key) ?? { hop, endpoints: [] };
        entry.endpoints.push(path.endpoint);
        unverified.set(key, entry);
      }
      if (hop.status === "advisory") {
        findings.add({
          code: "flow-route-target",
          level: "advisory",
          message: `From ${p.label}: ${hop.text}.`,
          urn: hop.urn,
          subjects: hop.subjects,
          scope: p.label,
        });
      }
    }
  });
  for (const { hop, endpoints: eps } of unverified.values()) {
    if (paths.some((x) => x.status === "broken" && eps.includes(x.endpoint))) continue;
    findings.add({
      code: "flow-path-unverified",
      level: "advisory",
      message: `From ${p.label}, the ${stepName(hop.step)} toward ${eps.map(endpointLabel).join(", ")} could not be verified: ${hop.text}.`,
      urn: hop.urn,
      subjects: [...eps.map((e) => e.host), ...hop.subjects],
      scope: p.label,
    });
  }

  const broader = broaderFlows(model, p, ranges, allowedPorts, acl, table);
  for (const b of broader) {
    findings.add({
      code: "flow-broader",
      level: "mandatory",
      message: `From ${p.label}, ${b.rule} lets ${b.flows} through to ${b.addresses} (${b.through.join("; ")}); only TCP ${[...allowedPorts].join(", ")} may reach HKEX. Narrow the rule, or deny the rest toward ${b.range} in the network ACL.`,
      urn: b.urn,
      subjects: [b.range, b.ruleName, ...b.through],
      scope: p.label,
    });
  }

  const groupLabels = p.groups.map((g) => (isResolved(g) ? labelOf(model.groups.get(g), g) : "(unresolved group)"));
  return {
    label: p.label,
    basis: p.basis,
    attachments: p.attachments,
    groups: groupLabels,
    subnet: isResolved(p.subnet) ? labelOf(model.subnets.get(p.subnet), p.subnet) : undefined,
    networkAcl: acl ? entityLabel(acl) : undefined,
    routeTable: table ? entityLabel(table) : undefined,
    notes: p.notes,
    paths,
    broader,
  };
}

function stepName(step: HopStep): string {
  return {
    source: "source",
    "security-group": "security-group hop",
    "nacl-egress": "network ACL (outbound) hop",
    route: "route",
    "nacl-return": "network ACL return path",
  }[step];
}

function labelOf(e: { id?: string; name: string } | undefined, key: string): string {
  return e ? entityLabel(e) : key.replace(/^id:/, "");
}

function chosen<E>(map: ReadonlyMap<string, E>, c: Choice): E | undefined {
  return "link" in c && isResolved(c.link) ? map.get(c.link) : undefined;
}

// ---------------------------------------------------------------------------
// A path to one endpoint

function tracePath(
  model: NetworkModel,
  p: Placement,
  e: Endpoint,
  acl: AclEntity | undefined,
  table: TableEntity | undefined,
  ephemeral: Interval,
): PathTrace {
  const address = addressOf(e.host)!;
  const hops: Hop[] = [
    { step: "source", status: "allow", text: p.label, subjects: p.attachments },
    sgHop(model, p.groups, TCP, e.port, address, e.host),
    naclEgressHop(p.acl, acl, e.port, address, e.host),
    routeHop(model, p.table, table, address, e.host),
    naclReturnHop(p.acl, acl, ephemeral, address, e.host),
  ];
  const brokenAt = hops.findIndex((h) => h.status === "deny");
  const status: PathStatus =
    brokenAt >= 0
      ? "broken"
      : hops.some((h) => h.status === "unverified")
        ? "unverified"
        : hops.some((h) => h.status === "assumed")
          ? "assumed"
          : "reachable";
  const shown = brokenAt >= 0 ? hops.slice(0, brokenAt + 1) : hops;
  const mark: Record<HopStatus, string> = {
    allow: "",
    assumed: "[assumed] ",
    advisory: "[advisory] ",
    unverified: "[unverified] ",
    deny: "[broken] ",
  };
  return {
    endpoint: e,
    status,
    hops,
    brokenAt: brokenAt >= 0 ? brokenAt : undefined,
    trace: shown.map((h) => `${mark[h.status]}${h.text}`).join(" → "),
  };
}

// --- security groups

type Tri = true | false | "unknown";

function sgRuleMatches(model: NetworkModel, rule: SgRule, protocol: number, port: number, address: number): Tri {
  if (rule.direction !== "egress") return false;
  const unknowns: string[] = [];
  if (rule.protocol === UNKNOWN) unknowns.push("protocol");
  else if (rule.protocol === undefined || (rule.protocol !== ALL && rule.protocol !== protocol)) return false;
  if (rule.ports === UNKNOWN) unknowns.push("ports");
  else if (hasPorts(protocol) && !containsPoint(rule.ports, port)) return false;
  const d = rule.dest;
  if (d.kind === "ipv6" || d.kind === "group" || d.kind === "invalid") return false;
  if (d.kind === "cidr") {
    if (!containsPoint(d.block, address)) return false;
  } else if (d.kind === "prefix-list" && isResolved(d.list) && model.prefixLists.get(d.list)?.origin === "stack") {
    if (!model.prefixLists.get(d.list)!.entries.some((b) => containsPoint(b, address))) return false;
  } else unknowns.push("destination");
  return unknowns.length > 0 ? "unknown" : true;
}

function flowText(protocol: number, port: number): string {
  return hasPorts(protocol) ? `${protocolLabel(protocol)}/${port}` : protocolLabel(protocol);
}

/** "egress rule X", "inline egress[0]", "egress rule read back from AWS", "default outbound rule". */
function rulePhrase(rule: SgRule): string {
  if (rule.origin === "rule" || rule.origin === "legacy-rule") return `${rule.direction} rule ${rule.label}`;
  if (rule.origin === "read-back") return `${rule.direction} ${rule.label}`;
  return rule.label;
}

function ruleText(model: NetworkModel, rule: SgRule): string {
  const g = isResolved(rule.group) ? labelOf(model.groups.get(rule.group), rule.group) : "an unresolved group";
  const what = rulePhrase(rule);
  const traffic =
    rule.protocol === ALL
      ? "all traffic"
      : rule.protocol === UNKNOWN || rule.protocol === undefined
        ? "traffic"
        : hasPorts(rule.protocol) && typeof rule.ports === "object"
          ? `${protocolLabel(rule.protocol)}/${formatPorts(rule.ports)}`
          : protocolLabel(rule.protocol);
  return `${g} ${what} (${traffic} to ${destText(rule.dest)})`;
}

function sgHop(model: NetworkModel, groups: readonly Link[], protocol: number, port: number, address: number, host: string): Hop {
  const resolved: GroupEntity[] = [];
  const notes: string[] = [];
  for (const g of groups) {
    if (!isResolved(g)) notes.push(g.unresolved);
    else if (model.groups.get(g)) resolved.push(model.groups.get(g)!);
  }
  const names = resolved.map(entityLabel);
  const allowing: SgRule[] = [];
  const maybe: SgRule[] = [];
  for (const g of resolved) {
    for (const r of g.rules) {
      const m = sgRuleMatches(model, r, protocol, port, address);
      if (m === true) allowing.push(r);
      else if (m === "unknown") maybe.push(r);
    }
  }
  const flow = flowText(protocol, port);
  // Name the narrowest rule: the one written for this flow, not a catch-all.
  const [best] = [...allowing].sort((a, b) => specificity(model, b, address) - specificity(model, a, address));
  if (best) {
    const g = isResolved(best.group) ? labelOf(model.groups.get(best.group), best.group) : "a group";
    const what = rulePhrase(best);
    const dest =
      best.dest.kind === "prefix-list"
        ? `${best.dest.text} (${ruleBlocks(model, best).find((b) => containsPoint(b, address))?.cidr})`
        : destText(best.dest);
    return {
      step: "security-group",
      status: "allow",
      text: `${g} ${what} allows ${flow} to ${dest}`,
      urn: best.urn,
      subjects: [g, best.label],
    };
  }
  const outside = resolved.filter((g) => g.origin === "outside");
  if (maybe.length > 0 || notes.length > 0 || outside.length > 0) {
    const why = [
      ...maybe.map((r) => `${ruleText(model, r)} is not known until the update runs`),
      ...notes,
      ...outside.map(
        (g) =>
          `${entityLabel(g)} is not in the stack, and none of the ${g.rules.length} rule(s) the stack adds to it allows ${flow} to ${host}`,
      ),
    ];
    return {
      step: "security-group",
      status: "unverified",
      text: why.join("; "),
      subjects: names,
    };
  }
  return {
    step: "security-group",
    status: "deny",
    text: `${names.join(" + ")}: no egress rule allows ${flow} to ${host}`,
    urn: resolved.find((g) => g.urn)?.urn,
    subjects: names,
  };
}

function specificity(model: NetworkModel, r: SgRule, address: number): number {
  const blocks = ruleBlocks(model, r).filter((b) => containsPoint(b, address));
  const prefix = Math.max(0, ...blocks.map((b) => b.prefix));
  return prefix * 2 + (r.protocol === ALL ? 0 : 1);
}

// --- network ACLs

interface NaclDecision {
  readonly allowed: { ports: Interval; rule: NaclRule }[];
  readonly denied: { ports: Interval; rule?: NaclRule }[];
  readonly unknown: { ports: Interval; rule: NaclRule }[];
}

/**
 * First match, lowest number first, over a whole port range at once: the
 * ports each rule decides, the ports the final * rule denies, and the ports
 * a rule not known until apply might decide.
 */
export function decideNacl(
  rules: readonly NaclRule[],
  direction: "egress" | "ingress",
  protocol: number,
  ports: Interval,
  address: number,
): NaclDecision {
  const out: NaclDecision = { allowed: [], denied: [], unknown: [] };
  let remaining: Interval[] = [ports];
  const mine = rules.filter((r) => r.direction === direction);
  const matchOf = (r: NaclRule): Tri => {
    let unknown = false;
    if (r.protocol === UNKNOWN) unknown = true;
    else if (r.protocol !== ALL && r.protocol !== protocol) return false;
    if (r.block === UNKNOWN) unknown = true;
    else if (r.block === "ipv6" || r.block === "invalid" || !containsPoint(r.block, address)) return false;
    if (r.action === UNKNOWN) unknown = true;
    return unknown ? "unknown" : true;
  };
  const take = (r: NaclRule, into: { ports: Interval; rule?: NaclRule }[]) => {
    const span = r.ports === UNKNOWN || r.protocol === ALL || !hasPorts(protocol) ? PORTS_ALL : r.ports;
    for (const piece of remaining) {
      const hit = intersect(piece, span);
      if (hit) into.push({ ports: hit, rule: r });
    }
    remaining = remaining.flatMap((piece) => subtract([piece], span));
  };
  // A rule whose number is unknown could come before any other.
  for (const r of mine.filter((x) => x.number === UNKNOWN)) if (matchOf(r) !== false) take(r, out.unknown);
  const ordered = mine.filter((x) => typeof x.number === "number").sort((a, b) => (a.number as number) - (b.number as number));
  for (const r of ordered) {
    if (remaining.length === 0) break;
    const m = matchOf(r);
    if (m === false) continue;
    if (m === "unknown" || r.ports === UNKNOWN) take(r, out.unknown);
    else take(r, r.action === "allow" ? out.allowed : out.denied);
  }
  for (const piece of remaining) out.denied.push({ ports: piece });
  return out;
}

function naclName(acl: AclEntity, rule?: NaclRule): string {
  return `${entityLabel(acl)} ${rule ? `#${String(rule.number)}` : "*"}`;
}

function missingHop(step: HopStep, c: Choice, what: string): Hop | undefined {
  if ("missing" in c) return { step, status: "unverified", text: `${what}: ${c.missing}`, subjects: [] };
  if (!isResolved(c.link)) return { step, status: "unverified", text: `${what}: ${c.link.unresolved}`, subjects: [] };
  return undefined;
}

function naclEgressHop(choice: Choice, acl: AclEntity | undefined, port: number, address: number, host: string): Hop {
  const missing = missingHop("nacl-egress", choice, "the client subnet's network ACL is not known");
  if (missing || !acl)
    return missing ?? { step: "nacl-egress", status: "unverified", text: "the client subnet's network ACL is not known", subjects: [] };
  const d = decideNacl(acl.rules, "egress", TCP, { lo: port, hi: port }, address);
  const subjects = [entityLabel(acl), acl.name];
  const [unknown] = d.unknown;
  if (unknown) {
    const r = unknown.rule;
    return {
      step: "nacl-egress",
      status: "unverified",
      text: `${naclName(acl, r)} (${r.resourceName}) is not known until the update runs`,
      urn: r.urn,
      subjects,
    };
  }
  const outside = acl.origin === "outside";
  const [allowed] = d.allowed;
  const [denied] = d.denied;
  // One port: the first match either allows it or denies it (the final * rule included).
  if (denied || !allowed) {
    const r = denied?.rule;
    if (!r && outside) {
      return {
        step: "nacl-egress",
        status: "unverified",
        text: `${entityLabel(acl)} is not in the stack and none of the ${acl.rules.length} rule(s) the stack adds to it allows tcp/${port} to ${host}`,
        subjects,
      };
    }
    return {
      step: "nacl-egress",
      status: "deny",
      text: r
        ? `${naclName(acl, r)} deny${r.resourceName ? ` (${r.resourceName})` : ""} tcp/${port} to ${host}`
        : `${naclName(acl)} deny: no rule allows tcp/${port} to ${host}`,
      urn: r?.urn ?? acl.urn,
      subjects: [...subjects, ...(r ? [`#${String(r.number)}`] : [])],
    };
  }
  return {
    step: "nacl-egress",
    status: outside ? "assumed" : "allow",
    text: `${naclName(acl, allowed.rule)} allow`,
    urn: allowed.rule.urn,
    subjects: [...subjects, `#${String(allowed.rule.number)}`],
  };
}

function naclReturnHop(choice: Choice, acl: AclEntity | undefined, ephemeral: Interval, address: number, host: string): Hop {
  const missing = missingHop("nacl-return", choice, "the client subnet's network ACL is not known");
  if (missing || !acl)
    return missing ?? { step: "nacl-return", status: "unverified", text: "the client subnet's network ACL is not known", subjects: [] };
  const d = decideNacl(acl.rules, "ingress", TCP, ephemeral, address);
  const subjects = [entityLabel(acl), acl.name];
  const span = `tcp/${formatPorts(ephemeral)}`;
  const [unknown] = d.unknown;
  if (unknown) {
    const r = unknown.rule;
    return {
      step: "nacl-return",
      status: "unverified",
      text: `return ${naclName(acl, r)} (${r.resourceName}) is not known until the update runs`,
      urn: r.urn,
      subjects,
    };
  }
  const outside = acl.origin === "outside";
  const explicit = d.denied.find((x) => x.rule);
  const first = explicit ?? d.denied[0];
  const [allowed] = d.allowed;
  // The ephemeral range is either decided rule by rule or, for what no rule matches, by the final * rule.
  if (first || !allowed) {
    if (!explicit && outside) {
      return {
        step: "nacl-return",
        status: "unverified",
        text: `return: ${entityLabel(acl)} is not in the stack and the rule(s) the stack adds to it do not allow ${span} from ${host}`,
        subjects,
      };
    }
    const r = first?.rule;
    const ports = formatPorts(first?.ports ?? ephemeral);
    return {
      step: "nacl-return",
      status: "deny",
      text: r
        ? `return ${naclName(acl, r)} deny${r.resourceName ? ` (${r.resourceName})` : ""} tcp/${ports} from ${host}`
        : `return ${naclName(acl)} deny: no inbound rule allows tcp/${ports} from ${host} (network ACLs are stateless; the replies come back to the client's ephemeral ports)`,
      urn: r?.urn ?? acl.urn,
      subjects: [...subjects, ...(r ? [`#${String(r.number)}`] : [])],
    };
  }
  const rules = [...new Set(d.allowed.map((x) => `#${String(x.rule.number)}`))];
  return {
    step: "nacl-return",
    status: outside ? "assumed" : "allow",
    text: `return ${entityLabel(acl)} ${rules.join(" ")} allow`,
    urn: allowed.rule.urn,
    subjects: [...subjects, ...rules],
  };
}

// --- routes

// What each kind of target does with traffic toward HKEX: infra/routeTarget.ts, the one table of route targets.
const ACCEPTED: ReadonlySet<TargetKind> = new Set(kindsWith("carries"));
const VIOLATION: Readonly<Partial<Record<TargetKind, string>>> = reasonsOf("refused");
const ADVISORY: Readonly<Partial<Record<TargetKind, string>>> = reasonsOf("indirect");

function kindsWith(verdict: RouteTargetVerdict): TargetKind[] {
  return (Object.keys(AWS_ROUTE_TARGETS) as TargetKind[]).filter((k) => AWS_ROUTE_TARGETS[k].verdict === verdict);
}

function reasonsOf(verdict: RouteTargetVerdict): Partial<Record<TargetKind, string>> {
  return Object.fromEntries(kindsWith(verdict).map((k) => [k, AWS_ROUTE_TARGETS[k].why ?? AWS_ROUTE_TARGETS[k].label]));
}

interface RouteDecision {
  readonly route?: RouteEntry;
  readonly block?: Ipv4Cidr;
  readonly partial: readonly string[];
}

/** Longest prefix match, then static over prefix list over propagated; a propagated route never beats the local route. */
export function lookupRoute(model: NetworkModel, table: TableEntity, address: number): RouteDecision {
  const partial: string[] = [];
  const candidates: { block: Ipv4Cidr; route: RouteEntry; rank: number }[] = [];
  for (const r of table.routes) {
    if (r.dest.kind === "cidr") candidates.push({ block: r.dest.block, route: r, rank: r.propagated ? 2 : 0 });
    else if (r.dest.kind === "prefix-list") {
      const pl = isResolved(r.dest.list) ? model.prefixLists.get(r.dest.list) : undefined;
      if (pl && pl.origin === "stack") for (const block of pl.entries) candidates.push({ block, route: r, rank: 1 });
      else partial.push(`the route to prefix list ${r.dest.text} (its entries are not in the stack)`);
    } else if (r.dest.kind === "unknown") partial.push(`a route to ${r.dest.text}`);
  }
  if (table.origin === "outside") partial.push(`the routes of ${entityLabel(table)} the stack does not add`);
  for (const v of table.propagatingVgws) partial.push(`routes propagated from ${v}`);
  let best = longestPrefixMatches(candidates, address);
  const local = candidates.find((c) => c.route.origin === "local" && containsPoint(c.block, address));
  if (local && best.every((c) => c.route.propagated)) best = [local];
  const chosen = [...best].sort((a, b) => a.rank - b.rank)[0];
  return { route: chosen?.route, block: chosen?.block, partial };
}

function routeText(table: TableEntity, d: RouteDecision): string {
  const r = d.route!;
  const dest = r.dest.kind === "prefix-list" ? `${r.dest.text} (${d.block!.cidr})` : d.block!.cidr;
  const target = r.target.kind === "local" ? "local" : `via ${r.target.id}`;
  return `${entityLabel(table)} ${dest} ${target}`;
}

function routeHop(model: NetworkModel, choice: Choice, table: TableEntity | undefined, address: number, host: string): Hop {
  const missing = missingHop("route", choice, "the client subnet's route table is not known");
  if (missing || !table)
    return missing ?? { step: "route", status: "unverified", text: "the client subnet's route table is not known", subjects: [] };
  const d = lookupRoute(model, table, address);
  const subjects = [entityLabel(table), table.name];
  if (!d.route) {
    if (d.partial.length > 0) {
      return {
        step: "route",
        status: "unverified",
        text: `${entityLabel(table)}: no visible route to ${host}; not visible: ${d.partial.join(", ")}`,
        subjects,
      };
    }
    return { step: "route", status: "deny", text: `${entityLabel(table)} has no route to ${host}`, urn: table.urn, subjects };
  }
  const r = d.route;
  const text = routeText(table, d);
  const routeSubjects = [...subjects, r.target.id, ...(r.resourceName ? [r.resourceName] : [])];
  if (r.blackhole)
    return {
      step: "route",
      status: "deny",
      text: `${text} is a blackhole (its target no longer exists)`,
      urn: r.urn ?? table.urn,
      subjects: routeSubjects,
    };
  const violation = VIOLATION[r.target.kind];
  if (violation) return { step: "route", status: "deny", text: `${text}: ${violation}`, urn: r.urn ?? table.urn, subjects: routeSubjects };
  if (ACCEPTED.has(r.target.kind)) {
    return { step: "route", status: d.partial.length > 0 ? "assumed" : "allow", text, urn: r.urn ?? table.urn, subjects: routeSubjects };
  }
  return {
    step: "route",
    status: "advisory",
    text: `${text}: ${ADVISORY[r.target.kind] ?? ADVISORY.unknown}`,
    urn: r.urn ?? table.urn,
    subjects: routeSubjects,
  };
}

// ---------------------------------------------------------------------------
// Nothing broader

/**
 * Every flow the placement can open toward each HKEX range, computed over
 * the whole range and every protocol and port: the addresses, ports and
 * protocols are cut into pieces on which every rule and route decides the
 * same way, and one packet per piece is put through the security groups,
 * the network ACL and the route table. A flow that gets through and is not
 * TCP to an endpoint port is reported with the group rule that lets it
 * through.
 */
function broaderFlows(
  model: NetworkModel,
  p: Placement,
  ranges: readonly Ipv4Cidr[],
  allowedPorts: ReadonlySet<number>,
  acl: AclEntity | undefined,
  table: TableEntity | undefined,
): BroaderFlow[] {
  const groups = p.groups
    .filter(isResolved)
    .map((g) => model.groups.get(g))
    .filter((g): g is GroupEntity => g !== undefined);
  const rules = groups.flatMap((g) => g.rules.filter((r) => r.direction === "egress"));
  const out: BroaderFlow[] = [];
  for (const range of ranges) {
    const relevant = rules.filter((r) => ruleBlocks(model, r).some((b) => overlaps(b, range)));
    if (relevant.length === 0) continue;
    const aclRules = acl?.rules.filter((r) => r.direction === "egress") ?? [];
    const addressCuts: Interval[] = [
      ...relevant.flatMap((r) => ruleBlocks(model, r)),
      ...aclRules.flatMap((r) => (typeof r.block === "object" ? [r.block] : [])),
      ...(table?.routes.flatMap((r) => routeBlocks(model, r.dest)) ?? []),
    ];
    const protocols = protocolsToTry([...relevant.map((r) => r.protocol), ...aclRules.map((r) => r.protocol)]);
    type Found = { rule: SgRule; through: string[]; perProtocol: Map<number, Interval[]>; addresses: Interval[] };
    const found = new Map<string, Found>();
    for (const piece of pieces(range, addressCuts)) {
      const address = piece.lo;
      const route = table ? lookupRoute(model, table, address) : undefined;
      if (route && !reachesHkex(route)) continue;
      for (const protocol of protocols.all) {
        const portCuts: Interval[] = hasPorts(protocol)
          ? [
              ...relevant.flatMap((r) => (typeof r.ports === "object" && (r.protocol === protocol || r.protocol === ALL) ? [r.ports] : [])),
              ...aclRules.flatMap((r) => (typeof r.ports === "object" && (r.protocol === protocol || r.protocol === ALL) ? [r.ports] : [])),
              ...[...allowedPorts].map((x) => ({ lo: x, hi: x })),
            ]
          : [];
        for (const ports of hasPorts(protocol) ? pieces(PORTS_ALL, portCuts) : [PORTS_ALL]) {
          if (protocol === TCP && ports.lo === ports.hi && allowedPorts.has(ports.lo)) continue;
          const rule = relevant.find((r) => sgRuleMatches(model, r, protocol, ports.lo, address) === true);
          if (!rule) continue;
          let aclText = acl ? `${entityLabel(acl)}: no visible rule decides` : "network ACL not known";
          if (acl) {
            const d = decideNacl(acl.rules, "egress", protocol, { lo: ports.lo, hi: ports.lo }, address);
            const [denied] = d.denied;
            const [allowed] = d.allowed;
            const [unknown] = d.unknown;
            if (denied && (denied.rule || acl.origin !== "outside")) continue;
            if (allowed) aclText = `${naclName(acl, allowed.rule)} allow`;
            else if (unknown) aclText = `${naclName(acl, unknown.rule)} not known until apply`;
          }
          const routeText_ =
            table && route?.route ? routeText(table, route) : table ? `${entityLabel(table)}: route not visible` : "route table not known";
          const key = `${ruleText(model, rule)}|${aclText}|${routeText_}`;
          const entry: Found = found.get(key) ?? { rule, through: [aclText, routeText_], perProtocol: new Map(), addresses: [] };
          entry.perProtocol.set(protocol, [...(entry.perProtocol.get(protocol) ?? []), ports]);
          entry.addresses.push(piece);
          found.set(key, entry);
        }
      }
    }
    for (const f of found.values()) {
      out.push({
        range: range.cidr,
        flows: describeFlows(f.perProtocol, protocols.other),
        addresses: merge(f.addresses).map(formatAddresses).join(", "),
        rule: ruleText(model, f.rule),
        ruleName: f.rule.label,
        through: f.through,
        urn: f.rule.urn,
      });
    }
  }
  return out;
}

function reachesHkex(d: RouteDecision): boolean {
  if (!d.route) return d.partial.length > 0;
  if (d.route.blackhole) return false;
  return VIOLATION[d.route.target.kind] === undefined;
}

interface ProtocolsToTry {
  /** Every protocol to put a packet through, `other` included. */
  readonly all: readonly number[];
  /** A protocol no rule names, standing for all such protocols; none when rules name every one. */
  readonly other?: number;
}

/** TCP, UDP, ICMP, every protocol a rule names, and one protocol no rule names (standing for "the others"). */
function protocolsToTry(named: readonly unknown[]): ProtocolsToTry {
  const set = new Set<number>([TCP, UDP, ICMP]);
  for (const p of named) if (typeof p === "number" && p !== ALL) set.add(p);
  const other = [47, 50, 51, 132, ...Array.from({ length: 256 }, (_, i) => i)].find((p) => !set.has(p));
  return other === undefined ? { all: [...set] } : { all: [...set, other], other };
}

function describeFlows(perProtocol: ReadonlyMap<number, Interval[]>, other: number | undefined): string {
  const parts: string[] = [];
  for (const [protocol, list] of [...perProtocol].sort((a, b) => a[0] - b[0])) {
    if (protocol === other) continue;
    if (!hasPorts(protocol)) parts.push(protocolLabel(protocol));
    else for (const r of merge(list)) parts.push(`${protocolLabel(protocol)}/${formatPorts(r)}`);
  }
  if (other !== undefined && perProtocol.has(other)) parts.push("other protocols");
  return parts.join(", ");
}

// ---------------------------------------------------------------------------
// Resources outside the stack, and what the model could not settle

/**
 * A client group no interface or instance of the stack carries: the subnet,
 * network ACL and route table its client uses are taken from a declared
 * scope or from where the stack writes HKEX entries, which is a guess the
 * pack cannot confirm. Said once per group, never passed silently.
 */
function unattachedAdvisories(model: NetworkModel, placements: readonly Placement[], findings: Findings): void {
  const seen = new Set<string>();
  for (const p of placements) {
    if (p.basis === "attachment") continue;
    for (const link of p.groups) {
      if (!isResolved(link) || seen.has(link)) continue;
      seen.add(link);
      const g = model.groups.get(link);
      const label = labelOf(g, link);
      const outsideEnis = model.resources
        .filter((r) => r.type === FLOW_TYPES.sgAttachment)
        .filter((r) => {
          const id = str(r.props, "securityGroupId");
          return (g?.id !== undefined && id === g.id) || dependencyUrns(r, "securityGroupId").includes(link);
        })
        .map((r) => {
          const eni = str(r.props, "networkInterfaceId");
          return typeof eni === "string" ? eni : `the interface of ${r.name}`;
        });
      const attached =
        outsideEnis.length > 0
          ? `is attached only to ${outsideEnis.join(", ")}, which ${outsideEnis.length === 1 ? "is" : "are"} not in the stack`
          : "is attached to no interface or instance in the stack";
      const basis =
        p.basis === "declared"
          ? "it was evaluated in the declared client scope"
          : p.basis === "inferred"
            ? "it was evaluated with the network ACLs and route tables the stack writes HKEX entries into"
            : "only its own rules were evaluated";
      findings.add({
        code: "flow-unattached-group",
        level: "advisory",
        message: `Security group ${label} carries HKEX rules and ${attached}: the subnet, network ACL and route table of its client could not be verified, and ${basis}. Attach it to the client's interfaces in the stack (attach.networkInterfaceIds), or declare the client scope (subnetIds) in the component or the pack config.`,
        urn: g?.urn,
        subjects: [label, ...(g ? [g.name] : []), ...outsideEnis],
        scope: p.label,
      });
    }
  }
}

function outsideAdvisories(model: NetworkModel, placements: readonly Placement[], findings: Findings): void {
  const seen = new Set<string>();
  for (const p of placements) {
    const groups = p.groups
      .filter(isResolved)
      .map((g) => model.groups.get(g))
      .filter((g): g is GroupEntity => g !== undefined);
    for (const g of groups) {
      if (g.origin !== "outside" || seen.has(g.key)) continue;
      seen.add(g.key);
      findings.add({
        code: "flow-outside-stack",
        level: "advisory",
        message: `Security group ${entityLabel(g)} is not in the stack: only the ${g.rules.length} rule(s) this stack adds to it were evaluated; its other rules, any broader egress among them, could not be checked.`,
        subjects: [entityLabel(g)],
        scope: p.label,
      });
    }
    const acl = chosen(model.acls, p.acl);
    if (acl?.origin === "outside" && !seen.has(acl.key)) {
      seen.add(acl.key);
      findings.add({
        code: "flow-outside-stack",
        level: "advisory",
        message: `Network ACL ${entityLabel(acl)} is not in the stack: only the ${acl.rules.length} rule(s) this stack adds to it were evaluated; a lower-numbered rule already in it could deny the flow or its reply.`,
        subjects: [entityLabel(acl)],
        scope: p.label,
      });
    }
    const table = chosen(model.tables, p.table);
    if (table?.origin === "outside" && !seen.has(table.key)) {
      seen.add(table.key);
      findings.add({
        code: "flow-outside-stack",
        level: "advisory",
        message: `Route table ${entityLabel(table)} is not in the stack: only the ${table.routes.length} route(s) this stack adds to it were evaluated; a more specific route already in it could send HKEX traffic another way.`,
        subjects: [entityLabel(table)],
        scope: p.label,
      });
    }
    for (const g of groups) {
      for (const r of g.rules) {
        if (r.dest.kind !== "prefix-list" || !isResolved(r.dest.list) || seen.has(r.dest.list)) continue;
        const pl = model.prefixLists.get(r.dest.list);
        if (pl?.origin !== "outside") continue;
        seen.add(pl.key);
        findings.add({
          code: "flow-outside-stack",
          level: "advisory",
          message: `Prefix list ${entityLabel(pl)}, named by ${ruleText(model, r)}, is not in the stack: its entries could not be checked.`,
          urn: r.urn,
          subjects: [entityLabel(pl)],
          scope: p.label,
        });
      }
    }
  }
}

function issueFindings(model: NetworkModel, placements: readonly Placement[], findings: Findings): void {
  const inScope = new Set<string>();
  for (const p of placements) {
    for (const g of p.groups) if (isResolved(g)) inScope.add(g);
    if (isResolved(p.subnet)) inScope.add(p.subnet);
    for (const c of [p.acl, p.table]) if ("link" in c && isResolved(c.link)) inScope.add(c.link);
    for (const a of model.attachments.values()) if (p.attachments.includes(entityLabel(a))) inScope.add(a.key);
    for (const g of p.groups) {
      for (const r of (isResolved(g) ? model.groups.get(g)?.rules : undefined) ?? [])
        if (r.dest.kind === "prefix-list" && isResolved(r.dest.list)) inScope.add(r.dest.list);
    }
    const table = chosen(model.tables, p.table);
    for (const r of table?.routes ?? []) if (r.dest.kind === "prefix-list" && isResolved(r.dest.list)) inScope.add(r.dest.list);
  }
  for (const i of model.issues) {
    if (i.kind === "clash") {
      findings.add({ code: "nacl-rule-number-clash", level: "mandatory", message: `${i.message}.`, urn: i.urn, subjects: i.subjects });
    } else if (i.kind === "conflict") {
      const relevant = i.entity !== undefined && inScope.has(i.entity);
      findings.add({
        code: "flow-conflict",
        level: relevant ? "mandatory" : "advisory",
        message: `${i.message}${relevant ? "; the HKEX client's flows depend on it" : ""}.`,
        urn: i.urn,
        subjects: i.subjects,
      });
    } else if (i.kind === "invalid") {
      findings.add({ code: "flow-unresolved", level: "advisory", message: `${i.message}.`, urn: i.urn, subjects: i.subjects });
    } else {
      findings.add({
        code: "flow-unresolved",
        level: "advisory",
        message: `${i.message}; the flows that depend on it could not be verified.`,
        urn: i.urn,
        subjects: i.subjects,
      });
    }
  }
}

/** A rule written for HKEX (egress into a site range) that the program gave no description. */
export interface UndescribedRule {
  /** As a path trace names it: group, rule and traffic. */
  readonly rule: string;
  readonly urn?: string;
  readonly subjects: readonly string[];
}

/**
 * The stack's HKEX egress rules (see scope.ts: a destination inside a site
 * range, or exactly TCP to the endpoint port toward one) declared without a
 * description. Rules read back from AWS and a default group's rule are not
 * the program's to describe.
 */
export function undescribedHkexRules(resources: readonly FlowResource[], options: Pick<FlowOptions, "endpoints"> = {}): UndescribedRule[] {
  const endpoints = options.endpoints ?? endpointsOf();
  const port = endpoints[0]?.port ?? SFTP_PORT;
  const ranges = siteRanges(endpoints);
  const model = buildNetworkModel(resources);
  return [...model.groups.values()].flatMap((g) =>
    g.rules
      .filter((r) => r.origin === "rule" || r.origin === "legacy-rule" || r.origin === "inline")
      .filter((r) => r.description === undefined && isHkexRule(model, r, ranges, port))
      .map((r) => ({ rule: ruleText(model, r), urn: r.urn, subjects: [entityLabel(g), g.name, r.label, ...(r.urn ? [r.urn] : [])] })),
  );
}
