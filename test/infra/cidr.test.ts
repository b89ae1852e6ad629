import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blockContains, blocksOverlap, cidrContains, cidrProblem, cidrsOverlap, hostCidr, isIpv4, parseIpv4Block } from "../../infra/cidr";

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join("."));
const toLong = (ip: string) => ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
const fromLong = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
/** A canonical CIDR: the address with its host bits cleared. */
const block = fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([ip, len]) => {
  const size = 2 ** (32 - len);
  return `${fromLong(Math.floor(toLong(ip) / size) * size)}/${len}`;
});

describe("cidrProblem", () => {
  it.each([
    ["10.151.14.0/24", undefined],
    ["0.0.0.0/0", undefined],
    ["10.151.14.141/32", undefined],
    ["10.1/16", `"10.1/16" is not an IPv4 CIDR: "10.1" is not an IPv4 address`],
    ["10.151.14.0", `"10.151.14.0" is not an IPv4 CIDR (expected a.b.c.d/n)`],
    ["10.151.14.0/33", `"10.151.14.0/33" is not an IPv4 CIDR: /33 is longer than /32`],
    ["300.1.1.0/24", `"300.1.1.0/24" is not an IPv4 CIDR: "300.1.1.0" is not an IPv4 address`],
    ["010.151.14.0/24", `"010.151.14.0/24" is not an IPv4 CIDR: "010.151.14.0" is not an IPv4 address`],
    ["10.151.14.5/24", `"10.151.14.5/24" has host bits set; the network is 10.151.14.0/24`],
  ])("%s", (text, problem) => {
    expect(cidrProblem(text)).toBe(problem);
  });
});

describe("containment and overlap", () => {
  it("reads a bare address as a /32", () => {
    expect(parseIpv4Block("10.152.14.142")).toMatchObject({ cidr: "10.152.14.142/32", prefixLength: 32 });
    expect(hostCidr("10.152.14.142")).toBe("10.152.14.142/32");
  });

  it("knows which hosts sit in a site range", () => {
    expect(cidrContains("10.151.14.0/24", "10.151.14.141/32")).toBe(true);
    expect(cidrContains("10.151.14.0/24", "10.152.14.141/32")).toBe(false);
    expect(cidrContains("0.0.0.0/0", "10.152.14.0/24")).toBe(true);
    expect(cidrsOverlap("10.0.0.0/8", "10.152.14.0/24")).toBe(true);
    expect(cidrsOverlap("10.151.15.0/24", "10.151.14.0/24")).toBe(false);
    expect(cidrContains("not-a-cidr", "10.151.14.0/24")).toBe(false);
  });

  it("handles the top of the address space without sign errors", () => {
    expect(parseIpv4Block("255.255.255.0/24")).toMatchObject({ first: 0xffffff00, last: 0xffffffff });
    expect(cidrContains("128.0.0.0/1", "255.255.255.255/32")).toBe(true);
  });

  it("property: a block contains each of its addresses and every block inside it", () => {
    fc.assert(
      fc.property(block, fc.nat(), (cidr, offset) => {
        const b = parseIpv4Block(cidr)!;
        const size = b.last - b.first + 1;
        const inside = fromLong(b.first + (offset % size));
        expect(isIpv4(inside)).toBe(true);
        expect(blockContains(b, parseIpv4Block(inside)!)).toBe(true);
        expect(b.first % size).toBe(0);
      }),
    );
  });

  it("property: overlap is symmetric and containment implies overlap", () => {
    fc.assert(
      fc.property(block, block, (x, y) => {
        const a = parseIpv4Block(x)!;
        const b = parseIpv4Block(y)!;
        expect(blocksOverlap(a, b)).toBe(blocksOverlap(b, a));
        if (blockContains(a, b)) expect(blocksOverlap(a, b)).toBe(true);
        // Two CIDR blocks either nest or are disjoint.
        expect(blocksOverlap(a, b)).toBe(blockContains(a, b) || blockContains(b, a));
      }),
    );
  });

  it("property: any address with host bits under a shorter prefix is rejected with the network named", () => {
    fc.assert(
      fc.property(ipv4, fc.integer({ min: 0, max: 31 }), (ip, len) => {
        const size = 2 ** (32 - len);
        const base = fromLong(Math.floor(toLong(ip) / size) * size);
        const problem = cidrProblem(`${ip}/${len}`);
        if (base === ip) expect(problem).toBeUndefined();
        else expect(problem).toBe(`"${ip}/${len}" has host bits set; the network is ${base}/${len}`);
      }),
    );
  });
});
