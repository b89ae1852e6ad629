/**
 * The declared probe and the handler agree: the constants infra/probe/ uses
 * are the handler's own, and the handler, given the function's declared
 * environment and the schedule's declared input, reads the key from the
 * secret the environment names (through the SDK's GetSecretValue, to a
 * loopback stand-in), probes the simulator and prints the EMF lines each
 * site's alarm watches.
 */
import { readFileSync, rmSync } from "node:fs";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENDPOINT_LABELS, METRICS } from "../../../checks/metrics";
import { startSimulator, type RunningSimulator } from "../../../checks/simulator";
import { DEFAULT_NAMESPACE } from "../../../checks/vpcProbe/emf";
import { createHandler, type VpcProbeResult } from "../../../checks/vpcProbe/handler";
import { secretsManagerReader } from "../../../checks/vpcProbe/secrets";
import { AWS_TYPES } from "../../../infra/awsTypes";
import { runUnderMocks, type MockRun } from "../../../infra/mockRuntime";
import { PROBE_METRICS_NAMESPACE, PROBE_SUCCESS_DIMENSIONS, PROBE_SUCCESS_METRIC } from "../../../infra/probe/contract";
import { newUserKey, tempDir } from "../../support/facility";
import { pickFreePort } from "../../support/sshd";
import { fakeSecretsManager, type FakeSecretsManager } from "../../support/vpcProbe";
import { SECRET_ARN, VPC, named, ofType, probeBlock, stackConfig } from "./fixture";

interface EmfDoc {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [k: string]: unknown;
}

interface AlarmQuery {
  id: string;
  metric?: { namespace: string; metricName: string; dimensions: Record<string, string> };
  expression?: string;
}

describe("infra/probe/contract.ts", () => {
  it("holds the handler's namespace, metric name and dimensions", () => {
    expect(PROBE_METRICS_NAMESPACE).toBe(DEFAULT_NAMESPACE);
    expect(PROBE_SUCCESS_METRIC).toBe(METRICS.probeSuccess.name);
    expect(PROBE_SUCCESS_DIMENSIONS).toEqual(["probe", ...ENDPOINT_LABELS, ...METRICS.probeSuccess.labels]);
  });
});

describe("the declared probe, run by the handler against the simulator", () => {
  const dir = tempDir("vpc-probe-contract");
  let sim: RunningSimulator;
  let secrets: FakeSecretsManager;
  let keyText: string;
  let run: MockRun;
  let result: VpcProbeResult;
  const lines: string[] = [];

  beforeAll(async () => {
    const key = newUserKey(dir);
    keyText = readFileSync(key.privatePath, "utf8");
    // One port on every alias: the component's config gives each site one port, as the catalogue does.
    const port = await pickFreePort("127.0.151.141");
    sim = await startSimulator({ authorizedKeys: [key.publicLine], user: "CP0001", port, bind: "aliases" });
    secrets = await fakeSecretsManager({ [SECRET_ARN]: { SecretString: keyText } });
    const loopbackSite = (b: number) => ({ hosts: [`127.0.${b}.141`, `127.0.${b}.142`], range: `127.0.${b}.0/24`, port });
    run = await runUnderMocks(
      stackConfig({
        vpcId: VPC,
        sites: { primary: loopbackSite(151), secondary: loopbackSite(152) },
        probe: probeBlock({ knownHosts: sim.knownHosts(), timeouts: { connectMs: 2000, handshakeMs: 4000, operationMs: 4000 } }),
      }),
      "dev",
    );
    const fn = named(run.resources, "hkex-sftp-probe").inputs as { environment: { variables: Record<string, string> }; timeout: number };
    const event = JSON.parse((named(run.resources, "hkex-sftp-probe-schedule").inputs as { target: { input: string } }).target.input);
    const client = new SecretsManagerClient({
      endpoint: secrets.url,
      region: "ap-east-1",
      credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
    });
    const handler = createHandler({ secrets: secretsManagerReader(client), write: (l) => lines.push(l), env: fn.environment.variables });
    result = await handler(event, { getRemainingTimeInMillis: () => fn.timeout * 1000 });
  }, 60_000);
  afterAll(async () => {
    await sim?.close();
    await secrets?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads the key from the secret the function's environment names, and passes", () => {
    expect(secrets.calls.map((c) => [c.target, c.body.SecretId])).toEqual([["secretsmanager.GetSecretValue", SECRET_ARN]]);
    expect(result).toMatchObject({ verdict: "pass", failures: [] });
    expect(lines.join("\n")).not.toContain(keyText.split("\n")[1]!);
  });

  it("prints, for every metric each site's alarm watches, an EMF line with that namespace, name and exact dimensions", () => {
    const emf = lines.map((l) => JSON.parse(l) as EmfDoc).filter((d) => d._aws !== undefined);
    const alarms = ofType(run.resources, AWS_TYPES.metricAlarm);
    expect(alarms).toHaveLength(2);
    for (const alarm of alarms) {
      const queries = (alarm.inputs as { metricQueries: AlarmQuery[] }).metricQueries;
      const values = queries.flatMap((q) => {
        if (q.metric === undefined) return [];
        const { namespace, metricName, dimensions } = q.metric;
        const matching = emf.filter((d) => {
          const directive = d._aws.CloudWatchMetrics[0]!;
          return (
            directive.Namespace === namespace &&
            directive.Metrics.some((m) => m.Name === metricName) &&
            JSON.stringify([...directive.Dimensions[0]!].sort()) === JSON.stringify(Object.keys(dimensions).sort()) &&
            Object.entries(dimensions).every(([k, v]) => d[k] === v)
          );
        });
        expect(matching, `${alarm.name} ${q.id} ${JSON.stringify(dimensions)}`).toHaveLength(1);
        return [matching[0]![metricName]];
      });
      // Every endpoint passed: the sum the alarm computes reaches its threshold, so it stays OK.
      expect(values, alarm.name).toEqual([1, 1]);
      expect(alarm.inputs.threshold).toBe(values.length);
    }
  });
});
