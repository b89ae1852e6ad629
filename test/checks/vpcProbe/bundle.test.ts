/**
 * The VPC probe's bundle (`npm run bundle:vpc-probe`): one file that loads on
 * its own, outside the repository (no node_modules to fall back on), and whose
 * `handler`, as Lambda would call it, reads the key from Secrets Manager (a
 * loopback stand-in, reached through the SDK's own endpoint setting), probes
 * the simulator and prints EMF lines on stdout.
 */
import { execFile } from "node:child_process";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../../checks/simulator";
import { newUserKey, tempDir } from "../../support/facility";
import { awsTestEnv, fakeSecretsManager, probeEvent, type FakeSecretsManager } from "../../support/vpcProbe";

const ROOT = join(__dirname, "..", "..", "..");

function node(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      // A clean environment: only what Lambda would give the function, and the test's fakes.
      { cwd, env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe("VPC probe bundle", () => {
  const dir = tempDir("vpc-bundle");
  const outdir = join(dir, "vpc-probe");
  let sim: RunningSimulator;
  let secrets: FakeSecretsManager;
  let keyText: string;

  beforeAll(async () => {
    const key = newUserKey(dir);
    keyText = readFileSync(key.privatePath, "utf8");
    sim = await startSimulator({ authorizedKeys: [key.publicLine], user: "CP0001", port: 0, bind: "aliases" });
    secrets = await fakeSecretsManager({ "hkex/sftp-login-key": { SecretString: keyText } });
    const built = await node([join(ROOT, "scripts", "bundle-vpc-probe.js"), outdir], {}, ROOT);
    expect(built.stderr).toBe("");
    expect(built.stdout).toMatch(/^bundled \d+ modules into .*index\.js \(handler: index\.handler\)\n$/);
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
    await secrets?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is one self-contained CommonJS file exporting the handler", async () => {
    expect(statSync(join(outdir, "index.js")).size).toBeGreaterThan(100_000);
    const r = await node(
      [
        "-e",
        `const m = require("./index.js");
         const outside = Object.keys(require.cache).filter((f) => f !== require.resolve("./index.js"));
         process.stdout.write(JSON.stringify({ handler: typeof m.handler, createHandler: typeof m.createHandler, outside }));`,
      ],
      {},
      outdir,
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ handler: "function", createHandler: "function", outside: [] });
  });

  it("runs as Lambda would: key from Secrets Manager, check against the simulator, EMF lines on stdout", async () => {
    const eventFile = join(dir, "event.json");
    writeFileSync(eventFile, JSON.stringify(probeEvent(sim, { keySecretId: undefined, probe: undefined })));
    const r = await node(
      [
        "-e",
        `const { handler } = require("./index.js");
         const event = JSON.parse(require("node:fs").readFileSync(${JSON.stringify(eventFile)}, "utf8"));
         handler(event, { getRemainingTimeInMillis: () => 30000 }).then(
           (result) => process.stderr.write("RESULT " + JSON.stringify(result) + "\\n"),
           (err) => { process.stderr.write("ERROR " + err.message + "\\n"); process.exitCode = 1; });`,
      ],
      { ...awsTestEnv(dir, secrets.url), HKEX_KEY_SECRET_ID: "hkex/sftp-login-key", AWS_LAMBDA_FUNCTION_NAME: "hkex-sftp-vpc-probe" },
      outdir,
    );
    expect(r.stderr).toMatch(/^RESULT /m);
    expect(r.code).toBe(0);
    const result = JSON.parse(/^RESULT (.*)$/m.exec(r.stderr)![1]!) as { verdict: string; emfLines: number };
    expect(result.verdict).toBe("pass");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(result.emfLines + 1);
    const success = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((d) => "hkex_sftp_probe_success" in d)
      .map((d) => [d.probe, d.host, d.hkex_sftp_probe_success]);
    expect(success).toEqual([
      ["hkex-sftp-vpc-probe", "127.0.151.141", 1],
      ["hkex-sftp-vpc-probe", "127.0.151.142", 1],
      ["hkex-sftp-vpc-probe", "127.0.152.141", 1],
      ["hkex-sftp-vpc-probe", "127.0.152.142", 1],
    ]);
    expect(secrets.calls.map((c) => c.body.SecretId)).toEqual(["hkex/sftp-login-key"]);
    expect(r.stdout).not.toContain(keyText.split("\n")[1]!);
  });
});
