/** The one spelling of endpoint and part labels. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  endpointLabel,
  endpointsOf,
  hostPort,
  partInline,
  partKey,
  partTitle,
  partWithDataCentre,
  SESSION_PARTS,
  type RunPart,
} from "../../catalogue";

describe("endpoint labels", () => {
  it("name the site, the address and the port of every catalogue endpoint", () => {
    expect(endpointsOf().map(endpointLabel)).toEqual([
      "primary 10.151.14.141:18801",
      "primary 10.151.14.142:18801",
      "secondary 10.152.14.141:18801",
      "secondary 10.152.14.142:18801",
    ]);
  });

  it("put an IPv6 address in brackets, so the port cannot read as part of it", () => {
    expect(hostPort("::1", 18802)).toBe("[::1]:18802");
    expect(endpointLabel({ site: "secondary", host: "::1", port: 18802 })).toBe("secondary [::1]:18802");
    expect(hostPort("fe80::1%eth0", 22)).toBe("[fe80::1%eth0]:22");
    expect(hostPort("[::1]", 22)).toBe("[::1]:22");
    expect(hostPort("127.0.151.141", 18801)).toBe("127.0.151.141:18801");
    expect(hostPort("sftp.example", 18801)).toBe("sftp.example:18801");
  });

  it("can always be split back into the address and the port at the last colon", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()), fc.integer({ min: 1, max: 65535 }), (host, port) => {
        const label = hostPort(host, port);
        const cut = label.lastIndexOf(":");
        expect(Number(label.slice(cut + 1))).toBe(port);
        expect(label.slice(0, cut).replace(/^\[(.*)\]$/, "$1")).toBe(host);
      }),
    );
  });
});

describe("part labels", () => {
  const runs: RunPart[] = [undefined, "precheck", 1, 2];

  it("title, key and inline form of each step", () => {
    expect(runs.map(partTitle)).toEqual(["Check", "Pre-check", "Part 1", "Part 2"]);
    expect(runs.map(partKey)).toEqual(["check", "precheck", "part1", "part2"]);
    expect((["precheck", 1, 2] as const).map(partInline)).toEqual(["pre-check", "Part 1", "Part 2"]);
  });

  it("name the data centre each part is scheduled on, from the catalogue", () => {
    expect(partWithDataCentre(1)).toBe("Part 1 (Secondary Data Centre)");
    expect(partWithDataCentre(2)).toBe("Part 2 (Primary Data Centre)");
    // The circular's own rundown titles name the same data centres.
    for (const w of SESSION_PARTS) expect(w.title).toContain(partWithDataCentre(w.part).replace(/^Part \d \((.*)\)$/, "$1"));
  });
});
