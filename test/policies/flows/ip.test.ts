/**
 * Block and interval arithmetic of the flow evaluator, checked against
 * brute force over small domains (fast-check).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Interval,
  addressOf,
  contains,
  formatAddress,
  formatAddresses,
  formatPorts,
  longestPrefixMatches,
  merge,
  overlaps,
  parseIpv4Cidr,
  pieces,
  subtract,
} from "../../../policies/flows/ip";

const address = fc.nat({ max: 2 ** 32 - 1 });
/** A canonical block: an address with its host bits cleared. */
const block = fc.tuple(address, fc.integer({ min: 0, max: 32 })).map(([a, prefix]) => {
  const size = 2 ** (32 - prefix);
  return `${formatAddress(Math.floor(a / size) * size)}/${prefix}`;
});
/** Intervals over a small domain, so that sets of points can be listed. */
const DOMAIN = 120;
const small = fc
  .tuple(fc.nat({ max: DOMAIN }), fc.nat({ max: DOMAIN }))
  .map(([a, b]): Interval => ({ lo: Math.min(a, b), hi: Math.max(a, b) }));
const points = (list: readonly Interval[]) => {
  const s = new Set<number>();
  for (const r of list) for (let p = r.lo; p <= r.hi; p++) s.add(p);
  return s;
};
const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
/** Each interval with the one after it. */
const neighbours = (list: readonly Interval[]): [Interval, Interval][] =>
  list.slice(1).flatMap((next, i) => {
    const prev = list[i];
    return prev === undefined ? [] : [[prev, next] as [Interval, Interval]];
  });

describe("parseIpv4Cidr", () => {
  it("reads a canonical block as the interval of its addresses", () => {
    fc.assert(
      fc.property(block, (text) => {
        const b = parseIpv4Cidr(text)!;
        const size = 2 ** (32 - b.prefix);
        expect(b.cidr).toBe(text);
        expect(b.hi - b.lo + 1).toBe(size);
        expect(b.lo % size).toBe(0);
        expect(formatAddresses(b)).toBe(b.prefix === 32 ? text.split("/")[0] : text);
      }),
    );
  });

  it("reads an address as a /32 and round-trips it", () => {
    fc.assert(
      fc.property(address, (a) => {
        const text = formatAddress(a);
        expect(addressOf(text)).toBe(a);
        expect(parseIpv4Cidr(text)).toMatchObject({ lo: a, hi: a, prefix: 32, cidr: `${text}/32` });
      }),
    );
  });

  it.each([
    ["10.151.14.141/24", "host bits set"],
    ["10.1/16", "short form"],
    ["010.151.14.0/24", "leading zero"],
    ["10.151.14.0/33", "prefix too long"],
    ["::/0", "IPv6"],
    ["2001:db8::/32", "IPv6"],
    ["", "empty"],
  ])("rejects %s (%s)", (text) => {
    expect(parseIpv4Cidr(text)).toBeUndefined();
  });
});

describe("containment and overlap", () => {
  it("agree with the blocks' end points", () => {
    fc.assert(
      fc.property(block, block, (x, y) => {
        const a = parseIpv4Cidr(x)!;
        const b = parseIpv4Cidr(y)!;
        expect(contains(a, b)).toBe(a.lo <= b.lo && b.hi <= a.hi);
        expect(overlaps(a, b)).toBe(!(a.hi < b.lo || b.hi < a.lo));
        // Two CIDR blocks either nest or are disjoint.
        expect(overlaps(a, b)).toBe(contains(a, b) || contains(b, a));
      }),
    );
  });

  it("puts each HKEX host in its own site range only", () => {
    const primary = parseIpv4Cidr("10.151.14.0/24")!;
    const secondary = parseIpv4Cidr("10.152.14.0/24")!;
    expect(contains(primary, parseIpv4Cidr("10.151.14.141")!)).toBe(true);
    expect(contains(primary, parseIpv4Cidr("10.152.14.141")!)).toBe(false);
    expect(contains(secondary, parseIpv4Cidr("10.152.14.142")!)).toBe(true);
    expect(contains(parseIpv4Cidr("0.0.0.0/0")!, primary)).toBe(true);
  });
});

describe("interval sets", () => {
  it("subtract leaves exactly the points outside the cut, in order", () => {
    fc.assert(
      fc.property(fc.array(small, { maxLength: 4 }), small, (from, cut) => {
        const disjoint = merge(from);
        const out = subtract(disjoint, cut);
        const expected = [...points(disjoint)].filter((p) => p < cut.lo || p > cut.hi);
        expect(sorted(points(out))).toEqual(expected.sort((a, b) => a - b));
        for (const [prev, next] of neighbours(out)) expect(prev.hi).toBeLessThan(next.lo);
      }),
    );
  });

  it("merge keeps the same points in sorted, separated intervals", () => {
    fc.assert(
      fc.property(fc.array(small, { maxLength: 6 }), (list) => {
        const out = merge(list);
        expect(sorted(points(out))).toEqual(sorted(points(list)));
        for (const [prev, next] of neighbours(out)) expect(prev.hi + 1).toBeLessThan(next.lo);
      }),
    );
  });

  it("pieces partition the range so that every cut holds all or none of each piece", () => {
    fc.assert(
      fc.property(small, fc.array(small, { maxLength: 6 }), (within, cuts) => {
        const out = pieces(within, cuts);
        expect(out[0]?.lo).toBe(within.lo);
        expect(out.at(-1)?.hi).toBe(within.hi);
        for (const [prev, next] of neighbours(out)) expect(next.lo).toBe(prev.hi + 1);
        for (const piece of out) {
          for (const c of cuts) {
            const inside = (p: number) => c.lo <= p && p <= c.hi;
            for (let p = piece.lo; p <= piece.hi; p++) expect(inside(p)).toBe(inside(piece.lo));
          }
        }
      }),
    );
  });
});

describe("longestPrefixMatches", () => {
  it("returns every containing entry of the longest prefix, as brute force finds them", () => {
    fc.assert(
      fc.property(fc.array(block, { maxLength: 8 }), address, (texts, a) => {
        const entries = texts.map((t, i) => ({ i, block: parseIpv4Cidr(t)! }));
        const containing = entries.filter((e) => e.block.lo <= a && a <= e.block.hi);
        const best = Math.max(-1, ...containing.map((e) => e.block.prefix));
        expect(longestPrefixMatches(entries, a).map((e) => e.i)).toEqual(containing.filter((e) => e.block.prefix === best).map((e) => e.i));
      }),
    );
  });

  it("prefers the host route over the site range, and the site range over the default route", () => {
    const routes = ["0.0.0.0/0", "10.152.14.0/24", "10.152.14.141/32", "10.0.0.0/8"].map((t) => ({ t, block: parseIpv4Cidr(t)! }));
    expect(longestPrefixMatches(routes, addressOf("10.152.14.141")!).map((r) => r.t)).toEqual(["10.152.14.141/32"]);
    expect(longestPrefixMatches(routes, addressOf("10.152.14.142")!).map((r) => r.t)).toEqual(["10.152.14.0/24"]);
    expect(longestPrefixMatches(routes, addressOf("10.151.14.141")!).map((r) => r.t)).toEqual(["10.0.0.0/8"]);
    expect(longestPrefixMatches(routes, addressOf("192.0.2.1")!).map((r) => r.t)).toEqual(["0.0.0.0/0"]);
  });
});

describe("formatting", () => {
  it("names port ranges and address pieces the way a network engineer writes them", () => {
    expect(formatPorts({ lo: 0, hi: 65535 })).toBe("all ports");
    expect(formatPorts({ lo: 18801, hi: 18801 })).toBe("18801");
    expect(formatPorts({ lo: 1024, hi: 65535 })).toBe("1024-65535");
    expect(formatAddresses(parseIpv4Cidr("10.151.14.0/24")!)).toBe("10.151.14.0/24");
    expect(formatAddresses({ lo: addressOf("10.151.14.0")!, hi: addressOf("10.151.14.140")! })).toBe("10.151.14.0-10.151.14.140");
  });
});
