/**
 * The VPC probe's Lambda handler against the simulator: the login key comes
 * through the secret-reading interface, the result goes out as CloudWatch EMF
 * lines with the exporter's metric names, and the key appears nowhere.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRIC_FAMILIES, METRICS } from "../../../checks/metrics";
import { startSimulator, type RunningSimulator } from "../../../checks/simulator";
import { createHandler } from "../../../checks/vpcProbe/handler";
import { parseProbeEvent } from "../../../checks/vpcProbe/event";
import { SecretError, secretsManagerReader, type SecretKey } from "../../../checks/vpcProbe/secrets";
import { InputError } from "../../../core/errors";
import { newUserKey, tempDir, type TestKey } from "../../support/facility";
import { awsTestEnv, fakeSecretsManager, probeEvent } from "../../support/vpcProbe";

interface EmfDoc {
  _aws?: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [k: string]: unknown;
}

describe("VPC probe handler", () => {
  const dir = tempDir("vpc-probe");
  let sim: RunningSimulator;
  let key: TestKey;
  let keyText: string;

  beforeAll(async () => {
    key = newUserKey(dir);
    keyText = readFileSync(key.privatePath, "utf8");
    sim = await startSimulator({ authorizedKeys: [key.publicLine], user: "CP0001", port: 0, bind: "aliases" });
  });
  afterAll(async () => {
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function run(event: unknown, secret: () => SecretKey = () => ({ privateKey: Buffer.from(keyText) })) {
    const lines: string[] = [];
    const reads: string[] = [];
    const given: SecretKey[] = [];
    const handler = createHandler({
      secrets: {
        read: async (id) => {
          reads.push(id);
          const s = secret();
          given.push(s);
          return s;
        },
      },
      write: (l) => lines.push(l),
      env: {},
    });
    return { lines, reads, given, result: handler(event, { getRemainingTimeInMillis: () => 60_000 }) };
  }

  it("runs the check with the key from the secret and prints EMF lines with the exporter's metric names", async () => {
    const { lines, reads, given, result } = run(probeEvent(sim));
    const r = await result;
    expect(r.verdict).toBe("pass");
    expect(reads).toEqual(["hkex/sftp-login-key"]);
    const docs = lines.map((l) => JSON.parse(l) as EmfDoc);
    const emf = docs.filter((d) => d._aws);
    expect(emf).toHaveLength(r.emfLines);
    const names = new Set(METRIC_FAMILIES.map((f) => f.name));
    for (const d of emf) {
      const directive = d._aws!.CloudWatchMetrics[0]!;
      expect(directive.Namespace).toBe("HKEX/SFTPReadiness");
      expect(directive.Dimensions).toHaveLength(1);
      expect(directive.Dimensions[0]![0]).toBe("probe");
      for (const dim of directive.Dimensions[0]!) expect(typeof d[dim], dim).toBe("string");
      for (const m of directive.Metrics) {
        expect(names.has(m.Name), m.Name).toBe(true);
        expect(typeof d[m.Name]).toBe("number");
      }
      expect(d.probe).toBe("vpc-0abc1234");
    }
    const success = emf.filter((d) => METRICS.probeSuccess.name in d);
    expect(success.map((d) => [d.site, d.host, d[METRICS.probeSuccess.name]])).toEqual([
      ["primary", "127.0.151.141", 1],
      ["primary", "127.0.151.142", 1],
      ["secondary", "127.0.152.141", 1],
      ["secondary", "127.0.152.142", 1],
    ]);
    const durations = emf.find((d) => d.host === "127.0.152.141" && d.phase === "auth" && METRICS.phaseDuration.name in d)!;
    expect(durations._aws!.CloudWatchMetrics[0]!.Metrics).toEqual([
      { Name: "hkex_sftp_phase_duration_seconds", Unit: "Seconds" },
      { Name: "hkex_sftp_phase_timeout_seconds", Unit: "Seconds" },
    ]);
    // The fingerprint is logged as a property: not a dimension, so no metric per key.
    const hostKey = emf.find((d) => d.host === "127.0.151.141" && METRICS.hostKeyInfo.name in d)!;
    expect(hostKey._aws!.CloudWatchMetrics[0]!.Dimensions[0]).toEqual(["probe", "site", "host", "port", "status"]);
    expect(hostKey.fingerprint).toBe(sim.hostKeyFingerprints.primary);
    // The summary line, and the key nowhere; its buffer is wiped after the run.
    expect(docs.at(-1)).toMatchObject({ level: "info", message: "hkex-sftp readiness: pass", probe: "vpc-0abc1234", failures: [] });
    const body = keyText.split("\n")[1]!;
    expect(lines.join("\n")).not.toContain(body);
    expect(given[0]!.privateKey.every((b) => b === 0)).toBe(true);
  });

  it("prints the failing phase and cause code as an EMF metric, and the cause in the summary", async () => {
    await sim.setFault("10.152.14.142", "reject-auth");
    try {
      const { lines, result } = run(probeEvent(sim, { site: "secondary" }));
      const r = await result;
      expect(r.verdict).toBe("fail");
      expect(r.failures).toEqual([expect.stringMatching(/^secondary 127\.0\.152\.142:\d+ auth: server rejected publickey login/)]);
      const docs = lines.map((l) => JSON.parse(l) as EmfDoc);
      const failure = docs.find((d) => METRICS.failureInfo.name in d)!;
      expect(failure).toMatchObject({ site: "secondary", host: "127.0.152.142", phase: "auth", code: "auth-rejected" });
      expect(failure._aws!.CloudWatchMetrics[0]!.Dimensions[0]).toEqual(["probe", "site", "host", "port", "phase", "code"]);
      expect(docs.filter((d) => d.site === "primary")).toEqual([]);
      expect(docs.at(-1)).toMatchObject({ level: "error", message: "hkex-sftp readiness: fail" });
    } finally {
      await sim.setFault("10.152.14.142", "none");
    }
  });

  it("takes an encrypted key with its passphrase from a JSON secret; a wrong one fails auth, unprinted", async () => {
    const encrypted = join(dir, "encrypted");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-a", "2", "-N", "correct horse", "-C", "", "-f", encrypted]);
    const pub = readFileSync(`${encrypted}.pub`, "utf8").trim();
    const sim2 = await startSimulator({ authorizedKeys: [pub], user: "CP0001", port: 0, bind: "aliases" });
    try {
      const json = (passphrase: string) => () => ({ privateKey: readFileSync(encrypted), passphrase });
      const ok = run(probeEvent(sim2, { site: "primary" }), json("correct horse"));
      expect((await ok.result).verdict).toBe("pass");
      const wrong = run(probeEvent(sim2, { site: "primary" }), json("battery staple"));
      const r = await wrong.result;
      expect(r.failures[0]).toMatch(/auth: cannot log in: the passphrase given with secret hkex\/sftp-login-key does not decrypt the key/);
      const failure = wrong.lines.map((l) => JSON.parse(l) as EmfDoc).find((d) => METRICS.failureInfo.name in d)!;
      expect(failure.code).toBe("passphrase-wrong");
      expect(wrong.lines.join("\n")).not.toContain("battery staple");
    } finally {
      await sim2.close();
    }
  });

  it("refuses a bad event with every problem at once, before reading the secret", async () => {
    const { lines, reads, result } = run({
      config: { user: "CP0001", files: [], identityFile: "/keys/id", sites: { primary: { hosts: ["nope"] } } },
      knownHosts: "not a known_hosts line",
      site: "tertiary",
      extra: 1,
    });
    const err = await result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const problems = (err as InputError).problems.map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual(expect.arrayContaining(["event.extra: unknown key", expect.stringMatching(/^event\.site: /)]));
    expect(reads).toEqual([]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "error", message: "hkex-sftp VPC probe: bad event" });

    const second = (() => {
      try {
        parseProbeEvent(
          {
            config: { user: "CP0001", files: [], identityFile: "/keys/id", monitoring: { allowDownload: false } },
            knownHosts: "x y",
            download: true,
          },
          {},
        );
      } catch (e) {
        return (e as InputError).problems.map((p) => `${p.path}: ${p.message}`);
      }
      return [];
    })();
    expect(second).toEqual(
      expect.arrayContaining([
        "event.config.identityFile: not used by the VPC probe: the key comes from the secret named by keySecretId (or HKEX_KEY_SECRET_ID)",
        "event.keySecretId: is required (or set HKEX_KEY_SECRET_ID): the secret holding the login key",
        "event.config.files: must name one or two files or globs",
        expect.stringMatching(/^event\.knownHosts:1: /),
      ]),
    );
  });

  it("reads the secret from AWS Secrets Manager with GetSecretValue (a loopback stand-in)", async () => {
    const fake = await fakeSecretsManager({
      "hkex/plain": { SecretString: keyText },
      "hkex/json": { SecretString: JSON.stringify({ privateKey: keyText, passphrase: "pw" }) },
      "hkex/binary": { SecretBinary: Buffer.from(keyText) },
    });
    const env = awsTestEnv(dir, fake.url);
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const reader = secretsManagerReader(new SecretsManagerClient({ endpoint: fake.url, maxAttempts: 1 }));
      expect((await reader.read("hkex/plain")).privateKey.toString()).toBe(keyText);
      expect(await reader.read("hkex/json")).toEqual({ privateKey: Buffer.from(keyText), passphrase: "pw" });
      expect((await reader.read("hkex/binary")).privateKey.toString()).toBe(keyText);
      const missing = await reader.read("hkex/missing").catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(SecretError);
      expect((missing as Error).message).toBe(
        "secret hkex/missing: GetSecretValue failed: ResourceNotFoundException: Secrets Manager can't find the specified secret.",
      );
      expect(fake.calls.map((c) => [c.target, c.body.SecretId])).toEqual([
        ["secretsmanager.GetSecretValue", "hkex/plain"],
        ["secretsmanager.GetSecretValue", "hkex/json"],
        ["secretsmanager.GetSecretValue", "hkex/binary"],
        ["secretsmanager.GetSecretValue", "hkex/missing"],
      ]);
      // Signed with SigV4 for the service, as the real endpoint requires.
      expect(fake.calls[0]!.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/ap-east-1\/secretsmanager\/aws4_request/,
      );
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
      Object.assign(process.env, saved);
      await fake.close();
    }
  });
});
