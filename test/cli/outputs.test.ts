/** One function writes every output of a run, in one order, and names the flag of whatever it could not write. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatsFor, REPORT_COMMANDS } from "../../checks/evidence/formats";
import { renderHtml } from "../../checks/evidence/html";
import { renderTap } from "../../checks/evidence/tap";
import { renderReport } from "../../checks/evidence/text";
import { reportJson } from "../../checks/report";
import { InputError } from "../../core/errors";
import { writeOutputs } from "../../cli/outputs";
import { tempDir } from "../support/facility";
import { sessionReport } from "../support/evidence";

const FROM = { from: "ops@participant.example" };

/** Collects what a run prints and says, in the order it happens. */
function recorder() {
  const events: string[] = [];
  return {
    events,
    context: { stdout: (t: string) => events.push(`stdout:${t}`), notice: (l: string) => events.push(`notice:${l}`) },
  };
}

describe("writeOutputs", () => {
  it.each([...REPORT_COMMANDS])(
    "%s: writes in --report-dir exactly the companion files the registry gives the command",
    async (command) => {
      const dir = tempDir(`outputs-${command}`);
      const { context } = recorder();
      const written = await writeOutputs(sessionReport(), command, { reportDir: dir }, { ...context, email: FROM });
      const expected = formatsFor(command).flatMap((f) => (f.destination.kind === "report-dir" ? [f.destination.file] : []));
      expect(written).toEqual(expected.map((f) => join(dir, f)));
      expect(readdirSync(dir).sort()).toEqual([...expected].sort());
    },
  );

  it("session: report.json, report.html, junit.xml and the e-mail files, each with its renderer's content", async () => {
    const dir = tempDir("outputs-session-files");
    const report = sessionReport();
    const { context } = recorder();
    const written = await writeOutputs(report, "session", { reportDir: dir }, { ...context, email: FROM });
    expect(written.map((p) => p.slice(dir.length + 1))).toEqual([
      "report.json",
      "report.html",
      "junit.xml",
      "confirmation-email.txt",
      "confirmation.eml",
    ]);
    expect(readFileSync(join(dir, "report.json"), "utf8")).toBe(reportJson(report));
    expect(readFileSync(join(dir, "report.html"), "utf8")).toBe(renderHtml(report));
    expect(readFileSync(join(dir, "confirmation-email.txt"), "utf8")).toMatch(/^To: clearingpsd@hkex\.com\.hk\nSubject: /);
  });

  it("prints one result on stdout: text, TAP with --format tap, JSON with --json (which wins)", async () => {
    const report = sessionReport();
    for (const [request, expected] of [
      [{}, renderReport(report)],
      [{ format: "tap" }, renderTap(report)],
      [{ json: true, format: "tap" }, reportJson(report)],
    ] as const) {
      const { events, context } = recorder();
      expect(await writeOutputs(report, "check", request, context)).toEqual([]);
      expect(events).toEqual([`stdout:${expected}`]);
    }
  });

  it("prints the result, then fails naming --report-dir when the folder cannot be written; files named by flags are not written", async () => {
    const root = tempDir("outputs-blocked");
    writeFileSync(join(root, "a-file"), "x");
    const dir = join(root, "a-file", "evidence");
    const { events, context } = recorder();
    const err = await writeOutputs(sessionReport(), "check", { reportDir: dir, junit: join(root, "j.xml") }, context).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).problems).toEqual([
      {
        path: "--report-dir",
        message: `cannot write ${join(dir, "report.json")}: ENOTDIR (part of the path is a file, not a folder); the report is only on stdout`,
      },
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^stdout:hkex-ready session: FAIL/);
    expect(existsSync(join(root, "j.xml"))).toBe(false);
  });

  it("writes every file named by a flag it can, then names each flag it could not, after the result", async () => {
    const root = tempDir("outputs-flags");
    writeFileSync(join(root, "a-file"), "x");
    const { events, context } = recorder();
    const err = await writeOutputs(
      sessionReport(),
      "check",
      { junit: join(root, "a-file", "j.xml"), prometheus: join(root, "ok.prom") },
      context,
    ).catch((e: unknown) => e);
    expect((err as InputError).problems.map((p) => p.path)).toEqual(["--junit"]);
    expect((err as InputError).message).toContain(`--junit: cannot write ${join(root, "a-file", "j.xml")}: `);
    expect(existsSync(join(root, "ok.prom"))).toBe(true);
    expect(events.map((e) => e.split(":")[0])).toEqual(["stdout"]);
  });

  it("ignores flags the command does not offer", async () => {
    const root = tempDir("outputs-offer");
    const { context } = recorder();
    expect(await writeOutputs(sessionReport(), "demo", { junit: join(root, "j.xml"), prometheus: join(root, "m.prom") }, context)).toEqual(
      [],
    );
    expect(readdirSync(root)).toEqual([]);
  });
});
