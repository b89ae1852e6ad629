/**
 * The resource reading the probe placement policy uses: which security
 * groups carry HKEX egress rules (standalone rule resources, the legacy
 * SecurityGroupRule and inline blocks), and which group, table or ACL a
 * resource belongs to. The flow policies read the stack through
 * policies/flows instead.
 *
 * Values can be unknown during `pulumi preview` (the policy SDK throws when
 * one is read) or arrive as the engine's unknown marker in `pulumi preview
 * --json`; `read` turns both into UNKNOWN so a check can skip what it
 * cannot know yet instead of failing the whole policy.
 */
import type { PolicyResource } from "@pulumi/policy";
import { HKEX_SITES, SITE_NAMES } from "../catalogue";
import { AWS_TYPES } from "../infra/awsTypes";
import { blockContains, parseIpv4Block } from "../infra/cidr";

/** The engine's marker for a value that is not known until the update runs (its string form). */
const UNKNOWN_MARKER = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** Every unknown marker of the policy SDK: boolean, number, string, array, asset, archive, object. */
const UNKNOWN_MARKERS = new Set([
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  UNKNOWN_MARKER,
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Maybe<T> = T | typeof UNKNOWN | undefined;

export function read(obj: unknown, key: string): unknown {
  if (obj === null || typeof obj !== "object") return undefined;
  try {
    const value = (obj as Record<string, unknown>)[key];
    return typeof value === "string" && UNKNOWN_MARKERS.has(value) ? UNKNOWN : value;
  } catch (err) {
    if ((err as Error)?.name === "UnknownValueError" || (err as Error)?.constructor?.name === "UnknownValueError") {
      return UNKNOWN;
    }
    throw err;
  }
}

function readString(obj: unknown, key: string): Maybe<string> {
  const v = read(obj, key);
  return v === UNKNOWN || typeof v === "string" ? v : undefined;
}

function readNumber(obj: unknown, key: string): Maybe<number> {
  const v = read(obj, key);
  if (v === UNKNOWN) return UNKNOWN;
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

function readArray(obj: unknown, key: string): unknown[] | typeof UNKNOWN {
  const v = read(obj, key);
  if (v === UNKNOWN) return UNKNOWN;
  if (!Array.isArray(v)) return [];
  const out: unknown[] = [];
  for (let i = 0; i < v.length; i++) out.push(read(v, String(i)));
  return out;
}

function readStrings(obj: unknown, key: string): string[] {
  const list = readArray(obj, key);
  return list === UNKNOWN ? [] : list.filter((x): x is string => typeof x === "string");
}

// ---------------------------------------------------------------------------
// Ranges and traffic

function hkexRanges(): string[] {
  return SITE_NAMES.map((s) => HKEX_SITES[s].range);
}

/** True when the destination lies entirely inside an HKEX range: a rule "for HKEX", not just one that happens to reach it. */
export function isWithinHkex(cidr: string, ranges: readonly string[] = hkexRanges()): boolean {
  const block = parseIpv4Block(cidr);
  return block !== undefined && ranges.some((r) => blockContains(parseIpv4Block(r)!, block));
}

export type Protocol = "tcp" | "udp" | "icmp" | "all" | string;

function normaliseProtocol(p: unknown): Maybe<Protocol> {
  if (p === UNKNOWN) return UNKNOWN;
  if (p === undefined || p === null) return undefined;
  const s = String(p).toLowerCase();
  if (s === "-1" || s === "all") return "all";
  if (s === "6") return "tcp";
  if (s === "17") return "udp";
  if (s === "1") return "icmp";
  return s;
}

export interface Traffic {
  readonly protocol: Maybe<Protocol>;
  readonly fromPort: Maybe<number>;
  readonly toPort: Maybe<number>;
}

// ---------------------------------------------------------------------------
// Security-group rules

export type Direction = "egress" | "ingress";

export interface SgRuleEntry extends Traffic {
  readonly direction: Direction;
  /** "rule" for a rule resource, "inline" for a block inside a SecurityGroup. */
  readonly origin: "rule" | "inline";
  readonly cidr: string;
  readonly description: Maybe<string>;
}

export function isSecurityGroupRuleType(type: string): boolean {
  return type === AWS_TYPES.securityGroupEgressRule || type === AWS_TYPES.securityGroupIngressRule || type === AWS_TYPES.securityGroupRule;
}

/** Every destination/source of a security-group resource as one entry per CIDR. Prefix lists and group references carry no CIDR and are left out. */
export function sgRuleEntries(type: string, props: unknown): SgRuleEntry[] {
  if (type === AWS_TYPES.securityGroupEgressRule || type === AWS_TYPES.securityGroupIngressRule) {
    const direction: Direction = type === AWS_TYPES.securityGroupEgressRule ? "egress" : "ingress";
    const traffic: Traffic = {
      protocol: normaliseProtocol(read(props, "ipProtocol")),
      fromPort: readNumber(props, "fromPort"),
      toPort: readNumber(props, "toPort"),
    };
    const description = readString(props, "description");
    return [readString(props, "cidrIpv4"), readString(props, "cidrIpv6")]
      .filter((c): c is string => typeof c === "string")
      .map((cidr) => ({ direction, origin: "rule", cidr, description, ...traffic }));
  }
  if (type === AWS_TYPES.securityGroupRule) {
    const kind = readString(props, "type");
    if (kind !== "egress" && kind !== "ingress") return [];
    return blockEntries(props, kind, "rule");
  }
  if (type === AWS_TYPES.securityGroup) {
    return (["egress", "ingress"] as const).flatMap((direction) => {
      const blocks = readArray(props, direction);
      return blocks === UNKNOWN ? [] : blocks.flatMap((b) => blockEntries(b, direction, "inline"));
    });
  }
  return [];
}

function blockEntries(block: unknown, direction: Direction, origin: "rule" | "inline"): SgRuleEntry[] {
  const traffic: Traffic = {
    protocol: normaliseProtocol(read(block, "protocol")),
    fromPort: readNumber(block, "fromPort"),
    toPort: readNumber(block, "toPort"),
  };
  const description = readString(block, "description");
  return [...readStrings(block, "cidrBlocks"), ...readStrings(block, "ipv6CidrBlocks")].map((cidr) => ({
    direction,
    origin,
    cidr,
    description,
    ...traffic,
  }));
}

// ---------------------------------------------------------------------------
// Which group, table or ACL a resource belongs to, in a stack

/**
 * A stable key for the resource a rule points at through `field`
 * (securityGroupId, networkAclId, routeTableId). During a preview the id of
 * a resource created in the same update is unknown, so the property's
 * dependency is used; in exported state the id is known and is matched to a
 * resource of the stack by its ARN.
 */
export function ownerKey(r: PolicyResource, field: string, stack: readonly PolicyResource[]): string {
  const id = readString(r.props, field);
  if (typeof id === "string") {
    const owner = stack.find((o) => ownIdOf(o) === id);
    return owner ? owner.urn : `id:${id}`;
  }
  const deps = r.propertyDependencies?.[field] ?? [];
  const [only] = deps;
  if (deps.length === 1 && only !== undefined) return only.urn;
  return `unresolved:${r.urn}`;
}

/** A resource's own AWS id where its state shows it (the ARN ends with it). */
export function ownIdOf(r: PolicyResource): string | undefined {
  const id = readString(r.props, "id");
  if (typeof id === "string") return id;
  const arn = readString(r.props, "arn");
  if (typeof arn !== "string") return undefined;
  const slash = arn.lastIndexOf("/");
  return slash >= 0 ? arn.slice(slash + 1) : undefined;
}

/** How to name an owner key in a message: the AWS id when known, else the resource name. */
export function ownerLabel(key: string, stack: readonly PolicyResource[]): string {
  if (key.startsWith("id:")) return key.slice(3);
  const owner = stack.find((o) => o.urn === key);
  if (owner) return ownIdOf(owner) ?? owner.name;
  return "(an owner whose id is not known yet)";
}
