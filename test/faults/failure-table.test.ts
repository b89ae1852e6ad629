/**
 * README "What each failure means" against the code: every cause code a
 * phase declares has a row for that phase saying what the CP should do, every
 * code named there exists, and every phase named there is a phase that
 * declares the codes of its row.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RUNNER_CAUSES } from "../../checks/probe/table";
import { PHASE_TABLE } from "../../checks/probe/table";
import { CAUSE_CODES, PHASES } from "../../checks/report";

const ROOT = join(__dirname, "..", "..");
/** Codes that are not failures of their own (skips) or never reach a report. */
const NOT_IN_TABLE = ["earlier-phase-failed", "not-requested", "cancelled"];

function causeCodes(): string[] {
  return [...CAUSE_CODES];
}

function table(): { phases: string[]; codes: string[]; todo: string }[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(
    readme.indexOf("## What each failure means"),
    readme.indexOf("\n## ", readme.indexOf("## What each failure means") + 3),
  );
  return section
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| phase ") && !l.startsWith("|---"))
    .map((l) => {
      const [phases, codes, , todo] = l.slice(2, -2).split(" | ");
      return { phases: phases!.split(", "), codes: [...codes!.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!), todo: todo ?? "" };
    });
}

describe("README: what each failure means", () => {
  it("has a row, with what to do, for every cause code a phase reports", () => {
    const rows = table();
    const documented = new Set(rows.flatMap((r) => r.codes));
    expect(causeCodes().filter((c) => !NOT_IN_TABLE.includes(c) && !documented.has(c))).toEqual([]);
    for (const r of rows) expect(r.todo.length, r.codes.join("/")).toBeGreaterThan(10);
  });

  it("has a row naming the phase (or any phase) for every cause each phase declares, and for the runner's own", () => {
    const rows = table();
    const documented = (phase: string, code: string) =>
      rows.some((r) => r.codes.includes(code) && (r.phases.includes(phase) || r.phases.includes("any")));
    const declared = [
      ...PHASE_TABLE.flatMap((p) => p.causes.map((code: string) => ({ phase: p.name as string, code }))),
      ...RUNNER_CAUSES.map((code) => ({ phase: "any", code })),
    ];
    expect(declared.filter((d) => !NOT_IN_TABLE.includes(d.code) && !documented(d.phase, d.code))).toEqual([]);
  });

  it("every code in a phase's row is one that phase declares", () => {
    for (const r of table()) {
      for (const phase of r.phases.filter((p) => p !== "any")) {
        const declared: readonly string[] = PHASE_TABLE.find((p) => p.name === phase)?.causes ?? [];
        expect(
          r.codes.filter((c) => !declared.includes(c)),
          `${phase}: ${r.codes.join("/")}`,
        ).toEqual([]);
      }
    }
  });

  it("names only real codes and phases", () => {
    const codes = causeCodes();
    for (const r of table()) {
      expect(r.codes.filter((c) => !codes.includes(c))).toEqual([]);
      expect(r.phases.filter((p) => p !== "any" && !(PHASES as readonly string[]).includes(p))).toEqual([]);
    }
  });

  it("tells the CP not to trust a changed host key and to call the DCASS hotline", () => {
    const mismatch = table().find((r) => r.codes.includes("hostkey-mismatch"))!;
    expect(mismatch.todo).toMatch(/\*\*Do not trust it\*\*.*Call the DCASS hotline 2979 7222/);
  });
});
