/** report.html as text: self-contained, escaped, and carrying every piece of evidence. */
import { describe, expect, it } from "vitest";
import { renderHtml } from "../../../checks/evidence/html";
import { compareDownloads } from "../../../checks/evidence/rows";
import type { Report } from "../../../checks/report";
import { sessionReport, USER_KEY_FP } from "../../support/evidence";

function rowOf(html: string, attrs: string): string {
  const start = html.indexOf(`<tr ${attrs}`);
  expect(start, `row ${attrs}`).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf("</tr>", start));
}

describe("report.html", () => {
  const report = sessionReport();
  const html = renderHtml(report);

  it("fetches nothing: no script, no external reference, and a CSP that forbids fetches", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    );
    expect(html).not.toMatch(/<script|<link|<iframe|<object|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
  });

  it("marks each phase of each endpoint pass, fail or skip in the matrix", () => {
    const bad = rowOf(html, 'data-endpoint="secondary 10.152.14.142:18801" data-part="part1"');
    expect(bad).toContain('data-verdict="fail"');
    expect(bad).toMatch(/<td class="cell pass" data-phase="hostkey" data-status="pass"[^>]*>✓ 40 ms<\/td>/);
    expect(bad).toMatch(
      /<td class="cell fail" data-phase="auth" data-status="fail"[^>]*>✗ FAIL 35 ms<span class="why">auth-rejected: server rejected publickey login for user &quot;CP0001&quot;<\/span><\/td>/,
    );
    for (const p of ["sftp", "list", "download", "logout"])
      expect(bad).toContain(
        `<td class="cell skip" data-phase="${p}" data-status="skip">– skip<span class="why">earlier-phase-failed: not run: auth failed</span></td>`,
      );
    const good = rowOf(html, 'data-endpoint="secondary 10.152.14.141:18801" data-part="part1"');
    expect(good.match(/class="cell pass"/g)).toHaveLength(8);
    const pre = rowOf(html, 'data-endpoint="primary 10.151.14.141:18801" data-part="precheck"');
    expect(pre).toContain('<td class="cell skip" data-phase="download" data-status="skip">');
  });

  it("draws the day against the Part 1 and Part 2 windows, each phase, and the switchover moments", () => {
    expect(html).toContain('<g class="window-band" data-part="part1" data-start="12:00" data-end="14:00">');
    expect(html).toContain('<g class="window-band" data-part="part2" data-start="15:00" data-end="17:00">');
    expect(html.match(/<g class="part-run" /g)).toHaveLength(3);
    expect(html).toContain('<g class="part-run" data-part="part1" data-status="degraded">');
    expect(html.match(/<g class="switchover-mark" data-part="part1">/g)).toHaveLength(2);
    expect(html).toContain("switchover 12:04:59: hkex-rr HostName 10.151.14.141 → 10.152.14.141");
    const row = html.slice(html.indexOf('<g class="tl-row" data-endpoint="secondary 10.152.14.142:18801" data-part="part1"'));
    expect(row.slice(0, row.indexOf("</g>"))).toMatch(
      /<rect class="fail" data-phase="auth" data-status="fail"[^>]*><title>auth: FAIL in 35 ms, from 12:05:00 \(server rejected/,
    );
    expect(row.slice(0, row.indexOf("</g>"))).toContain("not run: sftp, list, download, logout");
    // The run was on the session day, so no "ran on another day" note.
    expect(html).not.toContain("not only on the session date");
  });

  it("lists the downloads with size and SHA-256 and flags a file that differs between sites", () => {
    expect(html).toContain(`<td class="mono">TP002</td><td class="num">4,097</td><td class="mono">${"b".repeat(64)}</td>`);
    expect(compareDownloads(report.downloads).map((c) => `${c.file}:${c.status}`)).toEqual(["TP001:identical", "TP002:different"]);
    expect(html).toContain('<tr data-file="TP001" data-comparison="identical">');
    expect(html).toMatch(/<tr data-file="TP002" data-comparison="different">.*DIFFERENT: the copies do not have the same SHA-256/);
  });

  it("shows the key used in each part, the switchover, and the e-mail text", () => {
    expect(html.match(new RegExp(`<td class="mono">${USER_KEY_FP}</td>`, "g"))).toHaveLength(3);
    expect(html).toContain('Same key throughout: <span class="badge yes">yes</span>');
    expect(html).toContain('<tr data-part="part2"><td>Part 2</td><td>15:04:59</td><td class="mono">/home/ops/.ssh/config</td>');
    expect(html).toContain(`<pre class="email">${report.session!.email.body}</pre>`);
    expect(html).toContain("clearingpsd@hkex.com.hk");
  });

  it("escapes every text that came from outside", () => {
    const hostile: Report = {
      ...report,
      warnings: ['<script>alert("w")</script>'],
      endpoints: report.endpoints.map((e, i) =>
        i === 3 ? { ...e, phases: e.phases.map((p) => (p.name === "auth" ? { ...p, cause: "<img src=x onerror=alert(1)>" } : p)) } : e,
      ),
      downloads: [{ ...report.downloads[0]!, file: '"><svg onload=alert(1)>' }],
    };
    const out = renderHtml(hostile);
    expect(out).not.toContain("<script>alert");
    expect(out).not.toContain("<img src=x");
    expect(out).not.toContain("<svg onload");
    expect(out).toContain("&lt;script&gt;alert(&quot;w&quot;)&lt;/script&gt;");
    expect(out).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("notes a run on another day than the session date, and renders a plain check without a session", () => {
    const moved = { ...report, session: { ...report.session!, date: "2024-11-16" } };
    expect(renderHtml(moved)).toContain("Ran on 2024-11-30, not only on the session date 2024-11-16");
    const check: Report = { ...report, kind: "check", session: undefined, endpoints: report.endpoints.map(({ part: _part, ...e }) => e) };
    const out = renderHtml(check);
    expect(out).toContain("<h1>Readiness check");
    expect(out).not.toContain('id="day-timeline"');
    expect(out).toContain('<svg class="part-timeline" data-part="check"');
    expect(out).not.toContain('id="email"');
  });

  it("says so when no endpoint was checked (a day cancelled by the weather)", () => {
    const r = sessionReport();
    const cancelled: Report = {
      ...r,
      endpoints: [],
      downloads: [],
      sites: [],
      session: {
        ...r.session!,
        completed: false,
        parts: r.session!.parts.map((p) => ({ ...p, status: "not-run" as const, note: "cancelled by the weather" })),
      },
    };
    const out = renderHtml(cancelled);
    expect(out).toContain("<p>No endpoint was checked.</p>");
    expect(out.match(/<g class="part-run" data-part="\w+" data-status="not-run">/g)).toHaveLength(3);
    expect(out).toContain('<span class="badge not-run">not run</span></h3><p>cancelled by the weather</p>');
  });
});
