/**
 * Network ACL first match and route selection, each against a brute-force
 * reading of the AWS rules (fast-check): NACL rules "are evaluated starting
 * with the lowest numbered rule ... as soon as a rule matches traffic, it's
 * applied", the * rule denies the rest; routes by longest prefix, then static
 * over prefix list over propagated.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decideNacl, lookupRoute } from "../../../policies/flows";
import { PORTS_ALL, addressOf, parseIpv4Cidr, type Interval, type Ipv4Cidr } from "../../../policies/flows/ip";
import type { NaclRule, NetworkModel, PrefixListEntity, RouteEntry, TableEntity } from "../../../policies/flows/network";
import { ALL, ICMP, TCP, UDP, UNKNOWN } from "../../../policies/flows/values";

const BLOCKS = ["0.0.0.0/0", "10.0.0.0/8", "10.151.0.0/16", "10.151.14.0/24", "10.151.14.141/32", "10.152.14.0/24", "192.0.2.0/24"];
const ADDRESSES = ["10.151.14.141", "10.151.14.142", "10.152.14.141", "10.9.9.9", "198.51.100.7"].map((a) => addressOf(a)!);
const PORT_MAX = 200;

const portRange = fc
  .tuple(fc.nat({ max: PORT_MAX }), fc.nat({ max: PORT_MAX }))
  .map(([a, b]): Interval => ({ lo: Math.min(a, b), hi: Math.max(a, b) }));
const ruleShape = fc.record({
  action: fc.constantFrom("allow" as const, "deny" as const),
  protocol: fc.constantFrom(TCP, UDP, ALL, ICMP),
  ports: portRange,
  block: fc.constantFrom(...BLOCKS, "ipv6"),
  direction: fc.constantFrom("egress" as const, "ingress" as const),
});
/** Rules with distinct numbers per direction, as AWS requires. */
const rules = fc
  .uniqueArray(fc.tuple(fc.integer({ min: 1, max: 400 }), ruleShape), { maxLength: 8, selector: ([n, r]) => `${r.direction}${n}` })
  .map((list) =>
    list.map(
      ([number, r]): NaclRule => ({
        acl: "acl",
        direction: r.direction,
        number,
        action: r.action,
        protocol: r.protocol,
        // The model gives all-protocol rules every port, as the provider documents.
        ports: r.protocol === ALL ? PORTS_ALL : r.ports,
        block: r.block === "ipv6" ? "ipv6" : parseIpv4Cidr(r.block)!,
        origin: "rule",
      }),
    ),
  );

/** The rule that decides one packet, by reading the rules in order; undefined is the * rule. */
function firstMatch(list: readonly NaclRule[], direction: string, protocol: number, port: number, address: number): NaclRule | undefined {
  const ordered = list.filter((r) => r.direction === direction).sort((a, b) => (a.number as number) - (b.number as number));
  return ordered.find((r) => {
    if (r.protocol !== ALL && r.protocol !== protocol) return false;
    if (typeof r.block !== "object" || address < r.block.lo || address > r.block.hi) return false;
    if (r.protocol === ALL || (protocol !== TCP && protocol !== UDP)) return true;
    const p = r.ports as Interval;
    return p.lo <= port && port <= p.hi;
  });
}

describe("decideNacl", () => {
  it("decides every port of a range as the first matching rule does, and names that rule", () => {
    fc.assert(
      fc.property(
        rules,
        fc.constantFrom("egress" as const, "ingress" as const),
        fc.constantFrom(TCP, UDP, ICMP),
        portRange,
        fc.constantFrom(...ADDRESSES),
        (list, direction, protocol, query, address) => {
          const d = decideNacl(list, direction, protocol, query, address);
          expect(d.unknown).toEqual([]);
          const decided = new Map<number, NaclRule | "*">();
          const note = (ports: Interval, rule: NaclRule | "*") => {
            for (let p = ports.lo; p <= ports.hi; p++) {
              expect(decided.has(p)).toBe(false);
              decided.set(p, rule);
            }
          };
          for (const a of d.allowed) note(a.ports, a.rule);
          for (const x of d.denied) note(x.ports, x.rule ?? "*");
          // ICMP has no ports: the rules decide the whole query alike.
          const span = query;
          expect([...decided.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: span.hi - span.lo + 1 }, (_, i) => span.lo + i));
          for (let p = span.lo; p <= span.hi; p++) {
            const expected = firstMatch(list, direction, protocol, p, address);
            const got = decided.get(p)!;
            if (expected === undefined) expect(got).toBe("*");
            else {
              expect(got).toBe(expected);
              expect(d.allowed.some((a) => a.rule === expected && a.ports.lo <= p && p <= a.ports.hi)).toBe(expected.action === "allow");
            }
          }
        },
      ),
    );
  });

  it("lets a deny with a lower number win over a later allow, and an allow-all keep the rest", () => {
    const acl: NaclRule[] = [
      {
        acl: "a",
        direction: "egress",
        number: 100,
        action: "allow",
        protocol: ALL,
        ports: PORTS_ALL,
        block: parseIpv4Cidr("0.0.0.0/0")!,
        origin: "rule",
      },
      {
        acl: "a",
        direction: "egress",
        number: 50,
        action: "deny",
        protocol: ALL,
        ports: PORTS_ALL,
        block: parseIpv4Cidr("10.152.0.0/16")!,
        origin: "rule",
      },
      {
        acl: "a",
        direction: "egress",
        number: 200,
        action: "allow",
        protocol: TCP,
        ports: { lo: 18801, hi: 18801 },
        block: parseIpv4Cidr("10.152.14.0/24")!,
        origin: "rule",
      },
    ];
    const secondary = decideNacl(acl, "egress", TCP, { lo: 18801, hi: 18801 }, addressOf("10.152.14.141")!);
    expect(secondary.denied.map((x) => x.rule?.number)).toEqual([50]);
    const primary = decideNacl(acl, "egress", TCP, { lo: 18801, hi: 18801 }, addressOf("10.151.14.141")!);
    expect(primary.allowed.map((x) => x.rule.number)).toEqual([100]);
  });

  it("splits a return range between rules and the * rule", () => {
    const acl: NaclRule[] = [
      {
        acl: "a",
        direction: "ingress",
        number: 110,
        action: "allow",
        protocol: TCP,
        ports: { lo: 32768, hi: 65535 },
        block: parseIpv4Cidr("10.151.14.0/24")!,
        origin: "rule",
      },
    ];
    const d = decideNacl(acl, "ingress", TCP, { lo: 1024, hi: 65535 }, addressOf("10.151.14.141")!);
    expect(d.allowed.map((x) => x.ports)).toEqual([{ lo: 32768, hi: 65535 }]);
    expect(d.denied).toEqual([{ ports: { lo: 1024, hi: 32767 } }]);
  });

  it("leaves undecided what a rule not known until apply could decide", () => {
    const allowAll: NaclRule = {
      acl: "a",
      direction: "egress",
      number: 100,
      action: "allow",
      protocol: ALL,
      ports: PORTS_ALL,
      block: parseIpv4Cidr("0.0.0.0/0")!,
      origin: "rule",
    };
    const acl: NaclRule[] = [{ ...allowAll, number: UNKNOWN, action: "deny" }, allowAll];
    const d = decideNacl(acl, "egress", TCP, { lo: 18801, hi: 18801 }, addressOf("10.151.14.141")!);
    expect(d.unknown).toHaveLength(1);
    expect(d.allowed).toEqual([]);
    const blockUnknown: NaclRule[] = [{ ...allowAll, number: 90, block: UNKNOWN }];
    expect(decideNacl(blockUnknown, "egress", TCP, { lo: 18801, hi: 18801 }, 1).unknown).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------

const ROUTE_BLOCKS = ["0.0.0.0/0", "10.0.0.0/8", "10.151.0.0/16", "10.151.14.0/24", "10.151.14.141/32", "10.151.14.128/25"];
type Kind = "static" | "prefix-list" | "propagated";
const routeSpecs = fc.uniqueArray(
  fc.tuple(fc.constantFrom(...ROUTE_BLOCKS), fc.constantFrom<Kind>("static", "prefix-list", "propagated")),
  {
    maxLength: 10,
    selector: ([b, k]) => `${b}${k}`,
  },
);

function tableOf(specs: readonly (readonly [string, Kind])[]): { model: NetworkModel; table: TableEntity } {
  const plEntries: Ipv4Cidr[] = specs.filter(([, k]) => k === "prefix-list").map(([b]) => parseIpv4Cidr(b)!);
  const pl: PrefixListEntity = { key: "pl", origin: "stack", id: "pl-0a1b2c3d4e5f67890", name: "hkex", entries: plEntries };
  const routes: RouteEntry[] = specs
    .filter(([, k]) => k !== "prefix-list")
    .map(([b, k], i) => ({
      table: "t",
      dest: { kind: "cidr", block: parseIpv4Cidr(b)! },
      target: { kind: "transit-gateway", id: `tgw-${i}` },
      origin: "route",
      propagated: k === "propagated",
      blackhole: false,
    }));
  if (plEntries.length > 0) {
    routes.push({
      table: "t",
      dest: { kind: "prefix-list", list: "pl", text: pl.id! },
      target: { kind: "transit-gateway", id: "tgw-pl" },
      origin: "route",
      propagated: false,
      blackhole: false,
    });
  }
  const table: TableEntity = { key: "t", origin: "stack", name: "rt", kind: "route-table", routes, propagatingVgws: [] };
  return { model: { prefixLists: new Map([["pl", pl]]) } as unknown as NetworkModel, table };
}

const RANK: Record<Kind, number> = { static: 0, "prefix-list": 1, propagated: 2 };

describe("lookupRoute", () => {
  it("takes the longest prefix, then a static route over a prefix-list route over a propagated one", () => {
    fc.assert(
      fc.property(routeSpecs, fc.constantFrom(...ADDRESSES), (specs, address) => {
        const { model, table } = tableOf(specs);
        const d = lookupRoute(model, table, address);
        const containing = specs.filter(([b]) => {
          const x = parseIpv4Cidr(b)!;
          return x.lo <= address && address <= x.hi;
        });
        if (containing.length === 0) {
          expect(d.route).toBeUndefined();
          return;
        }
        const prefix = Math.max(...containing.map(([b]) => parseIpv4Cidr(b)!.prefix));
        const rank = Math.min(...containing.filter(([b]) => parseIpv4Cidr(b)!.prefix === prefix).map(([, k]) => RANK[k]));
        expect(d.block!.prefix).toBe(prefix);
        const kind: Kind = d.route!.dest.kind === "prefix-list" ? "prefix-list" : d.route!.propagated ? "propagated" : "static";
        expect(RANK[kind]).toBe(rank);
        expect(d.partial).toEqual([]);
      }),
    );
  });

  it("never lets a propagated route beat the local route, and names what it cannot see", () => {
    const local: RouteEntry = {
      table: "t",
      dest: { kind: "cidr", block: parseIpv4Cidr("10.151.0.0/16")! },
      target: { kind: "local", id: "local" },
      origin: "local",
      propagated: false,
      blackhole: false,
    };
    const propagated: RouteEntry = {
      ...local,
      dest: { kind: "cidr", block: parseIpv4Cidr("10.151.14.0/24")! },
      target: { kind: "virtual-private-gateway", id: "vgw-1" },
      origin: "route",
      propagated: true,
    };
    const outsideList: RouteEntry = { ...local, dest: { kind: "prefix-list", list: "id:pl-0ffee", text: "pl-0ffee" }, origin: "route" };
    const table: TableEntity = {
      key: "t",
      origin: "stack",
      name: "rt",
      kind: "route-table",
      routes: [local, propagated, outsideList],
      propagatingVgws: ["vgw-1"],
    };
    const model = { prefixLists: new Map() } as unknown as NetworkModel;
    const d = lookupRoute(model, table, addressOf("10.151.14.141")!);
    expect(d.route).toBe(local);
    expect(d.partial).toEqual(["the route to prefix list pl-0ffee (its entries are not in the stack)", "routes propagated from vgw-1"]);
  });
});
