/** The command table: each command's output flags are exactly the registry's, and the choices come from the catalogue. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { Option, type Command } from "commander";
import { describe, expect, it } from "vitest";
import { SESSION_PARTS, SITE_NAMES } from "../../catalogue";
import {
  OUTPUT_FORMATS,
  outputFlags,
  PROGRESS_FLAG,
  REPORT_COMMANDS,
  REPORT_DIR_FLAGS,
  type OutputFlag,
} from "../../checks/evidence/formats";
import { WEATHER_WARNINGS } from "../../checks/weather";
import { buildProgram, COMMANDS, isReportCommand } from "../../cli/program";

/** The program as bin/hkex-ready.js builds it, recording the options each command would run with. */
function program(): { program: Command; ran: { name: string; opts: Record<string, unknown> }[] } {
  const ran: { name: string; opts: Record<string, unknown> }[] = [];
  const p = buildProgram(async (load, opts) => {
    const spec = COMMANDS.find((c) => c.load === load)!;
    ran.push({ name: spec.name, opts: opts as Record<string, unknown> });
  });
  return { program: p, ran };
}

const longName = (o: Option) => o.long!;
const commandNamed = (p: Command, name: string) => p.commands.find((c) => c.name() === name)!;

/** Every flag any format, --report-dir variant or the progress switch defines. */
const REGISTRY_FLAGS: readonly OutputFlag[] = [
  ...REPORT_COMMANDS.flatMap((c) => outputFlags(c)),
  ...Object.values(REPORT_DIR_FLAGS),
  PROGRESS_FLAG,
  ...OUTPUT_FORMATS.flatMap((f) => f.options ?? []),
];

describe("the command table", () => {
  const { program: p } = program();

  it("has every command once, each in its own module", () => {
    const names = p.commands.map((c) => c.name());
    expect(names).toEqual(COMMANDS.map((c) => c.name));
    expect(new Set(names).size).toBe(names.length);
    for (const c of REPORT_COMMANDS) expect(names).toContain(c);
  });

  it.each([...REPORT_COMMANDS])("gives %s exactly the registry's output flags, and no hand-made copy of one", (name) => {
    const spec = COMMANDS.find((c) => c.name === name)!;
    const own = spec.options().map(longName);
    const offered = commandNamed(p, name).options.map(longName);
    const registry = outputFlags(name).map((f) => new Option(f.flags).long!);
    expect(offered.filter((o) => !own.includes(o))).toEqual(registry);
    const outputNames = new Set(REGISTRY_FLAGS.map((f) => new Option(f.flags).long!));
    expect(own.filter((o) => outputNames.has(o))).toEqual([]);
  });

  it("offers no report output flag to a command that writes no report (plan, policy, schedule print their own --json)", () => {
    for (const spec of COMMANDS.filter((c) => !isReportCommand(c.name))) {
      const offered = commandNamed(p, spec.name).options.map(longName);
      expect(offered, spec.name).toEqual(spec.options().map(longName));
    }
  });

  it("stores each registry flag's value under the key the registry names", () => {
    for (const flag of REGISTRY_FLAGS) expect(new Option(flag.flags).attributeName(), flag.flags).toBe(flag.key);
  });

  it("takes --site, --part and --weather choices from the catalogue and the weather rules", () => {
    const choices = (command: string, flag: string) => commandNamed(p, command).options.find((o) => o.long === flag)!.argChoices;
    expect(choices("check", "--site")).toEqual([...SITE_NAMES, "all"]);
    expect(choices("trust", "--site")).toEqual([...SITE_NAMES, "all"]);
    expect(choices("session", "--part")).toEqual(SESSION_PARTS.map((w) => String(w.part)));
    expect(choices("session", "--weather")).toEqual([...WEATHER_WARNINGS]);
    expect(choices("check", "--format")).toEqual(["text", "tap"]);
  });

  it("hands the command its output flags with the registry's defaults", async () => {
    const { program: q, ran } = program();
    await q.parseAsync(["node", "hkex-ready", "check", "-c", "hkex.yaml", "--format", "tap", "--junit", "j.xml", "--no-progress"]);
    await q.parseAsync(["node", "hkex-ready", "demo", "--attach"]);
    expect(ran[0]).toEqual({
      name: "check",
      opts: { config: "hkex.yaml", site: "all", format: "tap", junit: "j.xml", progress: false },
    });
    expect(ran[1]).toEqual({ name: "demo", opts: { reportDir: "./evidence/demo", attach: true, progress: true } });
  });

  it("is built with commander alone of the packages: --version and --help load no ssh2, zod, yaml or luxon", () => {
    const script = `
      const { buildProgram } = require(${JSON.stringify(join(__dirname, "..", "..", "dist", "cli", "program.js"))});
      buildProgram(async () => {});
      const packages = Object.keys(require.cache).map((f) => /node_modules\\/((@[^/]+\\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean);
      process.stdout.write(JSON.stringify([...new Set(packages)]));`;
    expect(JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }))).toEqual(["commander"]);
  });
});
