/** Exit codes live in their own module: commands import it, never the entry that loads them. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT, exitCodeForSignal } from "../../cli/exitCodes";

const COMMANDS_DIR = join(__dirname, "..", "..", "cli", "commands");

describe("exit codes", () => {
  it("map a signal before the verdict, and the verdict to 0 or 1", () => {
    expect(exitCodeForSignal("SIGINT", "pass")).toBe(130);
    expect(exitCodeForSignal("SIGTERM", "fail")).toBe(143);
    expect(exitCodeForSignal(undefined, "pass")).toBe(EXIT.ok);
    expect(exitCodeForSignal(undefined, "fail")).toBe(EXIT.failed);
  });

  it("are not imported from cli/main by any command module (main loads the commands)", () => {
    const modules = readdirSync(COMMANDS_DIR).filter((f) => f.endsWith(".ts"));
    expect(modules.length).toBeGreaterThan(0);
    for (const file of modules) {
      const source = readFileSync(join(COMMANDS_DIR, file), "utf8");
      expect(source, file).not.toMatch(/from "\.\.\/main"/);
      expect(source, file).not.toMatch(/process\.exit\(/);
    }
  });
});
