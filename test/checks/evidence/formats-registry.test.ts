/** The one registry of output formats: each format once, each with a way to be asked for, documented. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  flagName,
  formatChoices,
  OUTPUT_FORMATS,
  outputFlags,
  PROGRESS_FLAG,
  REPORT_COMMANDS,
  REPORT_DIR_FLAGS,
  stdoutFormat,
  type FormatRun,
} from "../../../checks/evidence/formats";
import { renderTap } from "../../../checks/evidence/tap";
import { renderReport } from "../../../checks/evidence/text";
import { reportJson } from "../../../checks/report";
import { sessionReport } from "../../support/evidence";

const DOCS = readFileSync(join(__dirname, "..", "..", "..", "docs", "evidence.md"), "utf8");

describe("the output format registry", () => {
  it("lists every format once", () => {
    const names = OUTPUT_FORMATS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(
      [
        "text",
        "json",
        "tap",
        "report.json",
        "report.html",
        "junit.xml",
        "confirmation-email.txt",
        "confirmation.eml",
        "junit",
        "prometheus",
      ].sort(),
    );
    const files = OUTPUT_FORMATS.flatMap((f) => (f.destination.kind === "report-dir" ? [f.destination.file] : []));
    expect(new Set(files).size).toBe(files.length);
    const fileFlags = OUTPUT_FORMATS.flatMap((f) => (f.destination.kind === "flag-file" ? [f.destination.flag.flags] : []));
    expect(new Set(fileFlags).size).toBe(fileFlags.length);
  });

  it("gives every format at least one command, only commands that write a report", () => {
    for (const f of OUTPUT_FORMATS) {
      expect(f.commands.length, f.name).toBeGreaterThan(0);
      for (const c of f.commands) expect(REPORT_COMMANDS, f.name).toContain(c);
    }
  });

  it("has exactly one default stdout format, offered by every report command", () => {
    const defaults = OUTPUT_FORMATS.filter((f) => f.destination.kind === "stdout" && f.destination.chosenBy === "default");
    expect(defaults.map((f) => f.name)).toEqual(["text"]);
    expect([...defaults[0]!.commands]).toEqual([...REPORT_COMMANDS]);
  });

  it("offers each command its flags once, --report-dir only where a companion file goes, --no-progress everywhere", () => {
    for (const c of REPORT_COMMANDS) {
      const flags = outputFlags(c).map((f) => f.flags);
      expect(new Set(flags).size, c).toBe(flags.length);
      expect(flags, c).toContain(REPORT_DIR_FLAGS[c].flags);
      expect(flags, c).toContain(PROGRESS_FLAG.flags);
    }
    expect(outputFlags("check").map(flagName)).toEqual(["--json", "--format", "--report-dir", "--junit", "--prometheus", "--no-progress"]);
    expect(outputFlags("session").map(flagName)).toEqual(["--json", "--format", "--report-dir", "--junit", "--attach", "--no-progress"]);
    expect(outputFlags("demo").map(flagName)).toEqual(["--json", "--report-dir", "--attach", "--no-progress"]);
    expect(REPORT_DIR_FLAGS.session.required).toBe(true);
    expect(REPORT_DIR_FLAGS.demo.default).toBe("./evidence/demo");
  });

  it("derives --format's choices from the stdout formats chosen by name, and offers none when there is no choice", () => {
    expect(formatChoices("check")).toEqual(["text", "tap"]);
    expect(formatChoices("session")).toEqual(["text", "tap"]);
    expect(formatChoices("demo")).toEqual([]);
  });

  it("prints one stdout format: --json wins over --format, text by default, a name the command does not offer falls back to text", async () => {
    expect(stdoutFormat("check", {}).name).toBe("text");
    expect(stdoutFormat("check", { format: "tap" }).name).toBe("tap");
    expect(stdoutFormat("session", { json: true, format: "tap" }).name).toBe("json");
    expect(stdoutFormat("demo", { format: "tap" }).name).toBe("text");
    const report = sessionReport();
    const run: FormatRun = { request: {}, notice: () => undefined };
    expect(await stdoutFormat("check", {}).render(report, run)).toBe(renderReport(report));
    expect(await stdoutFormat("check", { format: "tap" }).render(report, run)).toBe(renderTap(report));
    expect(await stdoutFormat("demo", { json: true }).render(report, run)).toBe(reportJson(report));
  });

  it("writes the e-mail files only at the end of a session, never after --part 1 alone nor for a check", () => {
    const session = sessionReport();
    const check = { ...session, kind: "check" as const, session: undefined };
    const run = (part?: string): FormatRun => ({ request: {}, part, notice: () => undefined });
    for (const name of ["confirmation-email.txt", "confirmation.eml"]) {
      const f = OUTPUT_FORMATS.find((x) => x.name === name)!;
      expect(f.commands).not.toContain("check");
      expect(f.wanted!(session, run()), name).toBe(true);
      expect(f.wanted!(session, run("2")), name).toBe(true);
      expect(f.wanted!(session, run("1")), name).toBe(false);
      expect(f.wanted!(check, run()), name).toBe(false);
    }
    const eml = OUTPUT_FORMATS.find((x) => x.name === "confirmation.eml")!;
    expect(eml.withheld!(session, run())).toMatch(/^email\.from is not set in the config/);
    expect(eml.withheld!(session, { ...run(), email: { from: "ops@participant.example" } })).toBeUndefined();
  });

  it("is documented: every file and every output flag appears in docs/evidence.md", () => {
    for (const f of OUTPUT_FORMATS) {
      if (f.destination.kind === "report-dir") expect(DOCS).toContain(`\`${f.destination.file}\``);
    }
    for (const c of REPORT_COMMANDS) for (const flag of outputFlags(c)) expect(DOCS, flag.flags).toContain(flagName(flag));
  });
});
