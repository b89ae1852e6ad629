/**
 * IPv4 block and port-range arithmetic for the flow evaluator: containment,
 * longest-prefix match and closed integer intervals (addresses and ports
 * alike). netmask does the block maths; the strict dotted-quad check comes
 * first because netmask reads short forms such as "10.1/16" as 10.0.0.0/16.
 */
import { Netmask } from "netmask";

const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const DOTTED_QUAD = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

export const PORTS_ALL: Interval = Object.freeze({ lo: 0, hi: 65535 });

/** A closed interval of integers (addresses or ports). */
export interface Interval {
  readonly lo: number;
  readonly hi: number;
}

export interface Ipv4Cidr extends Interval {
  /** Canonical "a.b.c.d/n". */
  readonly cidr: string;
  readonly prefix: number;
}

export function addressOf(text: string): number | undefined {
  if (!DOTTED_QUAD.test(text)) return undefined;
  return text.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function formatAddress(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/**
 * A canonical IPv4 CIDR, or a bare address read as /32. Undefined for IPv6,
 * short forms and blocks with host bits set (the EC2 API keeps the network
 * address only, so such text never comes back from AWS).
 */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const cidr = text.includes("/") ? text : `${text}/32`;
  const [, base, bits] = /^([^/]+)\/(\d{1,2})$/.exec(cidr) ?? [];
  if (base === undefined || bits === undefined || !DOTTED_QUAD.test(base) || Number(bits) > 32) return undefined;
  const block = new Netmask(cidr);
  if (block.base !== base) return undefined;
  const lo = block.netLong >>> 0;
  return { lo, hi: lo + block.size - 1, prefix: block.bitmask, cidr: `${block.base}/${block.bitmask}` };
}

export function isIpv6Text(text: string): boolean {
  return text.includes(":");
}

export function contains(outer: Interval, inner: Interval): boolean {
  return outer.lo <= inner.lo && inner.hi <= outer.hi;
}

export function containsPoint(outer: Interval, point: number): boolean {
  return outer.lo <= point && point <= outer.hi;
}

export function overlaps(a: Interval, b: Interval): boolean {
  return a.lo <= b.hi && b.lo <= a.hi;
}

export function intersect(a: Interval, b: Interval): Interval | undefined {
  const lo = Math.max(a.lo, b.lo);
  const hi = Math.min(a.hi, b.hi);
  return lo <= hi ? { lo, hi } : undefined;
}

/** `from` without the points of `cut`, in ascending order. */
export function subtract(from: readonly Interval[], cut: Interval): Interval[] {
  const out: Interval[] = [];
  for (const r of from) {
    if (!overlaps(r, cut)) {
      out.push(r);
      continue;
    }
    if (r.lo < cut.lo) out.push({ lo: r.lo, hi: cut.lo - 1 });
    if (cut.hi < r.hi) out.push({ lo: cut.hi + 1, hi: r.hi });
  }
  return out;
}

/** Sorted, with touching and overlapping intervals joined. */
export function merge(list: readonly Interval[]): Interval[] {
  const sorted = [...list].sort((a, b) => a.lo - b.lo);
  const out: Interval[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.lo <= last.hi + 1) out[out.length - 1] = { lo: last.lo, hi: Math.max(last.hi, r.hi) };
    else out.push({ ...r });
  }
  return out;
}

/**
 * Cuts `within` into the fewest intervals on which every one of `cuts`
 * either contains all points or none: a function that only asks "is the
 * point inside this interval?" is constant on each piece, so one point per
 * piece decides it for the whole piece.
 */
export function pieces(within: Interval, cuts: readonly Interval[]): Interval[] {
  const edges = new Set<number>([within.lo, within.hi + 1]);
  for (const c of cuts) {
    if (c.lo > within.lo && c.lo <= within.hi) edges.add(c.lo);
    if (c.hi + 1 > within.lo && c.hi + 1 <= within.hi) edges.add(c.hi + 1);
  }
  // within.lo is the lowest edge; each further edge closes the piece before it.
  const out: Interval[] = [];
  let lo = within.lo;
  for (const edge of [...edges].sort((a, b) => a - b).slice(1)) {
    out.push({ lo, hi: edge - 1 });
    lo = edge;
  }
  return out;
}

/**
 * The most specific entries whose block holds `address` (longest prefix
 * match), all of them when several share that prefix length, so the caller
 * can apply the tie-break rules of the system it models.
 */
export function longestPrefixMatches<T extends { readonly block: Ipv4Cidr }>(entries: readonly T[], address: number): T[] {
  let best = -1;
  let out: T[] = [];
  for (const e of entries) {
    if (!containsPoint(e.block, address)) continue;
    if (e.block.prefix > best) {
      best = e.block.prefix;
      out = [e];
    } else if (e.block.prefix === best) out.push(e);
  }
  return out;
}

export function formatPorts(r: Interval): string {
  if (r.lo === 0 && r.hi === 65535) return "all ports";
  return r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`;
}

export function formatAddresses(r: Interval): string {
  if (r.lo === r.hi) return formatAddress(r.lo);
  // A piece that is exactly a block prints as one CIDR.
  const size = r.hi - r.lo + 1;
  const prefix = 32 - Math.log2(size);
  if (Number.isInteger(prefix) && r.lo % size === 0) return `${formatAddress(r.lo)}/${prefix}`;
  return `${formatAddress(r.lo)}-${formatAddress(r.hi)}`;
}
