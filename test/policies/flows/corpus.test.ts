/**
 * The flow evaluator on every stack of the corpus (test/fixtures/corpus):
 * the verdict, the finding and the hop or rule it names, as the corpus
 * README's table states them.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateHkexFlows, fromStateResource, type FlowEvaluation } from "../../../policies/flows";
import { loadStateDocument } from "../../../policies/state";

const DIR = "test/fixtures/corpus";

interface Row {
  readonly n: number;
  readonly file: string;
  readonly form: "export" | "preview";
  readonly verdict: "pass" | "fail";
  readonly finding?: string;
  readonly names: readonly string[];
}

/** The rows of the README table; a code span may use `` to hold a backtick. */
function readTable(): Row[] {
  const text = readFileSync(join(DIR, "README.md"), "utf8");
  return text
    .split("\n")
    .filter((line) => /^\| \d+ \|/.test(line))
    .map((line) => {
      const cells = line
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim());
      const [n, file, form, verdict, finding, names] = cells;
      if (file === undefined || verdict === undefined || names === undefined)
        throw new Error(`corpus README: a row with too few cells: ${line}`);
      return {
        n: Number(n),
        file,
        form: form as Row["form"],
        verdict: verdict.toLowerCase() as Row["verdict"],
        finding: finding === "—" ? undefined : finding,
        names: [...names.matchAll(/(`+)(.+?)\1/g)].map((m) => (m[2] ?? "").trim()),
      };
    });
}

function evaluate(file: string): { evaluation: FlowEvaluation; format: string } {
  const state = loadStateDocument(JSON.parse(readFileSync(join(DIR, file), "utf8")), file);
  return { evaluation: evaluateHkexFlows(state.resources.map(fromStateResource)), format: state.format };
}

const rows = readTable();

describe("the corpus table", () => {
  it("has a row for every fixture and a fixture for every row, at least 30", () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith(".json"));
    expect(rows.map((r) => r.file).sort()).toEqual(files.sort());
    expect(rows.length).toBeGreaterThanOrEqual(30);
    expect(rows.map((r) => r.n)).toEqual(rows.map((_, i) => i + 1));
  });

  it("holds passing ordinary stacks and failing ones, in both document forms", () => {
    expect(rows.filter((r) => r.verdict === "pass").length).toBeGreaterThanOrEqual(10);
    expect(rows.filter((r) => r.verdict === "fail").length).toBeGreaterThanOrEqual(10);
    expect(rows.filter((r) => r.form === "preview").length).toBeGreaterThanOrEqual(3);
    expect(rows.every((r) => r.names.length > 0)).toBe(true);
  });
});

describe.each(rows)("#$n $file", (row) => {
  const { evaluation, format } = evaluate(row.file);

  it(`is read as ${row.form === "export" ? "a stack export" : "preview JSON"}`, () => {
    expect(format).toBe(row.form === "export" ? "stack-export" : "preview-json");
  });

  it(`is a ${row.verdict.toUpperCase()}`, () => {
    expect(evaluation.verdict).toBe(row.verdict);
    const mandatory = evaluation.findings.filter((f) => f.level === "mandatory");
    if (row.verdict === "pass") expect(mandatory).toEqual([]);
    else expect(mandatory.length).toBeGreaterThan(0);
  });

  if (row.finding) {
    it(`reports ${row.finding}, naming ${row.names.join(" and ")}`, () => {
      const level = row.verdict === "fail" ? "mandatory" : "advisory";
      const found = evaluation.findings.filter((f) => f.code === row.finding && f.level === level);
      expect(found.length).toBeGreaterThan(0);
      for (const name of row.names) expect(found.map((f) => f.message).join("\n")).toContain(name);
    });
  } else {
    it(`reports nothing, and its paths name ${row.names.join(" and ")}`, () => {
      expect(evaluation.findings).toEqual([]);
      const traces = evaluation.scopes.flatMap((s) => s.paths.map((p) => p.trace)).join("\n");
      for (const name of row.names) expect(traces).toContain(name);
      expect(evaluation.scopes.every((s) => s.paths.every((p) => p.status === "reachable"))).toBe(true);
    });
  }

  it("explains itself in plain JSON", () => {
    expect(JSON.parse(JSON.stringify(evaluation))).toEqual(evaluation);
  });
});
