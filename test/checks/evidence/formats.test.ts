/** The CI and monitoring formats: JUnit XML, TAP 14, and the node_exporter textfile. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { Parser } from "tap-parser";
import { describe, expect, it } from "vitest";
import { writeOutputs } from "../../../cli/outputs";
import { renderJunit } from "../../../checks/evidence/junit";
import { escapeLabelValue, renderPrometheus } from "../../../checks/evidence/prometheus";
import { renderTap, tapDescription } from "../../../checks/evidence/tap";
import type { Report } from "../../../checks/report";
import { tempDir } from "../../support/facility";
import { sessionReport } from "../../support/evidence";

interface TestCase {
  classname: string;
  name: string;
  time: string;
  body: string;
}

/** The <testcase> elements of a JUnit document (the library writes one per line or block). */
function testCases(xml: string): TestCase[] {
  const out: TestCase[] = [];
  const re = /<testcase classname="([^"]*)" name="([^"]*)"(?: time="([^"]*)")?(?:\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) out.push({ classname: m[1]!, name: m[2]!, time: m[3] ?? "", body: m[4] ?? "" });
  return out;
}

interface TapAssert {
  ok: boolean;
  id: number;
  name: string;
  skip: string | boolean;
  diag: Record<string, unknown> | null;
  time: number | null;
}

function parseTap(text: string): Promise<{
  result: { ok: boolean; count: number; pass: number; fail: number; skip: number; plan: { end: number } };
  asserts: TapAssert[];
}> {
  return new Promise((resolve) => {
    const asserts: TapAssert[] = [];
    const p = new Parser((result) => resolve({ result: result as never, asserts }));
    p.on("assert", (a) => asserts.push(a as never));
    p.end(text);
  });
}

describe("JUnit XML", () => {
  const report = sessionReport();
  const xml = renderJunit(report);
  const cases = testCases(xml);

  it("has one test case per endpoint and phase, plus the session's own", () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="hkex-ready session 2024-11-30"')).toBe(true);
    const phaseCases = cases.filter((c) => c.classname !== "session");
    expect(phaseCases).toHaveLength(report.endpoints.length * 8);
    expect(phaseCases[0]).toMatchObject({ classname: "precheck.primary", name: "10.151.14.141:18801 tcp", time: "0.01" });
    expect(cases.filter((c) => c.classname === "session").map((c) => c.name)).toEqual([
      "completed",
      "same key throughout",
      "primary restored",
    ]);
    expect(xml).toMatch(/<testsuites [^>]*tests="51" failures="1" errors="0" skipped="6">/);
  });

  it("gives a failure the cause as message and the cause code as type", () => {
    const auth = cases.find((c) => c.classname === "part1.secondary" && c.name === "10.152.14.142:18801 auth")!;
    expect(auth.time).toBe("0.035");
    expect(auth.body).toContain(
      '<failure message="Part 1 secondary 10.152.14.142:18801 auth: server rejected publickey login for user &quot;CP0001&quot;" type="auth-rejected"/>',
    );
  });

  it("marks skips as skipped with the reason, never as passes", () => {
    const skipped = cases.filter((c) => c.body.includes("<skipped/>"));
    expect(skipped.map((c) => `${c.classname} ${c.name}`)).toEqual([
      "precheck.primary 10.151.14.141:18801 download",
      "precheck.primary 10.151.14.142:18801 download",
      "part1.secondary 10.152.14.142:18801 sftp",
      "part1.secondary 10.152.14.142:18801 list",
      "part1.secondary 10.152.14.142:18801 download",
      "part1.secondary 10.152.14.142:18801 logout",
    ]);
    expect(skipped[2]!.body).toContain("<system-out><![CDATA[not run: auth failed]]></system-out>");
  });

  it("fails the session case with the reasons when the session did not complete", () => {
    const r = sessionReport();
    const failed: Report = {
      ...r,
      session: {
        ...r.session!,
        completed: false,
        primaryRestored: false,
        hostNameAtEnd: "10.152.14.141",
        reasons: ["Part 2 did not run: weather"],
      },
    };
    const c = testCases(renderJunit(failed));
    expect(c.find((x) => x.name === "completed")!.body).toContain('<failure message="Part 2 did not run: weather" type="not-completed"/>');
    expect(c.find((x) => x.name === "primary restored")!.body).toContain('type="primary-not-restored"');
  });
});

describe("after session --part 1 only", () => {
  const r = sessionReport();
  const partOne: Report = {
    ...r,
    verdict: "pass",
    endpoints: r.endpoints.filter((e) => e.part !== 2),
    session: {
      ...r.session!,
      completed: false,
      parts: r.session!.parts.filter((p) => p.part !== 2),
      reasons: ["Part 2 has not run yet: run hkex-ready session --part 2 in its window"],
    },
  };

  it("skips the session case instead of failing it: Part 2 is still to come", async () => {
    expect(testCases(renderJunit(partOne)).find((c) => c.name === "completed")!.body).toContain("<skipped/>");
    const tap = renderTap(partOne);
    expect(tap).toContain("ok 33 - session 2024-11-30 completed # SKIP Part 2 has not run yet\n");
    const { result } = await parseTap(tap);
    expect(result.fail).toBe(1); // the auth failure only
  });

  it("fails it once Part 2 has an entry, run or not", () => {
    const withTwo: Report = { ...partOne, session: { ...partOne.session!, parts: r.session!.parts } };
    expect(testCases(renderJunit(withTwo)).find((c) => c.name === "completed")!.body).toContain('type="not-completed"');
    expect(renderTap(withTwo)).toContain("not ok 33 - session 2024-11-30 completed\n");
  });
});

describe("TAP", () => {
  const report = sessionReport();

  it("is valid TAP 14 with one point per endpoint and phase and the session's point", async () => {
    const tap = renderTap(report);
    expect(tap.startsWith("TAP version 14\n1..49\n")).toBe(true);
    const { result, asserts } = await parseTap(tap);
    expect(result.plan.end).toBe(49);
    expect(result.count).toBe(49);
    expect(result.fail).toBe(1);
    expect(result.skip).toBe(6);
    expect(result.ok).toBe(false);
    expect(asserts[0]).toMatchObject({ ok: true, id: 1, name: "Pre-check primary 10.151.14.141:18801 tcp (10 ms)", skip: false });
    expect(asserts.at(-1)).toMatchObject({ ok: true, name: "session 2024-11-30 completed" });
  });

  it("puts the cause of a failure in a YAML block", async () => {
    const { asserts } = await parseTap(renderTap(report));
    const auth = asserts.find((a) => !a.ok)!;
    expect(auth.name).toBe("Part 1 secondary 10.152.14.142:18801 auth");
    expect(auth.diag).toMatchObject({
      message: 'server rejected publickey login for user "CP0001"',
      code: "auth-rejected",
      site: "secondary",
      host: "10.152.14.142",
      port: 18801,
      phase: "auth",
      timeout_ms: 10000,
    });
    // duration_ms is the key TAP consumers read as the point's time.
    expect(auth.time).toBe(35);
  });

  it("never counts a skip as ok without the SKIP directive", async () => {
    const tap = renderTap(report);
    for (const line of tap.split("\n").filter((l) => /^ok \d+ - .* (download|sftp|list|logout)/.test(l) && !/\(\d+ ms\)/.test(l))) {
      expect(line).toMatch(/ # SKIP \S/);
    }
    const { asserts } = await parseTap(tap);
    expect(asserts.filter((a) => a.skip).map((a) => `${a.name}: ${a.skip}`)).toEqual([
      "Pre-check primary 10.151.14.141:18801 download: not requested (run with --download)",
      "Pre-check primary 10.151.14.142:18801 download: not requested (run with --download)",
      "Part 1 secondary 10.152.14.142:18801 sftp: not run: auth failed",
      "Part 1 secondary 10.152.14.142:18801 list: not run: auth failed",
      "Part 1 secondary 10.152.14.142:18801 download: not run: auth failed",
      "Part 1 secondary 10.152.14.142:18801 logout: not run: auth failed",
    ]);
  });

  it("escapes a # in a description so it cannot become a directive", async () => {
    expect(tapDescription("file #1 \\ two\nlines")).toBe("file \\#1 \\\\ two lines");
    const r = sessionReport();
    const hostile: Report = { ...r, endpoints: [{ ...r.endpoints[0]!, host: "10.0.0.1 # SKIP sneaky" }], session: undefined };
    const { asserts, result } = await parseTap(renderTap(hostile));
    expect(result.skip).toBe(1); // only the real skip (download not requested)
    expect(asserts[0]!.skip).toBe(false);
  });

  it("lists the reasons of an incomplete session", async () => {
    const r = sessionReport();
    const failed: Report = { ...r, session: { ...r.session!, completed: false, reasons: ["Part 2 did not run: weather"] } };
    const { asserts } = await parseTap(renderTap(failed));
    expect(asserts.at(-1)).toMatchObject({
      ok: false,
      name: "session 2024-11-30 completed",
      diag: { reasons: ["Part 2 did not run: weather"] },
    });
  });
});

describe("Prometheus textfile", () => {
  it("writes probe_success, phase durations and phase status per endpoint with HELP and TYPE", () => {
    const r = sessionReport();
    const check: Report = {
      ...r,
      kind: "check",
      session: undefined,
      endpoints: r.endpoints.filter((e) => e.part === 1).map(({ part: _p, ...e }) => e),
    };
    const text = renderPrometheus(check);
    const lines = text.trimEnd().split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "# HELP hkex_sftp_probe_success 1 if the endpoint passed: no phase failed and none was skipped after a failure (a download not requested is not run), 0 otherwise.",
      "# TYPE hkex_sftp_probe_success gauge",
      'hkex_sftp_probe_success{site="secondary",host="10.152.14.141",port="18801"} 1',
      'hkex_sftp_probe_success{site="secondary",host="10.152.14.142",port="18801"} 0',
    ]);
    expect(lines).toContain('hkex_sftp_phase_duration_seconds{site="secondary",host="10.152.14.141",port="18801",phase="download"} 0.9');
    expect(lines).toContain('hkex_sftp_phase_duration_seconds{site="secondary",host="10.152.14.142",port="18801",phase="auth"} 0.035');
    // Skipped phases have a status but no duration.
    expect(
      lines.some((l) => l.startsWith('hkex_sftp_phase_duration_seconds{site="secondary",host="10.152.14.142",port="18801",phase="sftp"}')),
    ).toBe(false);
    expect(lines).toContain('hkex_sftp_phase_status{site="secondary",host="10.152.14.142",port="18801",phase="sftp",status="skip"} 1');
    expect(lines).toContain('hkex_sftp_phase_status{site="secondary",host="10.152.14.142",port="18801",phase="sftp",status="pass"} 0');
    expect(lines).toContain('hkex_sftp_phase_status{site="secondary",host="10.152.14.142",port="18801",phase="auth",status="fail"} 1');
    expect(lines).toContain(
      'hkex_sftp_probe_failure_info{site="secondary",host="10.152.14.142",port="18801",phase="auth",code="auth-rejected"} 1',
    );
    expect(lines).toContain("hkex_sftp_last_run_timestamp_seconds 1732950360");
    expect(lines).toContain('hkex_sftp_run_success{kind="check"} 0');
    // Every sample line belongs to a family announced by HELP and TYPE, once.
    const families = lines.filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2]!);
    expect(new Set(families).size).toBe(families.length);
    for (const l of lines.filter((x) => !x.startsWith("#"))) expect(families).toContain(l.split(/[{ ]/)[0]);
    expect(lines.filter((l) => /^hkex_sftp_phase_status\{/.test(l))).toHaveLength(2 * 8 * 3);
  });

  it("keeps the part as a label for a session, so the pre-check and Part 2 series of one host stay apart", () => {
    const text = renderPrometheus(sessionReport());
    expect(text).toContain('hkex_sftp_probe_success{site="primary",host="10.151.14.141",port="18801",part="precheck"} 1');
    expect(text).toContain('hkex_sftp_probe_success{site="primary",host="10.151.14.141",port="18801",part="part2"} 1');
    const series = text
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => l.slice(0, l.lastIndexOf(" ")));
    expect(new Set(series).size).toBe(series.length);
  });

  it("escapes label values: backslash, double quote, line feed", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const unescapeLabel = (s: string) => s.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (v) => {
        const escaped = escapeLabelValue(v);
        expect(escaped).not.toMatch(/(^|[^\\])(\\\\)*"/);
        expect(escaped).not.toContain("\n");
        expect(unescapeLabel(escaped)).toBe(v);
      }),
    );
  });

  it("is written atomically by --prometheus, leaving no temporary file, and warns when the name is not .prom", async () => {
    const dir = tempDir("prom");
    const notices: string[] = [];
    const quiet = { notice: (l: string) => notices.push(l), stdout: () => undefined };
    const written = await writeOutputs(
      sessionReport(),
      "check",
      { prometheus: join(dir, "hkex.prom"), junit: join(dir, "ci", "junit.xml") },
      quiet,
    );
    expect(written).toEqual([join(dir, "ci", "junit.xml"), join(dir, "hkex.prom")]);
    expect(readdirSync(dir).sort()).toEqual(["ci", "hkex.prom"]);
    expect(readFileSync(join(dir, "hkex.prom"), "utf8")).toBe(renderPrometheus(sessionReport()));
    expect(readFileSync(join(dir, "ci", "junit.xml"), "utf8")).toContain("<testsuites");
    expect(notices).toEqual([]);
    await writeOutputs(sessionReport(), "check", { prometheus: join(dir, "metrics.txt") }, quiet);
    expect(notices[0]).toMatch(/textfile collector reads only files ending in \.prom/);
  });
});
