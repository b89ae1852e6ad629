/** checks/metrics.ts: the samples a report yields, bounded by the config and closed sets, never by what a server sends. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SESSION_DAYS } from "../../catalogue";
import { ENDPOINT_LABELS, METRIC_FAMILIES, METRICS, nextSession, PHASE_STATUSES, reportSamples } from "../../checks/metrics";
import { CAUSE_CODES, PHASES, type EndpointReport, type Report } from "../../checks/report";
import { sessionReport } from "../support/evidence";

function checkReport(): Report {
  const r = sessionReport();
  return {
    ...r,
    kind: "check",
    session: undefined,
    endpoints: r.endpoints.filter((e) => e.part === 1).map(({ part: _p, ...e }) => e),
    downloads: r.downloads.filter((d) => d.part === 1).map(({ part: _p, ...d }) => d),
  };
}

describe("metrics", () => {
  it("names every family hkex_sftp_*, with a unit suffix where it has a unit, and no label twice", () => {
    for (const f of METRIC_FAMILIES) {
      expect(f.name).toMatch(/^hkex_sftp_[a-z0-9_]+$/);
      if (f.unit === "seconds" || f.unit === "timestamp") expect(f.name).toMatch(/_seconds$/);
      if (f.unit === "bytes") expect(f.name).toMatch(/_bytes$/);
      const labels = [...(f.scope === "endpoint" ? ENDPOINT_LABELS : []), ...f.labels];
      expect(new Set(labels).size).toBe(labels.length);
      for (const l of f.infoLabels ?? []) expect(f.labels).toContain(l);
    }
    expect(new Set(METRIC_FAMILIES.map((f) => f.name)).size).toBe(METRIC_FAMILIES.length);
  });

  it("keeps the textfile's names and labels: probe_success, phase durations, one-hot phase status, failure info", () => {
    const samples = reportSamples(checkReport());
    const failed = samples.filter((s) => s.family === METRICS.probeSuccess && s.value === 0);
    expect(failed.map((s) => s.labels)).toEqual([{ site: "secondary", host: "10.152.14.142", port: "18801" }]);
    // One-hot: exactly one status is 1 per endpoint and phase.
    const status = samples.filter((s) => s.family === METRICS.phaseStatus);
    expect(status).toHaveLength(2 * PHASES.length * PHASE_STATUSES.length);
    for (const host of ["10.152.14.141", "10.152.14.142"]) {
      for (const phase of PHASES) {
        const ones = status.filter((s) => s.labels.host === host && s.labels.phase === phase && s.value === 1);
        expect(ones, `${host} ${phase}`).toHaveLength(1);
      }
    }
    expect(samples.filter((s) => s.family === METRICS.failureInfo).map((s) => s.labels)).toEqual([
      { site: "secondary", host: "10.152.14.142", port: "18801", phase: "auth", code: "auth-rejected" },
    ]);
  });

  it("keys downloads by the config's files entries: a glob's files are summed, and a hash is given for one file only", () => {
    const report = checkReport();
    const samples = reportSamples(report, { files: ["TP00?"] });
    const mine = report.downloads.filter((d) => d.host === "10.152.14.141");
    expect(mine.length).toBe(2);
    const bytes = samples.filter((s) => s.family === METRICS.downloadBytes && s.labels.host === "10.152.14.141");
    expect(bytes.map((s) => [s.labels.file, s.value])).toEqual([["TP00?", mine[0]!.bytes + mine[1]!.bytes]]);
    expect(samples.filter((s) => s.family === METRICS.downloadSha256Info)).toEqual([]);

    const each = reportSamples(report, { files: ["TP001", "TP002"] });
    const sha = each.filter((s) => s.family === METRICS.downloadSha256Info && s.labels.host === "10.152.14.141");
    expect(sha.map((s) => [s.labels.file, s.labels.sha256])).toEqual(mine.map((d) => [d.file, d.sha256]));
    // Without the config's entries, no download series at all (a remote name is never a label).
    expect(reportSamples(report).filter((s) => s.family === METRICS.downloadBytes)).toEqual([]);
  });

  it("never turns server text into a label value: banners, causes, codes, key types and fingerprints are bounded", () => {
    const codes = new Set<string>(CAUSE_CODES);
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (banner, cause, code, keyType) => {
        const base = checkReport();
        const e = base.endpoints[1]!;
        const hostile: EndpointReport = {
          ...e,
          banner,
          hostKey: { type: keyType, fingerprint: `SHA256:${cause}`, status: "mismatch" },
          phases: e.phases.map((p) => (p.status === "fail" ? { ...p, cause, code: code as never } : p)),
        };
        const samples = reportSamples({ ...base, endpoints: [base.endpoints[0]!, hostile] });
        for (const s of samples) {
          for (const [k, v] of Object.entries(s.labels)) {
            if (k === "code") expect(codes.has(v)).toBe(true);
            if (k === "phase") expect(PHASES).toContain(v);
            if (k === "fingerprint") expect(v).toMatch(/^(SHA256:[A-Za-z0-9+/=]{1,64}|invalid)$/);
            if (k === "type") expect(v).toMatch(/^(ssh-|ecdsa-|other$)/);
            if (banner.length > 3) expect(v).not.toBe(banner);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it("gives the next session day from the catalogue: its first window's start and last window's end", () => {
    const first = SESSION_DAYS[0]!;
    const before = nextSession(new Date("2024-11-01T00:00:00+08:00"));
    expect(before).toEqual({
      date: first.date,
      start: new Date(`${first.date}T12:00:00+08:00`),
      end: new Date(`${first.date}T17:00:00+08:00`),
    });
    // During a session day it is still that day (the alert fires while it is under way).
    expect(nextSession(new Date("2024-11-30T13:30:00+08:00"))?.date).toBe("2024-11-30");
    expect(nextSession(new Date("2024-11-30T17:00:00+08:00"))).toBeUndefined();
    const samples = reportSamples(checkReport(), { now: new Date("2024-11-20T09:00:00+08:00") });
    expect(samples.find((s) => s.family === METRICS.nextSessionStart)?.value).toBe(Date.parse("2024-11-30T12:00:00+08:00") / 1000);
    expect(samples.find((s) => s.family === METRICS.nextSessionEnd)?.value).toBe(Date.parse("2024-11-30T17:00:00+08:00") / 1000);
    expect(reportSamples(checkReport(), { now: new Date("2025-01-01T00:00:00Z") }).some((s) => s.family === METRICS.nextSessionStart)).toBe(
      false,
    );
  });
});
