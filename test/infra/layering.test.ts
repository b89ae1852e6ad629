/**
 * Imports run one way: cli → domain (checks, infra, policies) → core and
 * catalogue. Within the domain, the Pulumi program (infra/) does not reach
 * into the policy pack or the checks, and the pack uses only infra's small
 * modules that need neither the Pulumi SDK nor the provider, so that it can
 * be built on its own.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = normalize(join(__dirname, "../.."));

function sourcesOf(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .map((f) => join(folder, f));
}

/** The import specifiers of a source file; project files as repo-relative paths without extension. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(join(ROOT, file), "utf8"), true, true);
  return importedFiles.map(({ fileName }) => (fileName.startsWith(".") ? relative(ROOT, join(ROOT, dirname(file), fileName)) : fileName));
}

const topFolder = (path: string) => path.split(/[\\/]/)[0] ?? path;

/** Every project module `file` reaches, itself included, and every package they import. */
function closureOf(file: string): { modules: Set<string>; packages: Set<string> } {
  const modules = new Set<string>();
  const packages = new Set<string>();
  const visit = (module: string) => {
    if (modules.has(module)) return;
    modules.add(module);
    const path = sourcesOf(topFolder(module)).find((f) => f === `${module}.ts` || f === join(module, "index.ts"));
    if (path === undefined) throw new Error(`cannot find the source of ${module}`);
    for (const spec of importsOf(path)) {
      if (spec.startsWith("node:") || !spec.includes("/") || spec.startsWith("@")) packages.add(spec);
      else visit(spec);
    }
  };
  visit(file.replace(/\.ts$/, "").replace(/[\\/]index$/, ""));
  return { modules, packages };
}

const projectImports = (folder: string) =>
  sourcesOf(folder).flatMap((file) => importsOf(file).map((target) => ({ file, target, folder: topFolder(target) })));

describe("folder layering", () => {
  it.each([
    ["infra", ["policies", "checks", "cli", "bench"]],
    ["policies", ["checks", "cli", "bench"]],
    ["core", ["checks", "infra", "policies", "cli", "bench"]],
    ["catalogue", ["core", "checks", "infra", "policies", "cli", "bench"]],
  ])("%s/ imports nothing from %j", (folder, forbidden) => {
    expect(projectImports(folder).filter((i) => forbidden.includes(i.folder))).toEqual([]);
  });

  it("policies/ takes from infra/ only small modules that need no package but netmask", () => {
    const fromInfra = [
      ...new Set(
        projectImports("policies")
          .filter((i) => i.folder === "infra")
          .map((i) => i.target),
      ),
    ];
    expect(fromInfra.length).toBeGreaterThan(0);
    for (const module of fromInfra) {
      const { packages } = closureOf(module);
      expect({ module, packages: [...packages].filter((p) => p !== "netmask") }).toEqual({ module, packages: [] });
    }
  });
});
