/**
 * The component as a library, the way awsx is used: another Pulumi program
 * installs this package and imports "hkex-sftp-readiness/infra". The package
 * is linked into a temporary node_modules, then resolved as Node and as
 * TypeScript (moduleResolution node16) would from that program.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(".");

function consumer(): string {
  const dir = mkdtempSync(join(tmpdir(), "hkex-consumer-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(ROOT, join(dir, "node_modules", "hkex-sftp-readiness"), "dir");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "network-stack", private: true }));
  return dir;
}

describe("hkex-sftp-readiness as a package", () => {
  const dir = consumer();
  const req = createRequire(join(dir, "index.js"));

  it("resolves ./infra to the compiled component entry and . to the checks API, each with declarations", () => {
    expect(realpathSync(req.resolve("hkex-sftp-readiness/infra"))).toBe(join(ROOT, "dist/infra/component.js"));
    expect(realpathSync(req.resolve("hkex-sftp-readiness"))).toBe(join(ROOT, "dist/checks/index.js"));
    expect(existsSync(join(ROOT, "dist/infra/component.d.ts"))).toBe(true);
    expect(existsSync(join(ROOT, "dist/checks/index.d.ts"))).toBe(true);
    expect(readFileSync(join(ROOT, "dist/infra/component.d.ts"), "utf8")).toMatch(/\bSftpAccess\b.*from "\.\/sftpAccess"/);
  });

  it("does not expose the stack program, which declares resources when loaded", () => {
    expect(() => req.resolve("hkex-sftp-readiness/dist/infra/index.js")).toThrow(/not defined by "exports"|ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it("gives TypeScript the declarations through the exports' types condition", () => {
    const options = { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 };
    const from = join(dir, "index.ts");
    const infra = ts.resolveModuleName("hkex-sftp-readiness/infra", from, options, ts.sys).resolvedModule;
    expect(infra && realpathSync(infra.resolvedFileName)).toBe(join(ROOT, "dist/infra/component.d.ts"));
    const checks = ts.resolveModuleName("hkex-sftp-readiness", from, options, ts.sys).resolvedModule;
    expect(checks && realpathSync(checks.resolvedFileName)).toBe(join(ROOT, "dist/checks/index.d.ts"));
  });

  it("loads in another program and declares nothing until asked", () => {
    const script = [
      'const infra = require("hkex-sftp-readiness/infra");',
      'const checks = require("hkex-sftp-readiness");',
      'const args = infra.sftpAccessArgs({ vpcId: "vpc-0a1b2c3d4e5f60789" });',
      "console.log(JSON.stringify({ component: typeof infra.SftpAccess, type: infra.SFTP_ACCESS_TYPE, base: args.naclRuleNumberBase, load: typeof checks.loadConfig }));",
    ].join("\n");
    const r = spawnSync(process.execPath, ["-e", script], { cwd: dir, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ component: "function", type: "hkex:network:SftpAccess", base: 200, load: "function" });
    // Loading the Pulumi SDK in a fresh process takes seconds on a busy machine.
  }, 60_000);
});
