/**
 * The VPC probe part of SftpAccess under Pulumi's mock runtime: which
 * resources a probe block declares, with which inputs; the IAM documents as
 * IAM reads them; and that no secret value reaches any input.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { AWS_TYPES } from "../../../infra/awsTypes";
import { HKEX_SITES } from "../../../catalogue";
import { createMocks, runUnderMocks, type CapturedResource } from "../../../infra/mockRuntime";
import { planRows } from "../../../infra/plan";
import { NETWORK_INTERFACE_ACTIONS, type PolicyDocument, type PolicyStatement } from "../../../infra/probe/iamDocuments";
import { defineStack } from "../../../infra/stack";
import { NS, SECRET_ARN, SUBNETS, VPC, KNOWN_HOSTS, named, ofType, probeBlock, stackConfig } from "./fixture";

/** The inputs the tests read, in the provider's shapes. */
interface ScheduleInputs {
  scheduleExpression: string;
  target: { arn: string; roleArn: string; input: string };
}
interface AlarmInputs {
  metricQueries: { id: string; metric?: { period: number; dimensions: Record<string, string> }; expression?: string }[];
  alarmDescription: string;
}
const scheduleOf = (rs: readonly CapturedResource[]) => named(rs, "hkex-sftp-probe-schedule").inputs as unknown as ScheduleInputs;
const alarmOf = (rs: readonly CapturedResource[], site: string) =>
  named(rs, `hkex-sftp-probe-alarm-${site}`).inputs as unknown as AlarmInputs;

const asList = (v: string | readonly string[] | undefined): string[] => (v === undefined ? [] : typeof v === "string" ? [v] : [...v]);

/** Every IAM document the stack declares, parsed: trust policies and inline policies. */
function iamDocuments(rs: readonly CapturedResource[]): { resource: string; doc: PolicyDocument }[] {
  return [
    ...ofType(rs, AWS_TYPES.iamRole).map((r) => ({
      resource: r.name,
      doc: JSON.parse(r.inputs.assumeRolePolicy as string) as PolicyDocument,
    })),
    ...ofType(rs, AWS_TYPES.iamRolePolicy).map((r) => ({ resource: r.name, doc: JSON.parse(r.inputs.policy as string) as PolicyDocument })),
  ];
}

const statementsOf = (rs: readonly CapturedResource[], name: string): PolicyStatement[] => [
  ...(JSON.parse(named(rs, name).inputs.policy as string) as PolicyDocument).Statement,
];

describe("SftpAccess with a probe block: a new group in the VPC", async () => {
  const run = await runUnderMocks(stackConfig({ vpcId: VPC, probe: probeBlock() }), "dev");
  const rs = run.resources;
  const fn = named(rs, "hkex-sftp-probe");
  const sg = named(rs, "hkex-sftp-sg");

  it("declares the function, its log group, two roles with four policies, the schedule and an alarm per site", () => {
    const probeTypes = [
      AWS_TYPES.lambdaFunction,
      AWS_TYPES.logGroup,
      AWS_TYPES.iamRole,
      AWS_TYPES.iamRolePolicy,
      AWS_TYPES.schedule,
      AWS_TYPES.metricAlarm,
    ];
    expect(
      Object.fromEntries(
        probeTypes.map((t) => [
          t,
          ofType(rs, t)
            .map((r) => r.name)
            .sort(),
        ]),
      ),
    ).toEqual({
      [AWS_TYPES.lambdaFunction]: ["hkex-sftp-probe"],
      [AWS_TYPES.logGroup]: ["hkex-sftp-probe-logs"],
      [AWS_TYPES.iamRole]: ["hkex-sftp-probe-role", "hkex-sftp-probe-schedule-role"],
      [AWS_TYPES.iamRolePolicy]: [
        "hkex-sftp-probe-eni-policy",
        "hkex-sftp-probe-invoke-policy",
        "hkex-sftp-probe-logs-policy",
        "hkex-sftp-probe-secret-policy",
      ],
      [AWS_TYPES.schedule]: ["hkex-sftp-probe-schedule"],
      [AWS_TYPES.metricAlarm]: ["hkex-sftp-probe-alarm-primary", "hkex-sftp-probe-alarm-secondary"],
    });
    const component = rs.find((r) => !r.custom)!;
    expect(rs.filter((r) => probeTypes.includes(r.type as (typeof probeTypes)[number])).every((r) => r.parent === component.urn)).toBe(
      true,
    );
  });

  it("puts the function in the client subnets with the component's HKEX group, running the kit's bundle", async () => {
    expect(fn.inputs.vpcConfig).toEqual({ subnetIds: SUBNETS, securityGroupIds: [sg.id] });
    expect(fn.inputs).toMatchObject({
      runtime: "nodejs20.x",
      handler: "index.handler",
      memorySize: 256,
      timeout: 90,
      role: named(rs, "hkex-sftp-probe-role").outputs.arn,
      loggingConfig: { logFormat: "Text", logGroup: "/hkex-sftp-readiness/dev/hkex-sftp-probe" },
      tags: { "hkex:component": "hkex-sftp", "hkex:probe": "dev/hkex-sftp" },
    });
    // The archive is the bundle folder itself, by the path `npm run bundle:vpc-probe` writes.
    const code = fn.inputs.code as pulumi.asset.FileArchive;
    expect(pulumi.asset.FileArchive.isInstance(code)).toBe(true);
    expect(await code.path).toBe("dist/vpc-probe");
  });

  it("names the secret in the environment, never its value, and the metrics' namespace and probe name", () => {
    expect(fn.inputs.environment).toEqual({
      variables: {
        HKEX_KEY_SECRET_ID: SECRET_ARN,
        HKEX_PROBE_NAME: "dev/hkex-sftp",
        HKEX_METRICS_NAMESPACE: "HKEX/SFTPReadiness",
        NODE_OPTIONS: "--enable-source-maps",
      },
    });
  });

  it("declares the log group the function writes to, with a retention", () => {
    expect(named(rs, "hkex-sftp-probe-logs").inputs).toEqual({
      name: "/hkex-sftp-readiness/dev/hkex-sftp-probe",
      retentionInDays: 30,
      tags: { "hkex:component": "hkex-sftp" },
    });
  });

  it("schedules the function with the handler's event for the sites the component opens", () => {
    const schedule = scheduleOf(rs);
    expect(schedule).toMatchObject({
      scheduleExpression: "rate(15 minutes)",
      flexibleTimeWindow: { mode: "OFF" },
      state: "ENABLED",
      target: { arn: fn.outputs.arn, roleArn: named(rs, "hkex-sftp-probe-schedule-role").outputs.arn },
    });
    expect(JSON.parse(schedule.target.input)).toEqual({
      config: {
        user: "CP0001",
        files: ["TP001", "TP002"],
        remoteDir: ".",
        sites: {
          primary: { hosts: ["10.151.14.141", "10.151.14.142"], port: 18801 },
          secondary: { hosts: ["10.152.14.141", "10.152.14.142"], port: 18801 },
        },
      },
      knownHosts: KNOWN_HOSTS,
      site: "all",
    });
  });

  it("alarms per site on the EMF metric, with the handler's namespace and dimensions, missing data breaching", () => {
    const alarm = alarmOf(rs, "secondary");
    expect(alarm).toMatchObject({
      comparisonOperator: "LessThanThreshold",
      threshold: 2,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: "breaching",
      alarmActions: [],
      okActions: [],
    });
    expect(alarm.metricQueries).toEqual([
      ...["10.152.14.141", "10.152.14.142"].map((host, i) => ({
        id: `m${i}`,
        returnData: false,
        metric: {
          namespace: "HKEX/SFTPReadiness",
          metricName: "hkex_sftp_probe_success",
          dimensions: { probe: "dev/hkex-sftp", site: "secondary", host, port: "18801" },
          period: 900,
          stat: "Minimum",
        },
      })),
      { id: "passing", expression: "m0 + m1", label: "secondary endpoints passing", returnData: true },
    ]);
    expect(alarm.alarmDescription).toMatch(
      /^HKEX SFTP secondary \(Secondary Data Centre\) 10\.152\.14\.141:18801, 10\.152\.14\.142:18801: /,
    );
  });

  it('grants no wildcard action anywhere, and Resource "*" only to the network-interface actions Lambda needs', () => {
    const docs = iamDocuments(rs);
    expect(docs).toHaveLength(6);
    for (const { resource, doc } of docs) {
      expect(doc.Version, resource).toBe("2012-10-17");
      for (const s of doc.Statement) {
        expect(s.Effect, resource).toBe("Allow");
        for (const action of asList(s.Action)) expect(action, `${resource} ${s.Sid}`).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
        if (asList(s.Resource).some((r) => r.includes("*") && !r.endsWith(":log-stream:*"))) {
          expect({ resource, resources: s.Resource, actions: s.Action }).toEqual({
            resource: "hkex-sftp-probe-eni-policy",
            resources: "*",
            actions: [...NETWORK_INTERFACE_ACTIONS],
          });
        }
      }
    }
  });

  it("lets the function read the one secret and write its own log group, and the schedule invoke that function only", () => {
    expect(statementsOf(rs, "hkex-sftp-probe-secret-policy")).toEqual([
      { Sid: "ReadTheLoginKeySecret", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: SECRET_ARN },
    ]);
    const logGroupArn = named(rs, "hkex-sftp-probe-logs").outputs.arn as string;
    expect(logGroupArn).toBe("arn:aws:logs:ap-east-1:123456789012:log-group:/hkex-sftp-readiness/dev/hkex-sftp-probe");
    expect(statementsOf(rs, "hkex-sftp-probe-logs-policy")).toEqual([
      {
        Sid: "WriteTheProbeLogGroup",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [logGroupArn, `${logGroupArn}:log-stream:*`],
      },
    ]);
    expect(statementsOf(rs, "hkex-sftp-probe-invoke-policy")).toEqual([
      { Sid: "InvokeTheProbe", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: fn.outputs.arn },
    ]);
    for (const [policy, role] of [
      ["hkex-sftp-probe-secret-policy", "hkex-sftp-probe-role"],
      ["hkex-sftp-probe-logs-policy", "hkex-sftp-probe-role"],
      ["hkex-sftp-probe-eni-policy", "hkex-sftp-probe-role"],
      ["hkex-sftp-probe-invoke-policy", "hkex-sftp-probe-schedule-role"],
    ]) {
      expect(named(rs, policy!).inputs.role, policy).toBe(named(rs, role!).id);
    }
  });

  it("lets Lambda assume the function's role, and only this account's schedules the invoking role", () => {
    const trust = (name: string) => (JSON.parse(named(rs, name).inputs.assumeRolePolicy as string) as PolicyDocument).Statement;
    expect(trust("hkex-sftp-probe-role")).toEqual([
      { Sid: "LambdaAssumesTheProbeRole", Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    expect(trust("hkex-sftp-probe-schedule-role")).toEqual([
      {
        Sid: "SchedulerAssumesTheInvokeRole",
        Effect: "Allow",
        Principal: { Service: "scheduler.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
      },
    ]);
  });

  it("shows in the plan where the probe runs, when, and what each alarm watches", () => {
    const rows = planRows(rs, { sites: [HKEX_SITES.primary, HKEX_SITES.secondary] }).filter((r) => r.kind.startsWith("vpc probe"));
    const row = (kind: string, site: string, destination: string, port: string, target: string, resource: string) => ({
      kind,
      site,
      destination,
      port,
      target,
      resource,
    });
    expect(rows).toEqual([
      row("vpc probe", "-", "-", "-", `in ${SUBNETS.join(", ")} with hkex-sftp-sg (new)`, "hkex-sftp-probe"),
      row("vpc probe schedule", "-", "-", "-", "rate(15 minutes)", "hkex-sftp-probe-schedule"),
      row(
        "vpc probe alarm",
        "primary",
        "10.151.14.141, 10.151.14.142",
        "tcp/18801",
        "hkex_sftp_probe_success < 2",
        "hkex-sftp-probe-alarm-primary",
      ),
      row(
        "vpc probe alarm",
        "secondary",
        "10.152.14.141, 10.152.14.142",
        "tcp/18801",
        "hkex_sftp_probe_success < 2",
        "hkex-sftp-probe-alarm-secondary",
      ),
    ]);
  });

  it("exports the probe's name, function, schedule and alarms", () => {
    expect(run.outputs.probe).toEqual({
      name: "dev/hkex-sftp",
      functionArn: fn.outputs.arn,
      scheduleArn: named(rs, "hkex-sftp-probe-schedule").outputs.arn,
      alarmArns: ["primary", "secondary"].map((s) => named(rs, `hkex-sftp-probe-alarm-${s}`).outputs.arn),
    });
  });
});

describe("SftpAccess with a probe block: an existing group, extra groups, a KMS key, one site", async () => {
  const EXISTING = "sg-0c4f5e6a7b8d9e0f1";
  const ENDPOINT_SG = "sg-0d5e6f7a8b9c0d1e2";
  const KMS = "arn:aws:kms:ap-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  const run = await runUnderMocks(
    stackConfig({
      securityGroupId: EXISTING,
      sites: { primary: { hosts: ["10.151.14.141", "10.151.14.142"], range: "10.151.14.0/24" } },
      probe: probeBlock({
        schedule: "cron(0/10 0-10 ? * MON-SAT *)",
        alarmPeriodMinutes: 60,
        additionalSecurityGroupIds: [ENDPOINT_SG],
        keyKmsKeyArn: KMS,
        name: "vpc-0a1b2c3d4e5f60789",
        timeouts: { connectMs: 3000 },
        alarmActions: ["arn:aws:sns:ap-east-1:123456789012:hkex-sftp-alerts"],
        logRetentionDays: 90,
        timeoutSeconds: 120,
      }),
    }),
    "prod",
  );
  const rs = run.resources;

  it("attaches the existing HKEX group first, then the extra ones", () => {
    expect(named(rs, "hkex-sftp-probe").inputs.vpcConfig).toEqual({ subnetIds: SUBNETS, securityGroupIds: [EXISTING, ENDPOINT_SG] });
    expect(named(rs, "hkex-sftp-probe").inputs).toMatchObject({
      timeout: 120,
      tags: { "hkex:probe": "vpc-0a1b2c3d4e5f60789" },
      environment: { variables: { HKEX_PROBE_NAME: "vpc-0a1b2c3d4e5f60789" } },
    });
    expect(named(rs, "hkex-sftp-probe-logs").inputs.retentionInDays).toBe(90);
  });

  it("decrypts with the customer-managed key only through Secrets Manager", () => {
    expect(statementsOf(rs, "hkex-sftp-probe-secret-policy")).toEqual([
      { Sid: "ReadTheLoginKeySecret", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: SECRET_ARN },
      {
        Sid: "DecryptTheLoginKeySecret",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: KMS,
        Condition: { StringEquals: { "kms:ViaService": "secretsmanager.ap-east-1.amazonaws.com" } },
      },
    ]);
  });

  it("probes only the site the component opens, with the given timeouts, and alarms on it alone with the given period and actions", () => {
    const schedule = scheduleOf(rs);
    expect(schedule.scheduleExpression).toBe("cron(0/10 0-10 ? * MON-SAT *)");
    const event = JSON.parse(schedule.target.input);
    expect(event.site).toBe("primary");
    expect(event.config.sites).toEqual({ primary: { hosts: ["10.151.14.141", "10.151.14.142"], port: 18801 } });
    expect(event.config.timeouts).toEqual({ connectMs: 3000 });
    expect(ofType(rs, AWS_TYPES.metricAlarm).map((r) => r.name)).toEqual(["hkex-sftp-probe-alarm-primary"]);
    const alarm = alarmOf(rs, "primary");
    expect(alarm.metricQueries[0]!.metric!.period).toBe(3600);
    expect(alarm.metricQueries[0]!.metric!.dimensions.probe).toBe("vpc-0a1b2c3d4e5f60789");
    expect(alarm).toMatchObject({
      alarmActions: ["arn:aws:sns:ap-east-1:123456789012:hkex-sftp-alerts"],
      okActions: ["arn:aws:sns:ap-east-1:123456789012:hkex-sftp-alerts"],
    });
  });
});

describe("SftpAccess without a probe block", async () => {
  const run = await runUnderMocks(stackConfig({ vpcId: VPC }), "dev");

  it("declares no probe resource and exports no probe", () => {
    const probeTypes: string[] = [
      AWS_TYPES.lambdaFunction,
      AWS_TYPES.iamRole,
      AWS_TYPES.schedule,
      AWS_TYPES.metricAlarm,
      AWS_TYPES.logGroup,
    ];
    expect(run.resources.filter((r) => probeTypes.includes(r.type))).toEqual([]);
    expect(run.outputs.probe).toBeUndefined();
  });
});

describe("the login key stays out of the program", () => {
  // Recognisable: if any of it reaches an input or output, the test names where.
  const FAKE_KEY = [
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "b3BlbnNzaC1rZXktdjEAAAAAHKEXFAKEKEYDONOTLEAK0000000000000000000000000",
    "-----END OPENSSH PRIVATE KEY-----",
  ].join("\n");

  it("never reads the secret: no input or output holds its value, and no provider call asks for it", async () => {
    const recorded: { name: string; inputs: Record<string, unknown>; state: Record<string, unknown> }[] = [];
    const calls: string[] = [];
    const base = createMocks((r) => recorded.push(r));
    await pulumi.runtime.setMocks(
      {
        newResource: base.newResource,
        // A stand-in Secrets Manager that would hand the key to anyone who asked.
        call(args) {
          calls.push(args.token);
          if (args.token.startsWith("aws:secretsmanager/")) return { arn: SECRET_ARN, secretString: FAKE_KEY };
          return base.call(args);
        },
      },
      NS,
      "dev",
      false,
    );
    const config = stackConfig({ vpcId: VPC, probe: probeBlock() });
    pulumi.runtime.setAllConfig(config);
    const previous = process.env.HKEX_SFTP_PRIVATE_KEY;
    process.env.HKEX_SFTP_PRIVATE_KEY = FAKE_KEY;
    try {
      const outputs = defineStack(config);
      const settled = await new Promise((resolve) => pulumi.output(outputs.probe).apply(resolve));
      await pulumi.runtime.disconnect();
      expect(calls).toEqual([]);
      expect(recorded.map((r) => r.name)).toContain("hkex-sftp-probe");
      const leaks = [
        ...recorded.map((r) => [r.name, JSON.stringify([r.inputs, r.state])] as const),
        ["outputs", JSON.stringify(settled)] as const,
      ]
        .filter(([, text]) => text.includes("HKEXFAKEKEYDONOTLEAK") || text.includes("PRIVATE KEY"))
        .map(([name]) => name);
      expect(leaks).toEqual([]);
    } finally {
      if (previous === undefined) delete process.env.HKEX_SFTP_PRIVATE_KEY;
      else process.env.HKEX_SFTP_PRIVATE_KEY = previous;
    }
  });
});
