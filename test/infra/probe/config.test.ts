/**
 * The probe block of the stack config: every bad key is reported with its
 * full config path, all at once, before any resource is declared.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readStackConfigFile } from "../../../cli/commands/plan";
import { InputError } from "../../../core/errors";
import { AWS_TYPES } from "../../../infra/awsTypes";
import { parseStackConfig } from "../../../infra/config";
import { runUnderMocks } from "../../../infra/mockRuntime";
import { alarmEvaluation } from "../../../infra/probe/alarms";
import { parseSchedule } from "../../../infra/probe/config";
import { runPackOffline } from "../../../policies/offline";
import { NS, VPC, probeBlock, stackConfig } from "./fixture";

function problemsOf(probe: unknown): string[] {
  try {
    parseStackConfig(stackConfig({ vpcId: VPC, probe }));
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error("expected the probe block to be rejected");
}

const at = (key: string) => `${NS}:probe.${key}`;

describe("the probe block", () => {
  it("normalises with its defaults", () => {
    expect(parseStackConfig(stackConfig({ vpcId: VPC, probe: probeBlock() })).probe).toEqual({
      ...probeBlock(),
      additionalSecurityGroupIds: [],
      remoteDir: ".",
      timeoutSeconds: 90,
      logRetentionDays: 30,
      alarmActions: [],
      keyKmsKeyArn: undefined,
      timeouts: undefined,
      name: undefined,
      alarmPeriodMinutes: undefined,
    });
  });

  it.each([
    ["schedule", { schedule: "every 15 minutes" }, /^"every 15 minutes": must be rate\(<n> minutes\|hours\|days\) or cron\(/],
    ["schedule", { schedule: "rate(5 minute)" }, /^"rate\(5 minute\)": write rate\(5 minutes\): singular for 1, plural above$/],
    ["schedule", { schedule: "rate(1 hours)" }, /write rate\(1 hour\)/],
    ["schedule", { schedule: "at(2025-03-01T09:00:00)" }, /at\(\) runs the probe once; give a recurring rate\(\) or cron\(\) expression$/],
    ["schedule", { schedule: "rate(2 days)" }, /^runs less than daily/],
    ["alarmPeriodMinutes", { schedule: "cron(0 9 * * ? *)" }, /^is required with a cron\(\) schedule/],
    ["alarmPeriodMinutes", { alarmPeriodMinutes: 5 }, /^5 is shorter than the schedule's interval \(15 minutes\)/],
    ["subnetIds", { subnetIds: [] }, /^must list the client subnets the probe runs in$/],
    ["subnetIds[0]", { subnetIds: ["sub-123"] }, /^must be an AWS id like subnet-0123456789abcdef0$/],
    ["subnetIds", { subnetIds: ["subnet-0a1b2c3d4e5f60789", "subnet-0a1b2c3d4e5f60789"] }, /^lists an id more than once$/],
    ["additionalSecurityGroupIds[0]", { additionalSecurityGroupIds: ["default"] }, /^must be an AWS id like sg-/],
    ["keySecretArn", { keySecretArn: "hkex/sftp-login-key" }, /^must be an ARN like arn:aws:secretsmanager:/],
    ["keySecretArn", { keySecretArn: "-----BEGIN OPENSSH PRIVATE KEY-----" }, /^must be an ARN like /],
    ["keyKmsKeyArn", { keyKmsKeyArn: "alias/aws/secretsmanager" }, /^must be an ARN like arn:aws:kms:/],
    ["knownHosts", { knownHosts: "# nothing pinned\n" }, /^has no host key lines/],
    ["knownHosts", { knownHosts: "10.151.14.141 AAAA" }, /^"10\.151\.14\.141 AAAA" is not a known_hosts line/],
    ["knownHosts", { knownHosts: 42 }, /^must be the known_hosts text/],
    ["user", { user: " " }, /^must be the SFTP user id$/],
    ["files", { files: ["TP001", "TP002", "TP003"] }, /^must name one or two files or globs$/],
    ["timeouts.transferMs", { timeouts: { transferMs: 1000 } }, /^is not a known setting$/],
    ["timeouts.connectMs", { timeouts: { connectMs: 0 } }, /^must be between 1 and 600000 milliseconds$/],
    ["name", { name: "probe name with spaces" }, /^must be 1-128 letters, digits or \. _ : \/ -$/],
    ["timeoutSeconds", { timeoutSeconds: 901 }, /^must be between 10 and 900 seconds$/],
    ["logRetentionDays", { logRetentionDays: 8 }, /^must be one of CloudWatch Logs' periods: 1, 3, 5, 7, 14, 30/],
    ["alarmActions[0]", { alarmActions: ["ops@example.com"] }, /^must be an ARN \(an SNS topic, say\)$/],
    ["privateKey", { privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----" }, /^is not a known setting$/],
  ])("names probe.%s", (key, change, message) => {
    const problems = problemsOf(probeBlock(change));
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^${at(key).replace(/[.[\]]/g, "\\$&")}: `))]);
    expect(problems[0]!.slice(at(key).length + 2)).toMatch(message);
  });

  it("names every missing key at once", () => {
    expect(problemsOf({})).toEqual(
      ["schedule", "subnetIds", "keySecretArn", "knownHosts", "user", "files"].map((k) => expect.stringMatching(new RegExp(`^${at(k)}: `))),
    );
  });

  it("refuses a block that is not a mapping", () => {
    expect(problemsOf("yes")).toEqual([expect.stringMatching(new RegExp(`^${NS}:probe: `))]);
  });

  it("never echoes a key given where an ARN belongs", () => {
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----";
    expect(problemsOf(probeBlock({ keySecretArn: key })).join("\n")).not.toContain("b3BlbnNzaC1rZXktdjEAAAAABG5vbmU");
  });
});

describe("parseSchedule and the alarms' evaluation", () => {
  it("reads rate intervals in seconds and knows cron", () => {
    expect(parseSchedule("rate(1 minute)")).toEqual({ kind: "rate", seconds: 60 });
    expect(parseSchedule("rate(15 minutes)")).toEqual({ kind: "rate", seconds: 900 });
    expect(parseSchedule("rate(2 hours)")).toEqual({ kind: "rate", seconds: 7200 });
    expect(parseSchedule("rate(1 day)")).toEqual({ kind: "rate", seconds: 86400 });
    expect(parseSchedule("cron(0/15 * * * ? *)")).toEqual({ kind: "cron" });
    expect(parseSchedule("rate(0 minutes)")).toMatch(/at least 1/);
  });

  it("keeps an alarm's periods within one day, two failing periods of three where they fit", () => {
    expect(alarmEvaluation(900)).toEqual({ evaluationPeriods: 3, datapointsToAlarm: 2 });
    expect(alarmEvaluation(28800)).toEqual({ evaluationPeriods: 3, datapointsToAlarm: 2 });
    expect(alarmEvaluation(43200)).toEqual({ evaluationPeriods: 2, datapointsToAlarm: 2 });
    expect(alarmEvaluation(86400)).toEqual({ evaluationPeriods: 1, datapointsToAlarm: 1 });
  });
});

describe("Pulumi.example.yaml's probe block", () => {
  /** The example with its commented probe block switched on, as its comment tells the reader to do. */
  function exampleWithProbe(): string {
    const lines = readFileSync("Pulumi.example.yaml", "utf8").split("\n");
    const start = lines.indexOf("  # hkex-sftp-readiness:probe:");
    expect(start).toBeGreaterThan(0);
    let end = start + 1;
    while (end < lines.length && lines[end]!.startsWith("  #   ")) end++;
    const block = lines.slice(start, end).map((l) => `  ${l.slice(4)}`);
    return [...lines.slice(0, start), ...block, ...lines.slice(end)].join("\n");
  }

  it("is valid once uncommented, and the whole stack with it passes the pack", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hkex-probe-example-"));
    try {
      writeFileSync(join(dir, "Pulumi.example.yaml"), exampleWithProbe());
      const config = readStackConfigFile(join(dir, "Pulumi.example.yaml"));
      const probe = parseStackConfig(config).probe;
      expect(probe).toMatchObject({ schedule: "rate(15 minutes)", user: "CP0001", additionalSecurityGroupIds: ["sg-0d5e6f7a8b9c0d1e2"] });
      expect(probe!.knownHosts.split("\n").filter(Boolean)).toHaveLength(2);
      const run = await runUnderMocks(config, "example");
      expect(run.resources.filter((r) => r.type === AWS_TYPES.lambdaFunction)).toHaveLength(1);
      const report = await runPackOffline(run.resources, {
        "lambda-hkex-probe-in-client-subnets": { clientSubnetIds: probe!.subnetIds as string[] },
      });
      // The example's group is attached to nothing in the stack and its ACL and tables exist elsewhere: those are
      // advisories of the flow policies (docs/network.md). Nothing is mandatory, and the probe's placement is clean.
      expect(report.verdict).toBe("pass");
      expect(report.violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
      expect(report.violations.filter((v) => v.policy === "lambda-hkex-probe-in-client-subnets")).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
