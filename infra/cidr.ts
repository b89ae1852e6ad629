/**
 * IPv4 address and CIDR arithmetic shared by the Pulumi program and the
 * policy pack. netmask does the maths; the strict dotted-quad check comes
 * first because netmask quietly accepts short forms such as "10.1/16"
 * (read as 10.0.0.0/16), which is never what a network team meant.
 */
import { Netmask } from "netmask";

const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const DOTTED_QUAD = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

export function isIpv4(value: string): boolean {
  return DOTTED_QUAD.test(value);
}

export interface Ipv4Block {
  /** Network address, e.g. 10.151.14.0 */
  readonly base: string;
  readonly prefixLength: number;
  /** Canonical "base/prefix" text. */
  readonly cidr: string;
  readonly first: number;
  readonly last: number;
}

/** Why `text` is not a usable IPv4 CIDR, or undefined when it is one. */
export function cidrProblem(text: string): string | undefined {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!match) return `"${text}" is not an IPv4 CIDR (expected a.b.c.d/n)`;
  // Both groups take part in every match; the defaults only satisfy the type checker.
  const [, address = "", bits = ""] = match;
  if (!isIpv4(address)) return `"${text}" is not an IPv4 CIDR: "${address}" is not an IPv4 address`;
  const prefixLength = Number(bits);
  if (prefixLength > 32) return `"${text}" is not an IPv4 CIDR: /${prefixLength} is longer than /32`;
  const block = new Netmask(`${address}/${prefixLength}`);
  if (block.base !== address) {
    return `"${text}" has host bits set; the network is ${block.base}/${prefixLength}`;
  }
  return undefined;
}

/** Parses a canonical IPv4 CIDR or a bare address (read as /32); undefined otherwise. */
export function parseIpv4Block(text: string): Ipv4Block | undefined {
  const cidr = text.includes("/") ? text : `${text}/32`;
  if (cidrProblem(cidr) !== undefined) return undefined;
  const block = new Netmask(cidr);
  const first = block.netLong >>> 0;
  const last = (first + block.size - 1) >>> 0;
  return { base: block.base, prefixLength: block.bitmask, cidr: `${block.base}/${block.bitmask}`, first, last };
}

export function hostCidr(address: string): string {
  return `${address}/32`;
}

/** True when every address of `inner` lies in `outer`. */
export function blockContains(outer: Ipv4Block, inner: Ipv4Block): boolean {
  return outer.first <= inner.first && inner.last <= outer.last;
}

export function blocksOverlap(a: Ipv4Block, b: Ipv4Block): boolean {
  return a.first <= b.last && b.first <= a.last;
}

export function cidrContains(outer: string, inner: string): boolean {
  const o = parseIpv4Block(outer);
  const i = parseIpv4Block(inner);
  return o !== undefined && i !== undefined && blockContains(o, i);
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseIpv4Block(a);
  const y = parseIpv4Block(b);
  return x !== undefined && y !== undefined && blocksOverlap(x, y);
}
