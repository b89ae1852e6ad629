/**
 * A network model of one stack: VPCs, subnets, security groups with their
 * effective rules, network ACLs with their numbered rules, route tables with
 * their routes, managed prefix lists, and the interfaces and instances that
 * carry groups, each linked to the others the way AWS links them.
 *
 * Links. A property that names another resource (`securityGroupId`,
 * `subnetId`, `routeTableId`, ...) is resolved in this order:
 *  1. a known id is matched against the ids of the stack's resources (the
 *     exported `id`, an `id` prop, or the tail of the `arn`), including the
 *     defaults a VPC of the stack reports (`mainRouteTableId`,
 *     `defaultRouteTableId`, `defaultNetworkAclId`, `defaultSecurityGroupId`);
 *     an id that matches nothing names a resource outside the stack, which
 *     the model keeps as an "outside" entity holding only what the stack adds
 *     to it;
 *  2. an unknown id (the engine's unknown sentinel in `pulumi preview --json`,
 *     or an unknown value in the policy SDK) is resolved through the
 *     property's `propertyDependencies`: the one dependency of the expected
 *     type is the resource the id will be. A dependency on a VPC, where a
 *     route table, network ACL or security group is expected, means the VPC's
 *     main route table, default network ACL or default security group
 *     (`vpc.mainRouteTableId` and friends). In a list property the unknown
 *     elements take the dependencies not already named by a known element;
 *  3. anything else (no dependency, or several candidates for one element)
 *     stays unresolved, and the evaluator reports what it could not verify.
 *
 * Provider semantics (Pulumi AWS provider docs, which follow the Terraform
 * AWS provider's):
 *  - aws.ec2.SecurityGroup: the provider removes AWS's default allow-all
 *    egress rule from a group it creates; an inline `egress`/`ingress` list
 *    manages every rule of that direction, so an explicit `egress: []`
 *    removes all of them, and inline rules must not be mixed with
 *    SecurityGroupEgressRule/IngressRule or SecurityGroupRule resources on
 *    the same group ("may cause rule conflicts, perpetual differences, and
 *    result in rules being overwritten"). After a refresh the provider reads
 *    every rule of the group back into `egress`/`ingress`.
 *  - aws.ec2.DefaultSecurityGroup, DefaultNetworkAcl, DefaultRouteTable
 *    adopt a VPC's default and "immediately remove all" rules or routes,
 *    then create the inline ones: the inline lists are absolute, and
 *    standalone rule resources on them are incompatible.
 *  - aws.ec2.NetworkAcl inline rules conflict with NetworkAclRule resources;
 *    RouteTable inline routes conflict with Route resources; ManagedPrefixList
 *    inline entries conflict with ManagedPrefixListEntry resources;
 *    NetworkInterfaceSecurityGroupAttachment conflicts with groups given
 *    inline on the Instance or NetworkInterface.
 * AWS semantics (Amazon VPC User Guide):
 *  - a VPC's default network ACL "is configured to allow all traffic to flow
 *    in and out" (rule 100 allow all, then the * deny), and a subnet not
 *    explicitly associated with a network ACL uses the default one
 *    (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html);
 *  - a VPC's main route table "controls the routing for all subnets that are
 *    not explicitly associated with any other route table", and every route
 *    table holds the implicit `local` route for the VPC CIDR
 *    (https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html);
 *  - a VPC's default security group allows all outbound IPv4 traffic
 *    (https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html),
 *    and an instance or interface launched without groups gets it.
 */
import { ROUTE_TARGET_FIELDS, routeTargetKindOf, type AwsRouteTargetKind } from "../../infra/routeTarget";
import { PORTS_ALL, type Interval, type Ipv4Cidr, isIpv6Text, parseIpv4Cidr } from "./ip";
import { FLOW_TYPES as T, type FlowResource, dependencyUrns } from "./resources";
import { ALL, UNKNOWN, type Maybe, type Unknown, bool, get, has, hasPorts, list, num, protocolOf, str, strings } from "./values";

export type Direction = "egress" | "ingress";

/** Where an entity comes from: a resource of the stack, a default AWS creates with a VPC of the stack, or outside the stack. */
export type Origin = "stack" | "implicit" | "outside";

/** A link to another entity: its key, or why it could not be resolved. */
export type Link = string | Unresolved;
export interface Unresolved {
  readonly unresolved: string;
}
export const isResolved = (l: Link | undefined): l is string => typeof l === "string";

interface EntityBase {
  /** URN for a resource of the stack; `<vpc urn>#default-…` for a VPC's defaults; `id:<id>` outside the stack. */
  readonly key: string;
  readonly origin: Origin;
  readonly id?: string;
  readonly urn?: string;
  /** Pulumi resource name, or the id for an entity outside the stack. */
  readonly name: string;
}

export interface VpcEntity extends EntityBase {
  /** The primary CIDR and any VpcIpv4CidrBlockAssociation: each is a local route. */
  cidrs: Ipv4Cidr[];
}

export interface SubnetEntity extends EntityBase {
  readonly vpc?: Link;
  readonly cidr?: Ipv4Cidr;
}

export type GroupKind = "security-group" | "default-security-group" | "vpc-default" | "outside";
export interface GroupEntity extends EntityBase {
  readonly kind: GroupKind;
  readonly vpc?: Link;
  /** The group's name in AWS (Instance.securityGroups may name groups). */
  readonly groupName?: string;
  rules: SgRule[];
}

export type AclKind = "network-acl" | "default-network-acl" | "vpc-default" | "outside";
export interface AclEntity extends EntityBase {
  readonly kind: AclKind;
  readonly vpc?: Link;
  rules: NaclRule[];
}

export type TableKind = "route-table" | "default-route-table" | "vpc-default" | "outside";
export interface TableEntity extends EntityBase {
  readonly kind: TableKind;
  readonly vpc?: Link;
  routes: RouteEntry[];
  /** Virtual private gateways whose routes propagate into the table (`propagatingVgws`, VpnGatewayRoutePropagation): routes the stack cannot see. */
  propagatingVgws: string[];
}

export interface PrefixListEntity extends EntityBase {
  entries: Ipv4Cidr[];
}

export interface AttachmentEntity extends EntityBase {
  readonly kind: "network-interface" | "instance";
  readonly subnet?: Link;
  groups: Link[];
  /** The ENI ids this attachment answers to (its own, or an instance's primary interface). */
  readonly eniIds: readonly string[];
  /** An instance whose primary interface is a NetworkInterface of the stack is evaluated through that interface. */
  readonly primaryInterface?: string;
  readonly privateIp?: string;
}

// ---------------------------------------------------------------------------
// Rules and routes

export type SgDest =
  | { readonly kind: "cidr"; readonly block: Ipv4Cidr }
  | { readonly kind: "ipv6"; readonly text: string }
  | { readonly kind: "prefix-list"; readonly list: Link; readonly text: string }
  | { readonly kind: "group"; readonly text: string }
  | { readonly kind: "unknown"; readonly text: string }
  /** Text that is no IPv4 or IPv6 block: AWS rejects it, so the rule never matches. */
  | { readonly kind: "invalid"; readonly text: string };

export interface SgRule {
  readonly group: Link;
  readonly direction: Direction;
  /** IANA number, ALL (-1), UNKNOWN until apply, or undefined when the text is not a protocol. */
  readonly protocol: Maybe<number>;
  readonly ports: Interval | Unknown;
  readonly dest: SgDest;
  /** "rule" a SecurityGroupEgressRule/IngressRule, "legacy-rule" a SecurityGroupRule, "inline" a declared block, "read-back" a rule the provider read back from AWS, "aws-default" a VPC default group's rule. */
  readonly origin: "rule" | "legacy-rule" | "inline" | "read-back" | "aws-default";
  /** How a trace names the rule. */
  readonly label: string;
  /** The rule's description, UNKNOWN until apply, undefined when it has none. */
  readonly description?: string | Unknown;
  readonly urn?: string;
}

export interface NaclRule {
  readonly acl: Link;
  readonly direction: Direction;
  readonly number: number | Unknown;
  readonly action: "allow" | "deny" | Unknown;
  readonly protocol: number | Unknown;
  readonly ports: Interval | Unknown;
  /** The IPv4 block, "ipv6" for an IPv6 rule (never matches IPv4 traffic), "invalid" for text AWS rejects, UNKNOWN until apply. */
  readonly block: Ipv4Cidr | "ipv6" | "invalid" | Unknown;
  readonly origin: "rule" | "inline" | "read-back" | "aws-default";
  readonly urn?: string;
  readonly resourceName?: string;
}

/** The kinds of route target, from infra/routeTarget.ts (the one table of route targets). */
export type TargetKind = AwsRouteTargetKind;

export interface RouteTarget {
  readonly kind: TargetKind;
  /** The target's id, ARN, or the name of the stack resource it will be. */
  readonly id: string;
}

export type RouteDest =
  | { readonly kind: "cidr"; readonly block: Ipv4Cidr }
  | { readonly kind: "prefix-list"; readonly list: Link; readonly text: string }
  | { readonly kind: "ipv6"; readonly text: string }
  | { readonly kind: "unknown"; readonly text: string }
  | { readonly kind: "invalid"; readonly text: string };

export interface RouteEntry {
  readonly table: Link;
  readonly dest: RouteDest;
  readonly target: RouteTarget;
  readonly origin: "route" | "inline" | "read-back" | "local";
  /** A propagated route (origin EnableVgwRoutePropagation) loses to a static route of the same prefix. */
  readonly propagated: boolean;
  /** AWS marks a route whose target is gone as a blackhole. */
  readonly blackhole: boolean;
  readonly urn?: string;
  readonly resourceName?: string;
}

// ---------------------------------------------------------------------------
// What the model could not settle

export interface ModelIssue {
  readonly kind: "unresolved" | "invalid" | "conflict" | "clash";
  /** The entity the issue is about (a group, ACL, table, subnet, attachment), when there is one. */
  readonly entity?: string;
  readonly message: string;
  readonly urn?: string;
  readonly subjects: readonly string[];
}

export interface NetworkModel {
  readonly resources: readonly FlowResource[];
  readonly vpcs: ReadonlyMap<string, VpcEntity>;
  readonly subnets: ReadonlyMap<string, SubnetEntity>;
  readonly groups: ReadonlyMap<string, GroupEntity>;
  readonly acls: ReadonlyMap<string, AclEntity>;
  readonly tables: ReadonlyMap<string, TableEntity>;
  readonly prefixLists: ReadonlyMap<string, PrefixListEntity>;
  readonly attachments: ReadonlyMap<string, AttachmentEntity>;
  /** Subnet key → the network ACL links that claim it (more than one is a conflict). */
  readonly subnetAcls: ReadonlyMap<string, readonly { acl: Link; via: string }[]>;
  /** Subnet key → the route table links that claim it. */
  readonly subnetTables: ReadonlyMap<string, readonly { table: Link; via: string }[]>;
  /** VPC key → the route table a MainRouteTableAssociation makes main. */
  readonly mainTables: ReadonlyMap<string, Link>;
  /** VPC key → its default route table, network ACL, security group (stack resource or implicit). */
  readonly vpcDefaults: ReadonlyMap<string, { table?: string; acl?: string; group?: string }>;
  readonly issues: readonly ModelIssue[];
}

export interface ModelOptions {
  /** Rule numbers known to be taken per network ACL id (both directions), e.g. from the stack config. */
  readonly naclRuleNumbersInUse?: Readonly<Record<string, readonly number[]>>;
}

type Kind = "vpc" | "subnet" | "group" | "acl" | "table" | "prefix-list" | "attachment";

/** The resource's own AWS id: the export's `id`, an `id` prop, or the tail of its ARN. */
export function ownIdOf(r: FlowResource): string | undefined {
  if (typeof r.id === "string" && r.id !== "" && !r.id.startsWith("04da6b54")) return r.id;
  const id = str(r.props, "id");
  if (typeof id === "string") return id;
  const arn = str(r.props, "arn");
  if (typeof arn === "string" && arn.includes("/")) return arn.slice(arn.lastIndexOf("/") + 1);
  return undefined;
}

export function entityLabel(e: { id?: string; name: string }): string {
  return e.id ?? e.name;
}

// ---------------------------------------------------------------------------

class Builder {
  readonly byUrn = new Map<string, FlowResource>();
  readonly vpcs = new Map<string, VpcEntity>();
  readonly subnets = new Map<string, SubnetEntity>();
  readonly groups = new Map<string, GroupEntity>();
  readonly acls = new Map<string, AclEntity>();
  readonly tables = new Map<string, TableEntity>();
  readonly prefixLists = new Map<string, PrefixListEntity>();
  readonly attachments = new Map<string, AttachmentEntity>();
  readonly subnetAcls = new Map<string, { acl: Link; via: string }[]>();
  readonly subnetTables = new Map<string, { table: Link; via: string }[]>();
  readonly mainTables = new Map<string, Link>();
  readonly vpcDefaults = new Map<string, { table?: string; acl?: string; group?: string }>();
  readonly issues: ModelIssue[] = [];
  /** id → entity key, per kind. */
  private readonly ids = new Map<Kind, Map<string, string>>();
  /** URN → entity key, per kind (a VPC's URN also stands for its defaults). */
  private readonly urns = new Map<Kind, Map<string, string>>();

  constructor(readonly resources: readonly FlowResource[]) {
    for (const r of resources) this.byUrn.set(r.urn, r);
  }

  private mapOf(kind: Kind) {
    const m = {
      vpc: this.vpcs,
      subnet: this.subnets,
      group: this.groups,
      acl: this.acls,
      table: this.tables,
      "prefix-list": this.prefixLists,
      attachment: this.attachments,
    }[kind];
    return m as Map<string, EntityBase>;
  }

  register(kind: Kind, e: EntityBase, ids: readonly (string | undefined)[] = [e.id]): void {
    this.mapOf(kind).set(e.key, e);
    const idMap = this.ids.get(kind) ?? new Map<string, string>();
    for (const id of ids) if (id && !idMap.has(id)) idMap.set(id, e.key);
    this.ids.set(kind, idMap);
    if (e.urn) {
      const urnMap = this.urns.get(kind) ?? new Map<string, string>();
      if (!urnMap.has(e.urn)) urnMap.set(e.urn, e.key);
      this.urns.set(kind, urnMap);
    }
  }

  /** The entity outside the stack with this id, created on first mention. */
  private outside(kind: Kind, id: string): string {
    const key = `id:${id}`;
    const m = this.mapOf(kind);
    if (!m.has(key)) {
      const base = { key, origin: "outside" as const, id, name: id };
      const e =
        kind === "group"
          ? { ...base, kind: "outside", rules: [] }
          : kind === "acl"
            ? { ...base, kind: "outside", rules: [] }
            : kind === "table"
              ? { ...base, kind: "outside", routes: [], propagatingVgws: [] }
              : kind === "prefix-list"
                ? { ...base, entries: [] }
                : kind === "vpc"
                  ? { ...base, cidrs: [] }
                  : kind === "attachment"
                    ? { ...base, kind: "network-interface", groups: [], eniIds: [id] }
                    : base;
      this.register(kind, e as EntityBase);
    }
    return key;
  }

  private byId(kind: Kind, id: string): string | undefined {
    return this.ids.get(kind)?.get(id);
  }

  /** The entity of `kind` a dependency URN stands for, directly or as the default of a VPC. */
  private byDependency(kind: Kind, urn: string): { key: string; viaVpc: boolean } | undefined {
    const direct = this.urns.get(kind)?.get(urn);
    if (direct) return { key: direct, viaVpc: false };
    const vpcKey = this.urns.get("vpc")?.get(urn);
    if (vpcKey && (kind === "table" || kind === "acl" || kind === "group")) {
      const d = this.vpcDefaults.get(vpcKey);
      const key = kind === "table" ? this.mainTableKey(vpcKey) : kind === "acl" ? d?.acl : d?.group;
      if (key) return { key, viaVpc: true };
    }
    return undefined;
  }

  private mainTableKey(vpcKey: string): string | undefined {
    const main = this.mainTables.get(vpcKey);
    return typeof main === "string" ? main : this.vpcDefaults.get(vpcKey)?.table;
  }

  private describe(r: FlowResource, field: string): string {
    return `${r.name}.${field}`;
  }

  /** One link property (see the module comment for the order). Undefined when the property is not set. */
  link(r: FlowResource, field: string, kind: Kind, value: unknown = get(r.props, field)): Link | undefined {
    if (typeof value === "string" && value !== "") return this.byId(kind, value) ?? this.outside(kind, value);
    const deps = dependencyUrns(r, field)
      .map((u) => this.byDependency(kind, u))
      .filter((x): x is { key: string; viaVpc: boolean } => x !== undefined);
    if (value !== UNKNOWN && deps.length === 0) return undefined;
    const direct = deps.filter((d) => !d.viaVpc);
    const chosen = direct.length > 0 ? direct : deps;
    const keys = [...new Set(chosen.map((d) => d.key))];
    if (keys.length === 1) return keys[0];
    const why =
      keys.length === 0
        ? `${this.describe(r, field)} is not known until the update runs and depends on no ${kind} of the stack`
        : `${this.describe(r, field)} is not known until the update runs and could be any of ${keys.length} resources it depends on`;
    this.issue({ kind: "unresolved", message: why, urn: r.urn, subjects: [r.name, r.urn] });
    return { unresolved: why };
  }

  /** A list of links; unknown elements take the dependencies no known element names. */
  links(r: FlowResource, field: string, kind: Kind, match?: (text: string) => Link | undefined): Link[] | undefined {
    const values = strings(r.props, field);
    if (values === undefined) return undefined;
    const deps = [
      ...new Set(
        dependencyUrns(r, field)
          .map((u) => this.byDependency(kind, u)?.key)
          .filter((k): k is string => k !== undefined),
      ),
    ];
    if (values === UNKNOWN) {
      if (deps.length > 0) return deps;
      const why = `${this.describe(r, field)} is not known until the update runs and depends on no ${kind} of the stack`;
      this.issue({ kind: "unresolved", message: why, urn: r.urn, subjects: [r.name, r.urn] });
      return [{ unresolved: why }];
    }
    const known: Link[] = [];
    let unknownCount = 0;
    for (const v of values) {
      if (v === UNKNOWN) unknownCount++;
      else known.push(match?.(v) ?? this.link(r, field, kind, v)!);
    }
    if (unknownCount === 0) return known;
    const pool = deps.filter((k) => !known.includes(k));
    if (pool.length === unknownCount) return [...known, ...pool];
    const why =
      pool.length === 0
        ? `${unknownCount} element(s) of ${this.describe(r, field)} are not known until the update runs and depend on no ${kind} of the stack`
        : `${unknownCount} element(s) of ${this.describe(r, field)} are not known until the update runs; ${pool.length} ${kind} resources of the stack could be them`;
    this.issue({ kind: "unresolved", message: why, urn: r.urn, subjects: [r.name, r.urn] });
    return [...known, ...Array.from({ length: unknownCount }, () => ({ unresolved: why }))];
  }

  issue(i: ModelIssue): void {
    if (!this.issues.some((x) => x.kind === i.kind && x.message === i.message)) this.issues.push(i);
  }

  ofType(type: string): FlowResource[] {
    return this.resources.filter((r) => r.type === type);
  }
}

export function buildNetworkModel(resources: readonly FlowResource[], options: ModelOptions = {}): NetworkModel {
  const b = new Builder(resources);
  vpcs(b);
  containers(b);
  defaults(b);
  localRoutes(b);
  groupRules(b);
  aclRules(b);
  routes(b);
  prefixListEntries(b);
  attachments(b);
  associations(b);
  ruleNumberClashes(b, options);
  invalidValues(b);
  return {
    resources,
    vpcs: b.vpcs,
    subnets: b.subnets,
    groups: b.groups,
    acls: b.acls,
    tables: b.tables,
    prefixLists: b.prefixLists,
    attachments: b.attachments,
    subnetAcls: b.subnetAcls,
    subnetTables: b.subnetTables,
    mainTables: b.mainTables,
    vpcDefaults: b.vpcDefaults,
    issues: b.issues,
  };
}

// ---------------------------------------------------------------------------
// VPCs and the defaults AWS creates with them

const LOCAL_TARGET: RouteTarget = { kind: "local", id: "local" };
const ALLOW_ALL_NACL = (acl: string, direction: Direction): NaclRule => ({
  acl,
  direction,
  number: 100,
  action: "allow",
  protocol: ALL,
  ports: PORTS_ALL,
  block: parseIpv4Cidr("0.0.0.0/0")!,
  origin: "aws-default",
});

function vpcs(b: Builder): void {
  for (const r of b.ofType(T.vpc)) {
    const cidr = str(r.props, "cidrBlock");
    const block = typeof cidr === "string" ? parseIpv4Cidr(cidr) : undefined;
    b.register("vpc", { key: r.urn, origin: "stack", urn: r.urn, id: ownIdOf(r), name: r.name, cidrs: block ? [block] : [] } as VpcEntity);
  }
  for (const r of b.ofType(T.vpcCidrAssociation)) {
    const vpc = b.link(r, "vpcId", "vpc");
    const cidr = str(r.props, "cidrBlock");
    const block = typeof cidr === "string" ? parseIpv4Cidr(cidr) : undefined;
    if (isResolved(vpc) && block) b.vpcs.get(vpc)?.cidrs.push(block);
  }
}

/**
 * The defaults of each VPC: adopted by a Default* resource of the stack, or
 * as AWS created them. Registered after the stack's own tables so that a
 * `mainRouteTableId` naming a table of the stack (after a
 * MainRouteTableAssociation) keeps pointing at that table.
 */
function defaults(b: Builder): void {
  // The adopted defaults first: they replace what AWS created with the VPC.
  const adopted = (type: string, kind: Kind, idField: string, vpcIdField = "vpcId") =>
    b.ofType(type).map((r) => {
      const idProp = str(r.props, idField);
      const id = ownIdOf(r) ?? (typeof idProp === "string" ? idProp : undefined);
      let vpc = b.link(r, vpcIdField, "vpc");
      // DefaultRouteTable/DefaultNetworkAcl name the VPC through the default's id in a preview.
      if (!isResolved(vpc)) {
        const viaDefault = dependencyUrns(r, idField).find((u) => b.byUrn.get(u)?.type === T.vpc);
        if (viaDefault) vpc = viaDefault;
        else if (typeof idProp === "string") {
          const owner = b.ofType(T.vpc).find((v) => Object.values(defaultIds(v)).includes(idProp));
          if (owner) vpc = owner.urn;
        }
      }
      return { r, kind, id, vpc };
    });
  const defaults = [
    ...adopted(T.defaultSecurityGroup, "group", "id"),
    ...adopted(T.defaultNetworkAcl, "acl", "defaultNetworkAclId"),
    ...adopted(T.defaultRouteTable, "table", "defaultRouteTableId"),
  ];
  for (const d of defaults) {
    const base = { key: d.r.urn, origin: "stack" as const, urn: d.r.urn, id: d.id, name: d.r.name, vpc: d.vpc };
    if (d.kind === "group")
      b.register("group", { ...base, kind: "default-security-group", groupName: "default", rules: [] } as GroupEntity);
    if (d.kind === "acl") b.register("acl", { ...base, kind: "default-network-acl", rules: [] } as AclEntity);
    if (d.kind === "table") {
      const vgws = strings(d.r.props, "propagatingVgws");
      b.register("table", {
        ...base,
        kind: "default-route-table",
        routes: [],
        propagatingVgws: Array.isArray(vgws) ? vgws.map((v) => (v === UNKNOWN ? "(known after apply)" : v)) : [],
      } as TableEntity);
    }
    if (isResolved(d.vpc)) {
      const entry = b.vpcDefaults.get(d.vpc) ?? {};
      b.vpcDefaults.set(d.vpc, { ...entry, [d.kind]: d.r.urn });
    }
  }
  // What AWS created with each VPC of the stack and no adopted default replaces.
  for (const r of b.ofType(T.vpc)) {
    const ids = defaultIds(r);
    const entry = b.vpcDefaults.get(r.urn) ?? {};
    const implicit = (suffix: string) => ({
      key: `${r.urn}#${suffix}`,
      origin: "implicit" as const,
      name: `${r.name} ${suffix}`,
      vpc: r.urn,
    });
    if (!entry.table) {
      const e: TableEntity = {
        ...implicit("main-route-table"),
        id: ids.defaultRouteTableId,
        kind: "vpc-default",
        routes: [],
        propagatingVgws: [],
      };
      b.register("table", e, [ids.defaultRouteTableId, ids.mainRouteTableId]);
      entry.table = e.key;
    }
    if (!entry.acl) {
      const e: AclEntity = { ...implicit("default-network-acl"), id: ids.defaultNetworkAclId, kind: "vpc-default", rules: [] };
      e.rules = [ALLOW_ALL_NACL(e.key, "egress"), ALLOW_ALL_NACL(e.key, "ingress")];
      b.register("acl", e);
      entry.acl = e.key;
    }
    if (!entry.group) {
      const e: GroupEntity = {
        ...implicit("default-security-group"),
        id: ids.defaultSecurityGroupId,
        kind: "vpc-default",
        groupName: "default",
        rules: [],
      };
      e.rules = [
        {
          group: e.key,
          direction: "egress",
          protocol: ALL,
          ports: PORTS_ALL,
          dest: { kind: "cidr", block: parseIpv4Cidr("0.0.0.0/0")! },
          origin: "aws-default",
          label: "default outbound rule",
        },
      ];
      b.register("group", e);
      entry.group = e.key;
    }
    b.vpcDefaults.set(r.urn, entry);
  }
  // The adopted defaults answer to the VPC's default ids too.
  for (const r of b.ofType(T.vpc)) {
    const ids = defaultIds(r);
    const entry = b.vpcDefaults.get(r.urn)!;
    if (entry.table) b.register("table", b.tables.get(entry.table)!, [ids.defaultRouteTableId, ids.mainRouteTableId]);
    if (entry.acl) b.register("acl", b.acls.get(entry.acl)!, [ids.defaultNetworkAclId]);
    if (entry.group) b.register("group", b.groups.get(entry.group)!, [ids.defaultSecurityGroupId]);
  }
}

/** Every route table of a VPC of the stack holds the local route for the VPC's CIDR. */
function localRoutes(b: Builder): void {
  for (const t of b.tables.values()) {
    const vpc = isResolved(t.vpc) ? b.vpcs.get(t.vpc) : undefined;
    for (const block of vpc?.cidrs ?? []) {
      t.routes.push({
        table: t.key,
        dest: { kind: "cidr", block },
        target: LOCAL_TARGET,
        origin: "local",
        propagated: false,
        blackhole: false,
      });
    }
  }
}

function defaultIds(r: FlowResource): Record<string, string | undefined> {
  const s = (k: string) => {
    const v = str(r.props, k);
    return typeof v === "string" ? v : undefined;
  };
  return {
    mainRouteTableId: s("mainRouteTableId"),
    defaultRouteTableId: s("defaultRouteTableId"),
    defaultNetworkAclId: s("defaultNetworkAclId"),
    defaultSecurityGroupId: s("defaultSecurityGroupId"),
  };
}

/** Subnets, groups, ACLs, tables and prefix lists the stack creates. */
function containers(b: Builder): void {
  for (const r of b.ofType(T.subnet)) {
    const cidr = str(r.props, "cidrBlock");
    b.register("subnet", {
      key: r.urn,
      origin: "stack",
      urn: r.urn,
      id: ownIdOf(r),
      name: r.name,
      vpc: b.link(r, "vpcId", "vpc"),
      cidr: typeof cidr === "string" ? parseIpv4Cidr(cidr) : undefined,
    } as SubnetEntity);
  }
  for (const r of b.ofType(T.securityGroup)) {
    const groupName = str(r.props, "name");
    b.register("group", {
      key: r.urn,
      origin: "stack",
      urn: r.urn,
      id: ownIdOf(r),
      name: r.name,
      kind: "security-group",
      vpc: b.link(r, "vpcId", "vpc"),
      groupName: typeof groupName === "string" ? groupName : undefined,
      rules: [],
    } as GroupEntity);
  }
  for (const r of b.ofType(T.networkAcl)) {
    b.register("acl", {
      key: r.urn,
      origin: "stack",
      urn: r.urn,
      id: ownIdOf(r),
      name: r.name,
      kind: "network-acl",
      vpc: b.link(r, "vpcId", "vpc"),
      rules: [],
    } as AclEntity);
  }
  for (const r of b.ofType(T.routeTable)) {
    const vgws = strings(r.props, "propagatingVgws");
    b.register("table", {
      key: r.urn,
      origin: "stack",
      urn: r.urn,
      id: ownIdOf(r),
      name: r.name,
      kind: "route-table",
      vpc: b.link(r, "vpcId", "vpc"),
      routes: [],
      propagatingVgws: Array.isArray(vgws) ? vgws.map((v) => (v === UNKNOWN ? "(known after apply)" : v)) : [],
    } as TableEntity);
  }
  for (const r of b.ofType(T.prefixList)) {
    b.register("prefix-list", { key: r.urn, origin: "stack", urn: r.urn, id: ownIdOf(r), name: r.name, entries: [] } as PrefixListEntity);
  }
}

// ---------------------------------------------------------------------------
// Security-group rules

function sgPorts(protocol: Maybe<number>, from: Maybe<number>, to: Maybe<number>): Interval | Unknown {
  if (protocol === UNKNOWN) return UNKNOWN;
  // "-1" means every protocol and every port, whatever fromPort/toPort say (provider docs, SecurityGroupRule).
  if (protocol === undefined || protocol === ALL || !hasPorts(protocol)) return PORTS_ALL;
  if (from === UNKNOWN || to === UNKNOWN) return UNKNOWN;
  if (from === undefined || to === undefined) return PORTS_ALL;
  return { lo: Math.max(0, from), hi: Math.min(65535, to) };
}

function cidrDest(text: string): SgDest {
  if (isIpv6Text(text)) return { kind: "ipv6", text };
  const block = parseIpv4Cidr(text);
  return block ? { kind: "cidr", block } : { kind: "invalid", text };
}

/**
 * The destinations (egress) or sources (ingress) of an inline block or a
 * legacy rule. `depField` is the top-level property whose dependencies say
 * what an unknown prefix-list id will be (`prefixListIds` on a rule, the
 * whole `egress`/`ingress` list for an inline block).
 */
function blockDests(b: Builder, r: FlowResource, block: unknown, depField: string): SgDest[] {
  const out: SgDest[] = [];
  for (const field of ["cidrBlocks", "ipv6CidrBlocks"]) {
    const l = strings(block, field);
    if (l === UNKNOWN) out.push({ kind: "unknown", text: `${field} (known after apply)` });
    else for (const c of l ?? []) out.push(c === UNKNOWN ? { kind: "unknown", text: `${field} element (known after apply)` } : cidrDest(c));
  }
  const pls = strings(block, "prefixListIds");
  const plItems: (string | Unknown)[] = pls === UNKNOWN ? [UNKNOWN] : (pls ?? []);
  for (const p of plItems) {
    const l = b.link(r, p === UNKNOWN ? depField : "prefixListIds", "prefix-list", p)!;
    out.push({ kind: "prefix-list", list: l, text: p === UNKNOWN ? "a prefix list (known after apply)" : p });
  }
  const sgs = strings(block, "securityGroups");
  if (sgs === UNKNOWN || (Array.isArray(sgs) && sgs.length > 0)) out.push({ kind: "group", text: "security groups" });
  if (bool(block, "self") === true) out.push({ kind: "group", text: "the group itself" });
  const source = str(block, "sourceSecurityGroupId");
  if (source !== undefined) out.push({ kind: "group", text: typeof source === "string" ? source : "a security group" });
  return out;
}

function sameSgRule(a: SgRule, b: SgRule): boolean {
  if (a.direction !== b.direction || a.protocol !== b.protocol) return false;
  if (a.protocol !== ALL && JSON.stringify(a.ports) !== JSON.stringify(b.ports)) return false;
  return destText(a.dest) === destText(b.dest);
}

export function destText(d: SgDest | RouteDest): string {
  return d.kind === "cidr" ? d.block.cidr : d.text;
}

function groupRules(b: Builder): void {
  const standalone: SgRule[] = [];
  const addTo = (link: Link | undefined, rule: SgRule) => {
    if (isResolved(link)) b.groups.get(link)?.rules.push(rule);
  };
  for (const r of [...b.ofType(T.egressRule), ...b.ofType(T.ingressRule)]) {
    const direction: Direction = r.type === T.egressRule ? "egress" : "ingress";
    const group = b.link(r, "securityGroupId", "group") ?? { unresolved: `${r.name} names no security group` };
    const protocol = protocolOf(get(r.props, "ipProtocol"));
    const dests: SgDest[] = [];
    const v4 = str(r.props, "cidrIpv4");
    const v6 = str(r.props, "cidrIpv6");
    const pl = str(r.props, "prefixListId");
    const ref = str(r.props, "referencedSecurityGroupId");
    if (v4 === UNKNOWN) dests.push({ kind: "unknown", text: "cidrIpv4 (known after apply)" });
    else if (v4) dests.push(cidrDest(v4));
    if (v6 !== undefined) dests.push({ kind: "ipv6", text: v6 === UNKNOWN ? "cidrIpv6" : v6 });
    if (pl !== undefined)
      dests.push({
        kind: "prefix-list",
        list: b.link(r, "prefixListId", "prefix-list")!,
        text: pl === UNKNOWN ? "a prefix list (known after apply)" : pl,
      });
    if (ref !== undefined) dests.push({ kind: "group", text: ref === UNKNOWN ? "a security group" : ref });
    const ports = sgPorts(protocol, num(r.props, "fromPort"), num(r.props, "toPort"));
    const description = str(r.props, "description");
    for (const dest of dests) {
      const rule: SgRule = { group, direction, protocol, ports, dest, origin: "rule", label: r.name, description, urn: r.urn };
      standalone.push(rule);
      addTo(group, rule);
    }
  }
  for (const r of b.ofType(T.legacyRule)) {
    const kind = str(r.props, "type");
    if (kind !== "egress" && kind !== "ingress") continue;
    const group = b.link(r, "securityGroupId", "group") ?? { unresolved: `${r.name} names no security group` };
    const protocol = protocolOf(get(r.props, "protocol"));
    const ports = sgPorts(protocol, num(r.props, "fromPort"), num(r.props, "toPort"));
    const description = str(r.props, "description");
    for (const dest of blockDests(b, r, r.props, "prefixListIds")) {
      const rule: SgRule = { group, direction: kind, protocol, ports, dest, origin: "legacy-rule", label: r.name, description, urn: r.urn };
      standalone.push(rule);
      addTo(group, rule);
    }
  }
  for (const r of [...b.ofType(T.securityGroup), ...b.ofType(T.defaultSecurityGroup)]) {
    const g = b.groups.get(r.urn)!;
    const adopted = r.type === T.defaultSecurityGroup;
    const mine = standalone.filter((s) => s.group === g.key);
    for (const direction of ["egress", "ingress"] as const) {
      const declared = r.inputs ? has(r.inputs, direction) : undefined;
      const inline = blocksOf(b, r, direction, r.inputs ?? r.props, "inline");
      // Without inputs the props are the program's blocks (a preview) or the provider's read-back (state): only a block that mirrors no rule resource is counted.
      const state = r.inputs ? blocksOf(b, r, direction, r.props, "read-back") : [];
      const declaredRules = r.inputs ? inline : inline.filter((i) => !mine.some((s) => sameSgRule(s, i)));
      const readBack = state.filter((s) => ![...mine, ...declaredRules].some((x) => sameSgRule(x, s)));
      g.rules.push(...declaredRules, ...readBack);
      const separate = mine.filter((s) => s.direction === direction);
      const mixes = declared === true || (declared === undefined && declaredRules.length > 0);
      if ((mixes || adopted) && separate.length > 0) {
        const names = [...new Set(separate.map((s) => s.label))];
        const what = adopted
          ? `${r.name} is a DefaultSecurityGroup, whose inline rules are absolute; the provider documents it as incompatible with separate rule resources, yet ${names.join(", ")} add ${direction} rules to it`
          : `${r.name} manages its ${direction} rules inline (${declaredRules.length === 0 ? `an explicit empty \`${direction}: []\`, which removes every ${direction} rule` : `${declaredRules.length} inline block(s)`}) and ${names.join(", ")} add ${direction} rules to it as separate resources; the provider overwrites one with the other`;
        b.issue({
          kind: "conflict",
          entity: g.key,
          message: what,
          urn: r.urn,
          subjects: [r.name, r.urn, ...(g.id ? [g.id] : []), ...names],
        });
      }
    }
  }
}

function blocksOf(b: Builder, r: FlowResource, direction: Direction, source: unknown, origin: "inline" | "read-back"): SgRule[] {
  const blocks = list(source, direction);
  if (blocks === undefined) return [];
  if (blocks === UNKNOWN) {
    return [
      {
        group: r.urn,
        direction,
        protocol: UNKNOWN,
        ports: UNKNOWN,
        dest: { kind: "unknown", text: `${direction} blocks (known after apply)` },
        origin,
        label: `${origin} ${direction}`,
        urn: r.urn,
      },
    ];
  }
  return blocks.flatMap((block, i) => {
    const protocol = protocolOf(get(block, "protocol"));
    const ports = sgPorts(protocol, num(block, "fromPort"), num(block, "toPort"));
    const label = origin === "inline" ? `inline ${direction}[${i}]` : "rule read back from AWS";
    const description = str(block, "description");
    return blockDests(b, r, block, direction).map(
      (dest) => ({ group: r.urn, direction, protocol, ports, dest, origin, label, description, urn: r.urn }) as SgRule,
    );
  });
}

// ---------------------------------------------------------------------------
// Network ACL rules

function naclPorts(protocol: number | Unknown, from: Maybe<number>, to: Maybe<number>): Interval | Unknown {
  if (protocol === UNKNOWN) return UNKNOWN;
  // Provider docs (NetworkAclRule): with protocol -1 or "all", fromPort and toPort are ignored and the rule applies to all ports.
  if (protocol === ALL || !hasPorts(protocol)) return PORTS_ALL;
  if (from === UNKNOWN || to === UNKNOWN) return UNKNOWN;
  return { lo: Math.max(0, from ?? 0), hi: Math.min(65535, to ?? 65535) };
}

function naclRuleFrom(
  acl: Link,
  direction: Direction,
  obj: unknown,
  fields: { number: string; action: string },
  origin: NaclRule["origin"],
  r: FlowResource,
): NaclRule {
  const n = num(obj, fields.number);
  const a = str(obj, fields.action);
  const p = protocolOf(get(obj, "protocol"));
  const protocol: number | Unknown = p === undefined ? UNKNOWN : p;
  const cidr = str(obj, "cidrBlock");
  const v6 = str(obj, "ipv6CidrBlock");
  const block: NaclRule["block"] =
    cidr === UNKNOWN ? UNKNOWN : typeof cidr === "string" ? (parseIpv4Cidr(cidr) ?? "invalid") : v6 !== undefined ? "ipv6" : UNKNOWN;
  return {
    acl,
    direction,
    number: typeof n === "number" ? n : UNKNOWN,
    action: a === "allow" || a === "deny" ? a : UNKNOWN,
    protocol,
    ports: naclPorts(protocol, num(obj, "fromPort"), num(obj, "toPort")),
    block,
    origin,
    urn: r.urn,
    resourceName: r.name,
  };
}

function sameNaclRule(a: NaclRule, b: NaclRule): boolean {
  const blockText = (x: NaclRule["block"]) => (typeof x === "object" ? x.cidr : String(x));
  return (
    a.direction === b.direction &&
    a.number === b.number &&
    a.action === b.action &&
    a.protocol === b.protocol &&
    blockText(a.block) === blockText(b.block) &&
    (a.protocol === ALL || JSON.stringify(a.ports) === JSON.stringify(b.ports))
  );
}

function aclRules(b: Builder): void {
  const standalone: NaclRule[] = [];
  for (const r of b.ofType(T.networkAclRule)) {
    const acl = b.link(r, "networkAclId", "acl") ?? { unresolved: `${r.name} names no network ACL` };
    const egress = bool(r.props, "egress");
    const rule = naclRuleFrom(
      acl,
      egress === true ? "egress" : "ingress",
      r.props,
      { number: "ruleNumber", action: "ruleAction" },
      "rule",
      r,
    );
    standalone.push(rule);
    if (isResolved(acl)) b.acls.get(acl)?.rules.push(rule);
  }
  for (const r of [...b.ofType(T.networkAcl), ...b.ofType(T.defaultNetworkAcl)]) {
    const acl = b.acls.get(r.urn)!;
    const mine = standalone.filter((s) => s.acl === acl.key);
    const adopted = r.type === T.defaultNetworkAcl;
    let declaredAny = false;
    for (const direction of ["egress", "ingress"] as const) {
      const read = (source: unknown, origin: NaclRule["origin"]) => {
        const blocks = list(source, direction);
        if (blocks === UNKNOWN) {
          return [naclRuleFrom(acl.key, direction, {}, { number: "ruleNo", action: "action" }, origin, r)];
        }
        return (blocks ?? []).map((x) => naclRuleFrom(acl.key, direction, x, { number: "ruleNo", action: "action" }, origin, r));
      };
      const declared = r.inputs ? has(r.inputs, direction) : undefined;
      const inline = read(r.inputs ?? r.props, "inline");
      const state = r.inputs ? read(r.props, "read-back") : [];
      const declaredRules = r.inputs ? inline : inline.filter((i) => !mine.some((s) => sameNaclRule(s, i)));
      const readBack = state.filter((s) => ![...mine, ...declaredRules].some((x) => sameNaclRule(x, s)));
      acl.rules.push(...declaredRules, ...readBack);
      if (declared === true || (declared === undefined && declaredRules.length > 0)) declaredAny = true;
    }
    if ((declaredAny || adopted) && mine.length > 0) {
      const names = [...new Set(mine.map((s) => s.resourceName!))];
      const what = adopted
        ? `${r.name} is a DefaultNetworkAcl, whose inline rules are absolute; the provider documents it as incompatible with NetworkAclRule resources, yet ${names.join(", ")} add rules to it`
        : `${r.name} declares its rules inline and ${names.join(", ")} add rules to it as NetworkAclRule resources; the provider overwrites one with the other`;
      b.issue({
        kind: "conflict",
        entity: acl.key,
        message: what,
        urn: r.urn,
        subjects: [r.name, r.urn, ...(acl.id ? [acl.id] : []), ...names],
      });
    }
  }
}

// ---------------------------------------------------------------------------
// Routes

const KIND_OF_TARGET_TYPE: Record<string, TargetKind> = {
  [T.internetGateway]: "internet-gateway",
  [T.vpnGateway]: "virtual-private-gateway",
  [T.natGateway]: "nat-gateway",
  [T.transitGateway]: "transit-gateway",
  [T.peeringConnection]: "vpc-peering",
  [T.networkInterface]: "network-interface",
  [T.instance]: "instance",
};

function routeTarget(
  b: { byUrn: ReadonlyMap<string, FlowResource> },
  r: FlowResource,
  route: unknown,
  depsField = (f: string) => f,
): RouteTarget {
  for (const { field, kind } of ROUTE_TARGET_FIELDS) {
    const v = str(route, field);
    if (v === undefined) continue;
    if (v === "local") return LOCAL_TARGET;
    if (v !== UNKNOWN) return { kind: routeTargetKindOf(field, v), id: v };
    // Known after apply: the field names the kind, except gatewayId, which the resource it depends on names.
    const dep = dependencyUrns(r, depsField(field))
      .map((u) => b.byUrn.get(u))
      .flatMap((x) => {
        const depKind = x === undefined ? undefined : KIND_OF_TARGET_TYPE[x.type];
        return x !== undefined && depKind !== undefined && (kind === "unknown" || depKind === kind)
          ? [{ name: x.name, kind: depKind }]
          : [];
      })[0];
    return { kind: dep?.kind ?? kind, id: dep ? dep.name : `${field} (known after apply)` };
  }
  return { kind: "unknown", id: "no target" };
}

function routeDest(b: Builder, r: FlowResource, route: unknown, fields: { v4: string; v6: string; pl: string }): RouteDest {
  const v4 = str(route, fields.v4);
  if (v4 === UNKNOWN) return { kind: "unknown", text: `${fields.v4} (known after apply)` };
  if (typeof v4 === "string") {
    const block = parseIpv4Cidr(v4);
    return block ? { kind: "cidr", block } : { kind: "invalid", text: v4 };
  }
  const pl = str(route, fields.pl);
  if (pl !== undefined) {
    return {
      kind: "prefix-list",
      list: b.link(r, fields.pl, "prefix-list", pl)!,
      text: pl === UNKNOWN ? "a prefix list (known after apply)" : pl,
    };
  }
  const v6 = str(route, fields.v6);
  if (v6 !== undefined) return { kind: "ipv6", text: v6 === UNKNOWN ? "an IPv6 block" : v6 };
  return { kind: "unknown", text: "no destination" };
}

function sameRoute(a: RouteEntry, b: RouteEntry): boolean {
  return destText(a.dest) === destText(b.dest);
}

function routes(b: Builder): void {
  const standalone: RouteEntry[] = [];
  for (const r of b.ofType(T.route)) {
    const table = b.link(r, "routeTableId", "table") ?? { unresolved: `${r.name} names no route table` };
    const state = str(r.props, "state");
    const origin = str(r.props, "origin");
    const entry: RouteEntry = {
      table,
      dest: routeDest(b, r, r.props, { v4: "destinationCidrBlock", v6: "destinationIpv6CidrBlock", pl: "destinationPrefixListId" }),
      target: routeTarget(b, r, r.props),
      origin: "route",
      propagated: origin === "EnableVgwRoutePropagation",
      blackhole: state === "blackhole",
      urn: r.urn,
      resourceName: r.name,
    };
    standalone.push(entry);
    if (isResolved(table)) b.tables.get(table)?.routes.push(entry);
  }
  for (const r of b.ofType(T.vgwRoutePropagation)) {
    const table = b.link(r, "routeTableId", "table");
    const vgw = str(r.props, "vpnGatewayId");
    const t = isResolved(table) ? b.tables.get(table) : undefined;
    if (t) t.propagatingVgws.push(typeof vgw === "string" ? vgw : r.name);
  }
  for (const r of [...b.ofType(T.routeTable), ...b.ofType(T.defaultRouteTable)]) {
    const table = b.tables.get(r.urn)!;
    const mine = standalone.filter((s) => s.table === table.key);
    const read = (source: unknown, origin: RouteEntry["origin"]): RouteEntry[] => {
      const l = list(source, "routes");
      if (l === UNKNOWN) {
        return [
          {
            table: table.key,
            dest: { kind: "unknown", text: "routes (known after apply)" },
            target: { kind: "unknown", id: "routes (known after apply)" },
            origin,
            propagated: false,
            blackhole: false,
            urn: r.urn,
            resourceName: r.name,
          },
        ];
      }
      return (l ?? []).map((x) => ({
        table: table.key,
        dest: routeDest(b, r, x, { v4: "cidrBlock", v6: "ipv6CidrBlock", pl: "destinationPrefixListId" }),
        target: routeTarget(b, r, x, () => "routes"),
        origin,
        propagated: false,
        blackhole: false,
        urn: r.urn,
        resourceName: r.name,
      }));
    };
    const declared = r.inputs ? has(r.inputs, "routes") : undefined;
    const inline = read(r.inputs ?? r.props, "inline");
    const state = r.inputs ? read(r.props, "read-back") : [];
    const declaredRoutes = r.inputs ? inline : inline.filter((i) => !mine.some((s) => sameRoute(s, i)));
    const readBack = state.filter((s) => ![...mine, ...declaredRoutes].some((x) => sameRoute(x, s)));
    table.routes.push(...declaredRoutes, ...readBack);
    if ((declared === true || (declared === undefined && declaredRoutes.length > 0)) && mine.length > 0) {
      const names = [...new Set(mine.map((s) => s.resourceName!))];
      b.issue({
        kind: "conflict",
        entity: table.key,
        message: `${r.name} declares its routes inline and ${names.join(", ")} add routes to it as Route resources; the provider overwrites one with the other`,
        urn: r.urn,
        subjects: [r.name, r.urn, ...(table.id ? [table.id] : []), ...names],
      });
    }
  }
}

// ---------------------------------------------------------------------------
// Prefix lists

function prefixListEntries(b: Builder): void {
  const separate = new Map<string, string[]>();
  for (const r of b.ofType(T.prefixListEntry)) {
    const pl = b.link(r, "prefixListId", "prefix-list");
    const cidr = str(r.props, "cidr");
    const block = typeof cidr === "string" ? parseIpv4Cidr(cidr) : undefined;
    if (!isResolved(pl)) continue;
    const e = b.prefixLists.get(pl);
    if (e && block && !e.entries.some((x) => x.cidr === block.cidr)) e.entries.push(block);
    separate.set(pl, [...(separate.get(pl) ?? []), r.name]);
  }
  for (const r of b.ofType(T.prefixList)) {
    const e = b.prefixLists.get(r.urn)!;
    const blocks = list(r.props, "entries");
    for (const x of Array.isArray(blocks) ? blocks : []) {
      const cidr = str(x, "cidr");
      const block = typeof cidr === "string" ? parseIpv4Cidr(cidr) : undefined;
      if (block && !e.entries.some((y) => y.cidr === block.cidr)) e.entries.push(block);
    }
    const declared = r.inputs ? has(r.inputs, "entries") : undefined;
    const names = separate.get(r.urn) ?? [];
    if (declared === true && names.length > 0) {
      b.issue({
        kind: "conflict",
        entity: e.key,
        message: `${r.name} declares its entries inline and ${names.join(", ")} add entries to it as ManagedPrefixListEntry resources; the provider overwrites one with the other`,
        urn: r.urn,
        subjects: [r.name, r.urn, ...(e.id ? [e.id] : []), ...names],
      });
    }
  }
}

// ---------------------------------------------------------------------------
// Interfaces, instances and the groups on them

function uniqueLinks(links: readonly Link[]): Link[] {
  const seen = new Set<string>();
  return links.filter((l) => {
    const k = isResolved(l) ? l : `?${l.unresolved}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function attachments(b: Builder): void {
  const byName = (name: string) => [...b.groups.values()].find((g) => g.groupName === name)?.key;
  for (const r of b.ofType(T.networkInterface)) {
    const id = ownIdOf(r);
    const privateIp = str(r.props, "privateIp");
    b.register("attachment", {
      key: r.urn,
      origin: "stack",
      urn: r.urn,
      id,
      name: r.name,
      kind: "network-interface",
      subnet: b.link(r, "subnetId", "subnet"),
      groups: b.links(r, "securityGroups", "group") ?? [],
      eniIds: id ? [id] : [],
      privateIp: typeof privateIp === "string" ? privateIp : undefined,
    } as AttachmentEntity);
  }
  for (const r of b.ofType(T.instance)) {
    const id = ownIdOf(r);
    const primary = str(r.props, "primaryNetworkInterfaceId");
    const interfaces = list(r.props, "networkInterfaces");
    const device0 = Array.isArray(interfaces) ? interfaces.find((x) => num(x, "deviceIndex") === 0) : undefined;
    const device0Id = device0 ? str(device0, "networkInterfaceId") : undefined;
    const viaEni =
      typeof device0Id === "string"
        ? [...b.attachments.values()].find((a) => a.eniIds.includes(device0Id))?.key
        : device0Id === UNKNOWN
          ? dependencyUrns(r, "networkInterfaces").find((u) => b.byUrn.get(u)?.type === T.networkInterface)
          : undefined;
    // Instance.securityGroups takes names (EC2-Classic and default VPC) or, as read back, ids.
    const byNameOrId = (text: string): Link | undefined => {
      if (text.startsWith("sg-")) return undefined;
      return byName(text) ?? { unresolved: `${r.name}.securityGroups names a group "${text}" that is not in the stack` };
    };
    const groups = uniqueLinks([
      ...(b.links(r, "vpcSecurityGroupIds", "group") ?? []),
      ...(b.links(r, "securityGroups", "group", byNameOrId) ?? []),
    ]);
    const privateIp = str(r.props, "privateIp");
    b.register("attachment", {
      key: r.urn,
      origin: "stack",
      urn: r.urn,
      id,
      name: r.name,
      kind: "instance",
      subnet: b.link(r, "subnetId", "subnet"),
      groups,
      eniIds: typeof primary === "string" ? [primary] : [],
      primaryInterface: viaEni,
      privateIp: typeof privateIp === "string" ? privateIp : undefined,
    } as AttachmentEntity);
  }
  for (const r of b.ofType(T.sgAttachment)) {
    const group = b.link(r, "securityGroupId", "group");
    const eniId = str(r.props, "networkInterfaceId");
    let target: AttachmentEntity | undefined;
    if (typeof eniId === "string") target = [...b.attachments.values()].find((a) => a.eniIds.includes(eniId));
    if (!target) {
      const dep = dependencyUrns(r, "networkInterfaceId").find((u) => b.attachments.has(u));
      target = dep ? b.attachments.get(dep) : undefined;
    }
    if (!target) {
      const why = `${r.name} attaches a group to ${typeof eniId === "string" ? eniId : "an interface"} that is not in the stack`;
      b.issue({ kind: "unresolved", message: why, urn: r.urn, subjects: [r.name, r.urn] });
      continue;
    }
    if (group && !target.groups.includes(group)) target.groups.push(group);
    const owner = b.byUrn.get(target.key);
    const inlineField = target.kind === "instance" ? "vpcSecurityGroupIds" : "securityGroups";
    if (owner?.inputs && has(owner.inputs, inlineField)) {
      b.issue({
        kind: "conflict",
        entity: target.key,
        message: `${owner.name} lists its groups inline (${inlineField}) and ${r.name} attaches another as a NetworkInterfaceSecurityGroupAttachment; the provider documents the two as conflicting`,
        urn: owner.urn,
        subjects: [owner.name, owner.urn, r.name, ...(target.id ? [target.id] : [])],
      });
    }
  }
}

// ---------------------------------------------------------------------------
// Subnet associations

function associations(b: Builder): void {
  const claimAcl = (subnet: Link | undefined, acl: Link, via: string) => {
    if (!isResolved(subnet)) return;
    b.subnetAcls.set(subnet, [...(b.subnetAcls.get(subnet) ?? []), { acl, via }]);
  };
  const claimTable = (subnet: Link | undefined, table: Link, via: string) => {
    if (!isResolved(subnet)) return;
    b.subnetTables.set(subnet, [...(b.subnetTables.get(subnet) ?? []), { table, via }]);
  };
  for (const r of [...b.ofType(T.networkAcl), ...b.ofType(T.defaultNetworkAcl)]) {
    for (const s of b.links(r, "subnetIds", "subnet") ?? []) claimAcl(s, r.urn, `${r.name}.subnetIds`);
  }
  for (const r of b.ofType(T.networkAclAssociation)) {
    const acl = b.link(r, "networkAclId", "acl");
    if (acl) claimAcl(b.link(r, "subnetId", "subnet"), acl, r.name);
  }
  for (const r of b.ofType(T.routeTableAssociation)) {
    const table = b.link(r, "routeTableId", "table");
    if (table) claimTable(b.link(r, "subnetId", "subnet"), table, r.name);
  }
  for (const r of b.ofType(T.mainRouteTableAssociation)) {
    const vpc = b.link(r, "vpcId", "vpc");
    const table = b.link(r, "routeTableId", "table");
    if (isResolved(vpc) && table) b.mainTables.set(vpc, table);
  }
  const subnetName = (key: string) => b.subnets.get(key)?.id ?? b.subnets.get(key)?.name ?? key;
  for (const [subnet, claims] of b.subnetAcls) {
    const distinct = [...new Set(claims.map((c) => JSON.stringify(c.acl)))];
    if (distinct.length > 1 || claims.length > 1) {
      b.issue({
        kind: "conflict",
        entity: subnet,
        message: `Subnet ${subnetName(subnet)} is associated with a network ACL ${claims.length} times (${claims.map((c) => c.via).join(", ")}); the provider documents that one association overwrites the other`,
        subjects: [subnetName(subnet), ...claims.map((c) => c.via)],
      });
    }
  }
  for (const [subnet, claims] of b.subnetTables) {
    if (claims.length > 1) {
      b.issue({
        kind: "conflict",
        entity: subnet,
        message: `Subnet ${subnetName(subnet)} is associated with a route table ${claims.length} times (${claims.map((c) => c.via).join(", ")}); a subnet has exactly one route table`,
        subjects: [subnetName(subnet), ...claims.map((c) => c.via)],
      });
    }
  }
}

/** Blocks AWS would reject: the update fails, and the rule or route never exists. */
function invalidValues(b: Builder): void {
  const report = (what: string, text: string, urn?: string, name?: string) =>
    b.issue({
      kind: "invalid",
      message: `${what} names "${text}", which is not a canonical IPv4 CIDR (a.b.c.d/n with no host bits); AWS rejects it, so it is left out`,
      urn,
      subjects: [...(name ? [name] : []), ...(urn ? [urn] : []), text],
    });
  for (const g of b.groups.values()) {
    for (const r of g.rules)
      if (r.dest.kind === "invalid") report(`Security-group rule ${r.label} of ${entityLabel(g)}`, r.dest.text, r.urn, r.label);
  }
  for (const a of b.acls.values()) {
    for (const r of a.rules) {
      if (r.block !== "invalid") continue;
      const res = r.urn ? b.byUrn.get(r.urn) : undefined;
      const text = str(r.origin === "rule" ? res?.props : undefined, "cidrBlock");
      report(
        `Network ACL ${entityLabel(a)} ${r.direction} rule #${String(r.number)}`,
        typeof text === "string" ? text : "its cidrBlock",
        r.urn,
        r.resourceName,
      );
    }
  }
  for (const t of b.tables.values()) {
    for (const r of t.routes) if (r.dest.kind === "invalid") report(`A route of ${entityLabel(t)}`, r.dest.text, r.urn, r.resourceName);
  }
}

// ---------------------------------------------------------------------------
// Rule-number clashes

/**
 * A network ACL holds one rule per number and direction; creating a second
 * fails (NetworkAclEntryAlreadyExists). Two declarations of one number, by
 * two rule resources (two component instances on one ACL), an inline block
 * and a rule resource, or a declaration and an existing rule (read back on an
 * ACL of the stack, or listed in `naclRuleNumbersInUse`), clash.
 */
function ruleNumberClashes(b: Builder, options: ModelOptions): void {
  for (const acl of b.acls.values()) {
    if (acl.origin === "implicit") continue;
    const declared = acl.rules.filter((r) => (r.origin === "rule" || r.origin === "inline") && typeof r.number === "number");
    const existing = acl.rules.filter((r) => r.origin === "read-back" && typeof r.number === "number");
    const inUse = acl.id ? (options.naclRuleNumbersInUse?.[acl.id] ?? []) : [];
    for (const direction of ["egress", "ingress"] as const) {
      const numbers = new Set(declared.filter((r) => r.direction === direction).map((r) => r.number as number));
      for (const n of [...numbers].sort((x, y) => x - y)) {
        const mine = declared.filter((r) => r.direction === direction && r.number === n);
        const theirs = existing.filter((r) => r.direction === direction && r.number === n);
        const listed = inUse.includes(n);
        if (mine.length + theirs.length + (listed ? 1 : 0) < 2) continue;
        const who = [
          ...mine.map((r) => (r.origin === "inline" ? `an inline rule of ${r.resourceName}` : r.resourceName!)),
          ...theirs.map(() => "an existing rule read back from AWS"),
          ...(listed ? ["a rule listed in naclRuleNumbersInUse"] : []),
        ];
        b.issue({
          kind: "clash",
          entity: acl.key,
          message: `Network ACL ${entityLabel(acl)} ${direction} rule #${n} is claimed ${who.length} times (${who.join(", ")}); AWS keeps one rule per number and direction, so the update fails or one rule replaces the other`,
          urn: mine.find((r) => r.urn)?.urn,
          subjects: [entityLabel(acl), acl.name, `#${n}`, ...mine.flatMap((r) => [r.resourceName!, r.urn!])],
        });
      }
    }
  }
}
