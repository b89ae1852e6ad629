/** Every format names an IPv6 endpoint the same way, in brackets. */
import { describe, expect, it } from "vitest";
import { renderHtml } from "../../../checks/evidence/html";
import { renderJunit } from "../../../checks/evidence/junit";
import { renderTap } from "../../../checks/evidence/tap";
import { renderReport } from "../../../checks/evidence/text";
import type { Report } from "../../../checks/report";
import { sessionReport } from "../../support/evidence";

/** The session fixture with its Part 1 endpoints on IPv6 loopback, port 18802. */
function ipv6Report(): Report {
  const r = sessionReport();
  const v6 = <T extends { site: string; host: string; port: number }>(e: T): T =>
    e.site === "secondary" ? { ...e, host: e.host.endsWith(".142") ? "::1" : "::2", port: 18802 } : e;
  return { ...r, endpoints: r.endpoints.map(v6), downloads: r.downloads.map(v6) };
}

describe("IPv6 endpoints in the evidence", () => {
  const report = ipv6Report();
  const outputs = {
    text: renderReport(report),
    tap: renderTap(report),
    junit: renderJunit(report),
    html: renderHtml(report),
  };

  it.each(Object.entries(outputs))("%s writes [::1]:18802, never ::1:18802", (_name, out) => {
    expect(out).toContain("[::1]:18802");
    expect(out).not.toMatch(/(^|[^[])::1:18802/m);
  });

  it("keeps the label whole in the places tools read it: TAP description, JUnit failure, HTML data attribute", () => {
    expect(outputs.tap).toContain("not ok 28 - Part 1 secondary [::1]:18802 auth");
    expect(outputs.junit).toContain('<failure message="Part 1 secondary [::1]:18802 auth: ');
    expect(outputs.junit).toContain('name="[::1]:18802 auth"');
    expect(outputs.html).toContain('data-endpoint="secondary [::1]:18802"');
  });
});
