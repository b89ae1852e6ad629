/**
 * Client scope: where the SFTP client sits, as the stack shows it.
 *
 * The client is whatever carries an "HKEX group": a security group with an
 * egress rule whose destination lies inside an HKEX site range (a /24 or a
 * host /32), or a prefix list of the stack holding such a block, or a rule
 * for exactly TCP 18801 to any block that reaches a site range. A web tier's
 * tcp/443 to 0.0.0.0/0 does not make a group a client.
 *
 * Each interface or instance of the stack that carries an HKEX group is one
 * placement: the union of all its groups (AWS aggregates the rules of every
 * group on an interface), its subnet, the subnet's network ACL and route
 * table, its VPC. HKEX groups attached to nothing in the stack (the kit's own
 * component creates a group, NACL rules and routes but no instance) are
 * placed, per VPC, where the declared scope says (pack config, or the
 * component's outputs `vpcId`, `subnetIds`, `routeTableIds`,
 * `networkAclIds`/`naclIds`), else where the stack writes HKEX entries: the
 * network ACLs that hold rules for a site range and the route tables that
 * hold routes to one.
 */
import { HKEX_SITES, type Endpoint } from "../../catalogue";
import { type Interval, type Ipv4Cidr, contains, overlaps, parseIpv4Cidr } from "./ip";
import {
  type AclEntity,
  type GroupEntity,
  type Link,
  type NetworkModel,
  type SgRule,
  type TableEntity,
  entityLabel,
  isResolved,
} from "./network";
import { FLOW_TYPES } from "./resources";
import { TCP, get, strings, str } from "./values";

/** The network a client is declared to sit in, by AWS id. */
export interface DeclaredScope {
  readonly vpcId?: string;
  readonly subnetIds?: readonly string[];
  readonly routeTableIds?: readonly string[];
  readonly naclIds?: readonly string[];
  readonly securityGroupIds?: readonly string[];
}

/** A choice of network ACL or route table for a placement, or why there is none. */
export type Choice = { readonly link: Link; readonly via: string } | { readonly missing: string };

export interface Placement {
  readonly key: string;
  readonly label: string;
  readonly basis: "attachment" | "declared" | "inferred" | "group-only";
  readonly attachments: string[];
  readonly groups: readonly Link[];
  readonly subnet?: Link;
  readonly vpc?: string;
  readonly acl: Choice;
  readonly table: Choice;
  readonly notes: readonly string[];
}

export function siteRanges(endpoints: readonly Endpoint[]): Ipv4Cidr[] {
  const names = [...new Set(endpoints.map((e) => e.site))];
  return names.map((s) => parseIpv4Cidr(HKEX_SITES[s].range)!);
}

/** The blocks a rule's destination stands for; prefix lists of the stack expand to their entries. */
export function ruleBlocks(model: NetworkModel, rule: SgRule): Ipv4Cidr[] {
  if (rule.dest.kind === "cidr") return [rule.dest.block];
  if (rule.dest.kind === "prefix-list" && isResolved(rule.dest.list)) {
    const pl = model.prefixLists.get(rule.dest.list);
    if (pl && pl.origin === "stack") return pl.entries;
  }
  return [];
}

export function isHkexRule(model: NetworkModel, rule: SgRule, ranges: readonly Ipv4Cidr[], port: number): boolean {
  if (rule.direction !== "egress") return false;
  const blocks = ruleBlocks(model, rule);
  if (blocks.some((b) => ranges.some((r) => contains(r, b)))) return true;
  const exactlyTheSftpPort = rule.protocol === TCP && typeof rule.ports === "object" && rule.ports.lo === port && rule.ports.hi === port;
  return exactlyTheSftpPort && blocks.some((b) => ranges.some((r) => overlaps(r, b)));
}

function hkexGroups(model: NetworkModel, ranges: readonly Ipv4Cidr[], port: number, declared: readonly DeclaredScope[]): Set<string> {
  const out = new Set<string>();
  for (const g of model.groups.values()) if (g.rules.some((r) => isHkexRule(model, r, ranges, port))) out.add(g.key);
  for (const d of declared) {
    for (const id of d.securityGroupIds ?? []) {
      const g = [...model.groups.values()].find((x) => x.id === id);
      if (g) out.add(g.key);
    }
  }
  return out;
}

/**
 * Declared scopes in the stack: the `scope` output of the kit's component
 * (hkex:network:SftpAccess; vpcId, subnetIds, routeTableIds, networkAclIds,
 * securityGroupIds), the same keys at the top of its outputs as older
 * versions wrote them, and a `scope` stack output (`pulumi:pulumi:Stack`).
 */
function componentScopes(model: NetworkModel): DeclaredScope[] {
  const scopes = model.resources.flatMap((r) => {
    if (r.type === FLOW_TYPES.sftpAccess) {
      const nested = get(r.props, "scope");
      return [declaredScopeOf(nested !== null && typeof nested === "object" ? nested : r.props)];
    }
    if (r.type === FLOW_TYPES.stack) {
      const nested = get(r.props, "scope");
      return nested !== null && typeof nested === "object" ? [declaredScopeOf(nested)] : [];
    }
    return [];
  });
  const seen = new Set<string>();
  return scopes.filter((d) => {
    const key = JSON.stringify(d);
    const declaresWhere = d.vpcId || d.subnetIds.length > 0 || d.routeTableIds.length > 0 || d.naclIds.length > 0;
    if (!declaresWhere || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function declaredScopeOf(o: unknown): DeclaredScope & { subnetIds: string[]; routeTableIds: string[]; naclIds: string[] } {
  const ids = (...keys: string[]) =>
    keys.flatMap((k) => {
      const l = strings(o, k);
      return Array.isArray(l) ? l.filter((x): x is string => typeof x === "string") : [];
    });
  const one = (k: string) => {
    const v = str(o, k);
    return typeof v === "string" ? v : undefined;
  };
  const group = one("securityGroupId");
  return {
    vpcId: one("vpcId"),
    subnetIds: ids("subnetIds"),
    routeTableIds: ids("routeTableIds"),
    naclIds: ids("networkAclIds", "naclIds"),
    securityGroupIds: [...new Set([...ids("securityGroupIds"), ...(group ? [group] : [])])],
  };
}

// ---------------------------------------------------------------------------

function subnetLabel(model: NetworkModel, subnet: Link | undefined): string {
  if (!isResolved(subnet)) return "an unknown subnet";
  const s = model.subnets.get(subnet);
  return s ? entityLabel(s) : subnet.replace(/^id:/, "");
}

function vpcOfSubnet(model: NetworkModel, subnet: Link | undefined): string | undefined {
  if (!isResolved(subnet)) return undefined;
  const v = model.subnets.get(subnet)?.vpc;
  return isResolved(v) ? v : undefined;
}

/** The network ACL AWS applies to a subnet: its association, else its VPC's default. */
export function aclOfSubnet(model: NetworkModel, subnet: Link | undefined): Choice {
  if (subnet === undefined) return { missing: "the client's subnet is not set" };
  if (!isResolved(subnet)) return { missing: subnet.unresolved };
  const [claim] = model.subnetAcls.get(subnet) ?? [];
  if (claim) return { link: claim.acl, via: claim.via };
  const s = model.subnets.get(subnet);
  if (!s || s.origin === "outside") {
    return { missing: `subnet ${subnetLabel(model, subnet)} is not in the stack and no network ACL association in the stack names it` };
  }
  const vpc = isResolved(s.vpc) ? s.vpc : undefined;
  const acl = vpc ? model.vpcDefaults.get(vpc)?.acl : undefined;
  if (acl) return { link: acl, via: "the VPC's default network ACL (no explicit association)" };
  return {
    missing: `subnet ${entityLabel(s)} has no network ACL association in the stack and its VPC's default network ACL is not in the stack`,
  };
}

/** The route table AWS applies to a subnet: its association, else its VPC's main route table. */
export function tableOfSubnet(model: NetworkModel, subnet: Link | undefined): Choice {
  if (subnet === undefined) return { missing: "the client's subnet is not set" };
  if (!isResolved(subnet)) return { missing: subnet.unresolved };
  const [claim] = model.subnetTables.get(subnet) ?? [];
  if (claim) return { link: claim.table, via: claim.via };
  const s = model.subnets.get(subnet);
  if (!s || s.origin === "outside") {
    return { missing: `subnet ${subnetLabel(model, subnet)} is not in the stack and no route table association in the stack names it` };
  }
  const vpc = isResolved(s.vpc) ? s.vpc : undefined;
  if (vpc) {
    const main = model.mainTables.get(vpc);
    if (main) return { link: main, via: "the VPC's main route table (MainRouteTableAssociation)" };
    const table = model.vpcDefaults.get(vpc)?.table;
    if (table) return { link: table, via: "the VPC's main route table (no explicit association)" };
  }
  return {
    missing: `subnet ${entityLabel(s)} has no route table association in the stack and its VPC's main route table is not in the stack`,
  };
}

// ---------------------------------------------------------------------------

export function placements(
  model: NetworkModel,
  ranges: readonly Ipv4Cidr[],
  port: number,
  declaredByConfig: DeclaredScope | undefined,
): { placements: Placement[]; clientGroups: Set<string> } {
  const declared = [...(declaredByConfig ? [declaredByConfig] : []), ...componentScopes(model)];
  const clientGroups = hkexGroups(model, ranges, port, declared);
  const out = new Map<string, Placement>();
  const placed = new Set<string>();
  const add = (p: Placement) => {
    const existing = out.get(p.key);
    if (existing) existing.attachments.push(...p.attachments.filter((a) => !existing.attachments.includes(a)));
    else out.set(p.key, p);
  };

  const interfaceOf = new Map<string, string[]>();
  for (const a of model.attachments.values()) {
    if (a.kind === "instance" && a.primaryInterface) {
      interfaceOf.set(a.primaryInterface, [...(interfaceOf.get(a.primaryInterface) ?? []), entityLabel(a)]);
    }
  }
  for (const a of model.attachments.values()) {
    if (a.origin !== "stack" || (a.kind === "instance" && a.primaryInterface)) continue;
    const vpc = vpcOfSubnet(model, a.subnet);
    // An interface or instance launched without groups gets its VPC's default group.
    const groups: Link[] =
      a.groups.length > 0
        ? a.groups
        : vpc && model.vpcDefaults.get(vpc)?.group
          ? [model.vpcDefaults.get(vpc)!.group!]
          : [{ unresolved: `${a.name} lists no security group, so it gets its VPC's default group, which is not in the stack` }];
    if (!groups.some((g) => isResolved(g) && clientGroups.has(g))) continue;
    for (const g of groups) if (isResolved(g)) placed.add(g);
    const acl = aclOfSubnet(model, a.subnet);
    const table = tableOfSubnet(model, a.subnet);
    const who = [entityLabel(a), ...(interfaceOf.get(a.key) ?? [])];
    add({
      key: placementKey(groups, a.subnet, acl, table),
      label: `${subnetLabel(model, a.subnet)} (${who.join(", ")})`,
      basis: "attachment",
      attachments: who,
      groups,
      subnet: a.subnet,
      vpc,
      acl,
      table,
      notes: [],
    });
  }

  // Client groups attached to nothing in the stack, placed per VPC.
  const buckets = new Map<string, GroupEntity[]>();
  for (const key of clientGroups) {
    if (placed.has(key)) continue;
    const g = model.groups.get(key)!;
    const bucket = isResolved(g.vpc) ? g.vpc : key;
    buckets.set(bucket, [...(buckets.get(bucket) ?? []), g]);
  }
  for (const [bucket, groups] of buckets) {
    const vpc = model.vpcs.has(bucket) ? bucket : undefined;
    const vpcId = vpc ? model.vpcs.get(vpc)!.id : undefined;
    const links: Link[] = groups.map((g) => g.key);
    const groupText = groups.map(entityLabel).join(" + ");
    const fitting = declared.filter((d) => !d.vpcId || !vpcId || d.vpcId === vpcId);
    const fromDeclared = fitting.flatMap((d) => declaredPlacements(model, d));
    if (fromDeclared.length > 0) {
      for (const p of fromDeclared) {
        add({
          ...p,
          key: placementKey(links, p.subnet, p.acl, p.table),
          label: `${groupText} in ${p.where}`,
          basis: "declared",
          attachments: [],
          groups: links,
          vpc,
          notes: [`${groupText} is attached to nothing in the stack; placed in the declared scope (${p.where}).`],
        });
      }
      continue;
    }
    const inVpc = (e: AclEntity | TableEntity) => !vpc || !isResolved(e.vpc) || e.vpc === vpc;
    const acls = [...model.acls.values()].filter(
      (a) => inVpc(a) && a.rules.some((r) => r.origin !== "aws-default" && blockInRanges(r.block, ranges)),
    );
    const tables = [...model.tables.values()].filter(
      (t) =>
        inVpc(t) &&
        t.routes.some((r) => r.origin !== "local" && routeBlocks(model, r.dest).some((b) => ranges.some((x) => contains(x, b)))),
    );
    const aclChoices: Choice[] =
      acls.length > 0
        ? acls.map((a) => ({ link: a.key, via: "the stack writes HKEX rules into it" }))
        : [{ missing: `${groupText} is attached to nothing in the stack, and no client subnet or network ACL is declared` }];
    const tableChoices: Choice[] =
      tables.length > 0
        ? tables.map((t) => ({ link: t.key, via: "the stack writes HKEX routes into it" }))
        : [{ missing: `${groupText} is attached to nothing in the stack, and no client subnet or route table is declared` }];
    const inferred = acls.length > 0 || tables.length > 0;
    for (const acl of aclChoices) {
      for (const table of tableChoices) {
        const where = [choiceText(model, acl), choiceText(model, table)].filter((x) => x !== undefined).join(" + ");
        add({
          key: placementKey(links, undefined, acl, table),
          label: where ? `${groupText} with ${where}` : groupText,
          basis: inferred ? "inferred" : "group-only",
          attachments: [],
          groups: links,
          vpc,
          acl,
          table,
          notes: [
            inferred
              ? `${groupText} is attached to nothing in the stack; its client subnets are taken to be those of the network ACLs and route tables the stack writes HKEX entries into.`
              : `${groupText} is attached to nothing in the stack; only its own rules could be evaluated.`,
          ],
        });
      }
    }
  }
  return { placements: [...out.values()], clientGroups };
}

function declaredPlacements(model: NetworkModel, d: DeclaredScope): { where: string; subnet?: Link; acl: Choice; table: Choice }[] {
  const byId = <E extends { id?: string; key: string }>(m: ReadonlyMap<string, E>, id: string): Link =>
    [...m.values()].find((e) => e.id === id)?.key ?? `id:${id}`;
  if ((d.subnetIds ?? []).length > 0) {
    return d.subnetIds!.map((id) => {
      const subnet = byId(model.subnets, id);
      return { where: id, subnet, acl: aclOfSubnet(model, subnet), table: tableOfSubnet(model, subnet) };
    });
  }
  const acls: Choice[] = (d.naclIds ?? []).map((id) => ({ link: byId(model.acls, id), via: "declared scope" }));
  const tables: Choice[] = (d.routeTableIds ?? []).map((id) => ({ link: byId(model.tables, id), via: "declared scope" }));
  if (acls.length === 0 && tables.length === 0) return [];
  const a = acls.length > 0 ? acls : [{ missing: "the declared scope names no subnet or network ACL" }];
  const t = tables.length > 0 ? tables : [{ missing: "the declared scope names no subnet or route table" }];
  return a.flatMap((acl) =>
    t.map((table) => ({ where: [choiceText(model, acl), choiceText(model, table)].filter(Boolean).join(" + "), acl, table })),
  );
}

function choiceText(model: NetworkModel, c: Choice): string | undefined {
  if ("missing" in c || !isResolved(c.link)) return undefined;
  const e = model.acls.get(c.link) ?? model.tables.get(c.link);
  return e ? entityLabel(e) : c.link.replace(/^id:/, "");
}

function placementKey(groups: readonly Link[], subnet: Link | undefined, acl: Choice, table: Choice): string {
  const text = (l: Link | undefined) => (l === undefined ? "-" : isResolved(l) ? l : `?${l.unresolved}`);
  const choice = (c: Choice) => ("missing" in c ? `?${c.missing}` : text(c.link));
  return JSON.stringify([[...groups.map(text)].sort(), text(subnet), choice(acl), choice(table)]);
}

function blockInRanges(block: unknown, ranges: readonly Ipv4Cidr[]): boolean {
  return typeof block === "object" && block !== null && ranges.some((r) => contains(r, block as Interval));
}

/** The IPv4 blocks a route destination stands for; a prefix list of the stack expands to its entries. */
export function routeBlocks(model: NetworkModel, dest: TableEntity["routes"][number]["dest"]): Ipv4Cidr[] {
  if (dest.kind === "cidr") return [dest.block];
  if (dest.kind === "prefix-list" && isResolved(dest.list)) {
    const pl = model.prefixLists.get(dest.list);
    if (pl && pl.origin === "stack") return pl.entries;
  }
  return [];
}
