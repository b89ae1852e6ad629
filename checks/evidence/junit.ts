/**
 * JUnit XML for CI (junit-report-builder): one test suite per part and site,
 * one test case per endpoint and phase. A failed phase carries its cause as
 * the failure message and its cause code as the type; a skipped phase is a
 * <skipped/> with the reason in system-out, never a pass. A session adds a
 * "session" suite, so a session that failed for a reason no phase shows (key
 * renewed, primary not restored, weather) still fails the build.
 */
// Loaded when a JUnit file is written, not on every start of the CLI.
import type JunitModule from "junit-report-builder";
import type { Report } from "../report";
import { endpointLabel, hostPort, partKey, partTitle } from "../../catalogue";
import { sessionPending } from "./rows";

export function renderJunit(report: Report): string {
  const junitModule = require("junit-report-builder") as { default?: typeof JunitModule } & typeof JunitModule;
  const builder = (junitModule.default ?? junitModule).newBuilder();
  builder.name(report.session ? `hkex-ready session ${report.session.date}` : "hkex-ready check");
  const suites = new Map<string, ReturnType<typeof builder.testSuite>>();
  for (const e of report.endpoints) {
    const key = `${partKey(e.part)}|${e.site}`;
    let suite = suites.get(key);
    if (!suite) {
      suite = builder
        .testSuite()
        .name(`${partTitle(e.part)} ${e.site}`)
        .property("site", e.site)
        .property("part", partKey(e.part));
      suites.set(key, suite);
    }
    for (const p of e.phases) {
      const tc = suite
        .testCase()
        .className(`${partKey(e.part)}.${e.site}`)
        .name(`${hostPort(e.host, e.port)} ${p.name}`)
        .time(p.ms / 1000);
      if (p.status === "fail") {
        tc.failure(`${partTitle(e.part)} ${endpointLabel(e)} ${p.name}: ${p.cause ?? "failed"}`, p.code ?? "error");
      } else if (p.status === "skip") {
        tc.skipped().standardOutput(p.cause ?? "skipped");
      }
    }
  }
  const s = report.session;
  if (s) {
    const suite = builder.testSuite().name("session").property("date", s.date);
    const completed = suite.testCase().className("session").name("completed");
    if (!s.completed && sessionPending(report)) completed.skipped().standardOutput("Part 2 has not run yet");
    else if (!s.completed) completed.failure(s.reasons.join("\n") || "the session did not complete", "not-completed");
    const sameKey = suite.testCase().className("session").name("same key throughout");
    if (!s.sameKeyThroughout) sameKey.failure(`the SSH key changed between parts: ${s.keyFingerprints.join(" -> ")}`, "key-changed");
    if (s.primaryRestored !== undefined) {
      const restored = suite.testCase().className("session").name("primary restored");
      if (!s.primaryRestored)
        restored.failure(`HostName at the end is ${s.hostNameAtEnd ?? "(none)"}, not a primary address`, "primary-not-restored");
    }
    for (const p of s.parts.filter((x) => x.status === "not-run")) {
      suite
        .testCase()
        .className("session")
        .name(`${partTitle(p.part)} ${p.site} ran`)
        .skipped()
        .standardOutput(p.note ?? "not run");
    }
  }
  if (report.interrupted) {
    builder.testSuite().name("run").testCase().className("run").name("not interrupted").error(report.interrupted, "interrupted");
  }
  return builder.build();
}
