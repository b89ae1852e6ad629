/**
 * scripts/bundle-cli.js: the CLI's bundle and its code cache as the build
 * leaves them in dist/cli/ (npm test builds them first), ssh2 inside the
 * bundle with its optional native binding still where ssh2 would find it,
 * and the bench's `-r no-native-binding` still hiding that binding.
 */
import { execFile, execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../checks/report";
import { startSimulator, type RunningSimulator } from "../../checks/simulator";
import { BUNDLE_FILE, CACHE_FILE, readCache } from "../../cli/launch";
import { writeConfig } from "../support/cli";
import { newUserKey, tempDir } from "../support/facility";

const CLI_DIR = join(__dirname, "..", "..", "dist", "cli");
const BUNDLE = join(CLI_DIR, BUNDLE_FILE);
const NO_NATIVE_BINDING = join(__dirname, "..", "..", "dist", "bench", "no-native-binding.js");

/** Where `request` resolves from `file`'s folder, or undefined when it does not. */
function resolvedFrom(file: string, request: string): string | undefined {
  try {
    return createRequire(file).resolve(request);
  } catch {
    return undefined;
  }
}

/** The request the bundle makes for ssh2's native crypto binding. */
function bindingRequest(): string {
  const found = /require\("([^"]*sshcrypto\.node)"\)/.exec(readFileSync(BUNDLE, "latin1"));
  expect(found, "the bundle requires ssh2's binding").not.toBeNull();
  return found![1]!;
}

describe("the CLI's bundle (dist/cli/main.bundle.js)", () => {
  it("comes with a code cache made for exactly this bundle", () => {
    const { data, why } = readCache(join(CLI_DIR, CACHE_FILE), readFileSync(BUNDLE));
    expect(why).toBeUndefined();
    expect(data!.length).toBeGreaterThan(0);
  });

  it("requires ssh2's native binding by its package path, which resolves to what ssh2's own require would load", () => {
    const request = bindingRequest();
    expect(request).toBe("ssh2/lib/protocol/crypto/build/Release/sshcrypto.node");
    const ssh2Crypto = createRequire(__filename).resolve("ssh2/lib/protocol/crypto.js");
    expect(resolvedFrom(BUNDLE, request)).toBe(resolvedFrom(ssh2Crypto, "./crypto/build/Release/sshcrypto.node"));
  });

  it("lets the bench's -r no-native-binding hide that binding, so the bench measures the pure-JS path", () => {
    const script = `try { require("node:module").createRequire(${JSON.stringify(BUNDLE)}).resolve(${JSON.stringify(bindingRequest())}); console.log("visible"); } catch (e) { console.log(e.code + ": " + e.message); }`;
    const out = execFileSync(process.execPath, ["-r", NO_NATIVE_BINDING, "-e", script], { encoding: "utf8" });
    expect(out).toMatch(/^MODULE_NOT_FOUND: .*sshcrypto\.node is hidden by the benchmark \(pure-JS ssh2 only\)\n$/);
  });

  describe("a check run through it", () => {
    const dir = tempDir("bundle-cli");
    let sim: RunningSimulator;
    let config: string;

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

    it("takes ssh2's code from the bundle, its native binding from node_modules where built, and loads no @pulumi/*", async () => {
      const script = `
        const { loadCli } = require(${JSON.stringify(join(CLI_DIR, "launch.js"))});
        const loaded = loadCli(${JSON.stringify(CLI_DIR)});
        const write = process.stdout.write.bind(process.stdout);
        let report = "";
        process.stdout.write = (s) => ((report += s), true);
        loaded.cli.main(["node", "hkex-ready", "check", "--config", ${JSON.stringify(config)}, "--site", "primary", "--json"]).then((code) => {
          const loadedFiles = Object.keys(require.cache);
          write(JSON.stringify({ from: loaded.from, code, report: JSON.parse(report),
            ssh2: loadedFiles.filter((f) => f.includes("/node_modules/ssh2/") && f.endsWith(".js")),
            native: loadedFiles.filter((f) => f.endsWith("sshcrypto.node")),
            pulumi: loadedFiles.filter((f) => f.includes("/node_modules/@pulumi/")) }));
          process.exit(0);
        });`;
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ["-e", script], { env: { ...process.env, CI: "true" }, cwd: dir }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
        ),
      );
      const r = JSON.parse(out) as { from: string; code: number; report: Report; ssh2: string[]; native: string[]; pulumi: string[] };
      expect(r.from).toBe("bundle with code cache");
      expect(r.code).toBe(0);
      expect(r.report.endpoints.map((e) => e.verdict)).toEqual(["pass", "pass"]);
      expect(r.ssh2).toEqual([]);
      const built = resolvedFrom(createRequire(__filename).resolve("ssh2/lib/protocol/crypto.js"), "./crypto/build/Release/sshcrypto.node");
      expect(r.native).toEqual(built ? [built] : []);
      expect(r.pulumi).toEqual([]);
    });
  });
});
