/**
 * bin/hkex-ready.js and cli/launch.ts: which form of the CLI runs (the bundle
 * through its build-time code cache, the bundle alone, the compiled modules),
 * and that the CLI behaves the same in each. Every case runs a copy of the
 * built kit (npm test builds it first) in a temporary folder, as a user runs
 * it; NODE_DEBUG=hkex-ready makes the launcher say which form it loaded.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Script } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../checks/report";
import { startSimulator, type RunningSimulator } from "../../checks/simulator";
import { BUNDLE_FILE, CACHE_FILE, cacheFileContent, MODULES_FILE, type LoadedFrom } from "../../cli/launch";
import { writeConfig } from "../support/cli";
import { newUserKey, tempDir } from "../support/facility";

const REPO = join(__dirname, "..", "..");
const DIST = join(REPO, "dist");
const VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  /** stderr without the launcher's debug line. */
  readonly stderr: string;
  readonly from?: LoadedFrom;
  readonly why?: string;
}

interface Installation {
  readonly cliDir: string;
  readonly bundle: string;
  readonly cache: string;
  readonly modules: string;
  run(args: readonly string[], nodeArgs?: readonly string[]): Promise<Run>;
}

/** A copy of the built kit: bin/, package.json, dist/cli/ (as built, timestamps kept); the rest of dist/ and node_modules linked. */
function install(): Installation {
  const root = tempDir("launch");
  mkdirSync(join(root, "bin"));
  cpSync(join(REPO, "bin", "hkex-ready.js"), join(root, "bin", "hkex-ready.js"));
  cpSync(join(REPO, "package.json"), join(root, "package.json"));
  symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"));
  mkdirSync(join(root, "dist"));
  for (const entry of readdirSync(DIST)) if (entry !== "cli") symlinkSync(join(DIST, entry), join(root, "dist", entry));
  const cliDir = join(root, "dist", "cli");
  cpSync(join(DIST, "cli"), cliDir, { recursive: true, preserveTimestamps: true, filter: (src) => !src.endsWith(".map") });
  const bin = join(root, "bin", "hkex-ready.js");
  return {
    cliDir,
    bundle: join(cliDir, BUNDLE_FILE),
    cache: join(cliDir, CACHE_FILE),
    modules: join(cliDir, MODULES_FILE),
    run: (args, nodeArgs = []) =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          [...nodeArgs, bin, ...args],
          { cwd: root, env: { ...process.env, CI: "true", NO_COLOR: "1", NODE_DEBUG: "hkex-ready" }, timeout: 60_000 },
          (err, stdout, stderr) => {
            const said = /^HKEX-READY \d+: loaded the (bundle with code cache|bundle|modules)(?:: (.*))?\n/m.exec(stderr);
            const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
            resolve({
              code,
              stdout,
              stderr: stderr.replace(said?.[0] ?? "", ""),
              from: said?.[1] as LoadedFrom | undefined,
              why: said?.[2],
            });
          },
        );
      }),
  };
}

const FORMS = ["bundle with code cache", "bundle", "modules"] as const satisfies readonly LoadedFrom[];

/** A fresh copy of the kit that loads the given form. */
function installFor(form: LoadedFrom): Installation {
  const kit = install();
  if (form !== "bundle with code cache") rmSync(kit.cache);
  if (form === "modules") rmSync(kit.bundle);
  return kit;
}

describe("which form of the CLI bin/hkex-ready.js runs", () => {
  it("is built: the bundle, its cache and the modules (scripts/test.sh builds them before vitest)", () => {
    for (const file of [BUNDLE_FILE, CACHE_FILE, MODULES_FILE]) expect(existsSync(join(DIST, "cli", file)), file).toBe(true);
  });

  it("the bundle through its code cache, as the build left them", async () => {
    const r = await install().run(["--version"]);
    expect(r).toMatchObject({ code: 0, from: "bundle with code cache", why: undefined, stdout: `${VERSION}\n`, stderr: "" });
  });

  it("the bundle alone when the cache is missing; running never writes one", async () => {
    const kit = install();
    rmSync(kit.cache);
    const before = readdirSync(kit.cliDir).sort();
    const r = await kit.run(["--version"]);
    expect(r).toMatchObject({ code: 0, from: "bundle", why: `no ${CACHE_FILE}`, stdout: `${VERSION}\n` });
    expect(readdirSync(kit.cliDir).sort()).toEqual(before);
  });

  it("the bundle alone, and its new code, when the cache was made for another build of the same length (V8 checks only the length)", async () => {
    const kit = install();
    const source = readFileSync(kit.bundle, "latin1");
    const description = "Readiness checks, switchover session and evidence";
    expect(source).toContain(description);
    const changed = source.replace(description, description.toUpperCase());
    expect(changed.length).toBe(source.length);
    writeFileSync(kit.bundle, changed, "latin1");
    const r = await kit.run(["--help"]);
    expect(r).toMatchObject({ code: 0, from: "bundle", why: `${CACHE_FILE} was made for another build of ${BUNDLE_FILE}` });
    expect(r.stdout).toContain(description.toUpperCase());
  });

  it("the bundle alone when the cache's bytes are damaged or it is no cache at all", async () => {
    const kit = install();
    const cache = readFileSync(kit.cache);
    cache.fill(0x5a, cache.length / 2, cache.length / 2 + 64);
    writeFileSync(kit.cache, cache);
    expect(await kit.run(["--version"])).toMatchObject({
      code: 0,
      from: "bundle",
      why: `${CACHE_FILE} is damaged`,
      stdout: `${VERSION}\n`,
    });
    writeFileSync(kit.cache, "not V8's\n");
    expect(await kit.run(["--version"])).toMatchObject({ code: 0, from: "bundle", why: `${CACHE_FILE} is not a code cache` });
  });

  it("the bundle alone when V8 rejects the cache: data for another script, or a node run with other V8 flags", async () => {
    const kit = install();
    const r = await kit.run(["--version"], ["--max-old-space-size=512"]);
    expect(r).toMatchObject({ code: 0, from: "bundle", stdout: `${VERSION}\n` });
    expect(r.why).toMatch(/^V8 rejected main\.bundle\.cache/);
    const foreign = new Script("'another script'").createCachedData();
    writeFileSync(kit.cache, cacheFileContent(readFileSync(kit.bundle), foreign));
    const again = await kit.run(["--version"]);
    expect(again).toMatchObject({ code: 0, from: "bundle", stdout: `${VERSION}\n` });
    expect(again.why).toMatch(/^V8 rejected main\.bundle\.cache/);
  });

  it("the compiled modules when tsc ran after the last bundle (main.js is newer), until the next full build", async () => {
    const kit = install();
    const aDayAgo = new Date(Date.now() - 86_400_000);
    utimesSync(kit.bundle, aDayAgo, aDayAgo);
    const r = await kit.run(["--version"]);
    expect(r).toMatchObject({
      code: 0,
      from: "modules",
      why: `${BUNDLE_FILE} is older than ${MODULES_FILE} (compiled again since the last build)`,
    });
  });

  it("the compiled modules when there is no bundle", async () => {
    const r = await installFor("modules").run(["--version"]);
    expect(r).toMatchObject({ code: 0, from: "modules", why: `no ${BUNDLE_FILE}`, stdout: `${VERSION}\n` });
  });

  it("the compiled modules from a dist/ built before the launcher existed (main.js, no launch.js)", async () => {
    const kit = install();
    rmSync(join(kit.cliDir, "launch.js"));
    rmSync(kit.bundle);
    expect(await kit.run(["--version"])).toMatchObject({ code: 0, stdout: `${VERSION}\n`, stderr: "", from: undefined });
    expect(await kit.run(["check"])).toMatchObject({
      code: 2,
      stderr: "hkex-ready: required option '-c, --config <file>' not specified\n(run with --help for usage)\n",
    });
  });

  it("none, saying so, when the CLI is not built", async () => {
    const kit = install();
    rmSync(kit.cliDir, { recursive: true });
    const r = await kit.run(["--version"]);
    expect(r).toMatchObject({ code: 2, stdout: "", stderr: "hkex-ready: not built yet; run `npm run build` first\n", from: undefined });
  });
});

describe("the CLI behaves the same in each form", () => {
  const dir = tempDir("launch-sim");
  let sim: RunningSimulator;
  let config: string;
  const kits = new Map(FORMS.map((form) => [form, installFor(form)]));

  beforeAll(async () => {
    const key = newUserKey(dir);
    sim = await startSimulator({ authorizedKeys: [key.publicLine], user: "CP0001", port: 0 });
    writeFileSync(join(dir, "known_hosts"), sim.knownHosts());
    const sites = sim.configSites();
    config = writeConfig(dir, {
      user: "CP0001",
      identityFile: key.privatePath,
      knownHostsFile: "./known_hosts",
      files: ["TP001"],
      downloadDir: "./downloads",
      sites: { primary: { hosts: sites.primary.hosts }, secondary: { hosts: sites.secondary.hosts } },
      timeouts: { connectMs: 1000, handshakeMs: 3000, operationMs: 3000, transferMs: 10000 },
    });
  });
  afterAll(async () => {
    await sim?.close();
  });

  describe.each(FORMS)("through the %s", (form) => {
    const kit = kits.get(form)!;

    it("--version, and usage errors with exit 2", async () => {
      expect(await kit.run(["--version"])).toMatchObject({ code: 0, from: form, stdout: `${VERSION}\n`, stderr: "" });
      const missing = await kit.run(["check"]);
      expect(missing).toMatchObject({ code: 2, from: form, stdout: "" });
      expect(missing.stderr).toBe("hkex-ready: required option '-c, --config <file>' not specified\n(run with --help for usage)\n");
      expect(await kit.run(["frobnicate"])).toMatchObject({
        code: 2,
        stderr: "hkex-ready: unknown command 'frobnicate'\n(run with --help for usage)\n",
      });
      const nowhere = join(dir, "nowhere.yaml");
      expect(await kit.run(["check", "--config", nowhere])).toMatchObject({
        code: 2,
        stdout: "",
        stderr: `hkex-ready: --config: cannot read ${nowhere}: ENOENT\n`,
      });
    });

    it("a check that passes (exit 0) and one that fails (exit 1) naming endpoint, phase and cause", async () => {
      const pass = await kit.run(["check", "--config", config, "--site", "primary", "--download", "--json"]);
      expect(pass).toMatchObject({ code: 0, from: form, stderr: "" });
      const report = JSON.parse(pass.stdout) as Report;
      expect(report.verdict).toBe("pass");
      expect(report.downloads.map((d) => d.file)).toEqual(["TP001", "TP001"]);
      await sim.setFault("10.152.14.142", "reject-auth");
      try {
        const fail = await kit.run(["check", "--config", config, "--site", "secondary"]);
        const bad = sim.endpoints.find((e) => e.host === "10.152.14.142")!;
        expect(fail).toMatchObject({ code: 1, from: form });
        expect(fail.stdout).toContain(`secondary ${bad.bindHost}:${bad.port}  FAIL`);
        expect(fail.stdout).toMatch(/✗ auth: server rejected publickey login for user "CP0001"/);
      } finally {
        await sim.setFault("10.152.14.142", "none");
      }
    });
  });

  it("prints the same help and the same schedule in every form", async () => {
    const outputs = await Promise.all(
      FORMS.map(async (form) => {
        const kit = kits.get(form)!;
        const runs = [await kit.run(["check", "--help"]), await kit.run(["schedule", "--now", "2026-06-01T01:00:00Z", "--json"])];
        for (const r of runs) expect(r).toMatchObject({ code: 0, from: form, stderr: "" });
        return runs.map((r) => r.stdout);
      }),
    );
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[2]).toEqual(outputs[0]);
    expect(outputs[0]![0]).toContain("--download");
  });
});
