/**
 * The probe function and its log group. The code is the kit's own bundle of
 * checks/vpcProbe/handler.ts (`npm run bundle:vpc-probe`), the same check
 * `hkex-ready check` runs; the function sits in the client subnets with the
 * component's HKEX security group, so it takes the path the clients take.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ChildContext } from "../naming";
import type { ProbeArgs } from "./config";
import { PROBE_BUNDLE_DIR, PROBE_ENV, PROBE_HANDLER, PROBE_MEMORY_MB, PROBE_METRICS_NAMESPACE, PROBE_RUNTIME, PROBE_TAG } from "./contract";
import type { ProbeRole } from "./role";

/**
 * Declared by the component rather than left to Lambda, so its retention is
 * set and the role can be limited to it. Lambda refuses custom log group
 * names that begin with "aws/"
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html).
 */
export function probeLogGroup(ctx: ChildContext, probe: ProbeArgs): aws.cloudwatch.LogGroup {
  return new aws.cloudwatch.LogGroup(
    `${ctx.name}-probe-logs`,
    {
      name: `/hkex-sftp-readiness/${pulumi.getStack()}/${ctx.name}-probe`,
      retentionInDays: probe.logRetentionDays,
      tags: ctx.tags,
    },
    { parent: ctx.parent },
  );
}

export interface ProbeFunctionInputs {
  readonly probeName: string;
  readonly securityGroupId: pulumi.Input<string>;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly role: ProbeRole;
}

export function probeFunction(ctx: ChildContext, probe: ProbeArgs, inputs: ProbeFunctionInputs): aws.lambda.Function {
  return new aws.lambda.Function(
    `${ctx.name}-probe`,
    {
      description: "HKEX SFTP readiness check from the client subnets, on a schedule; prints CloudWatch EMF metrics",
      runtime: PROBE_RUNTIME,
      handler: PROBE_HANDLER,
      code: new pulumi.asset.FileArchive(PROBE_BUNDLE_DIR),
      role: inputs.role.role.arn,
      memorySize: PROBE_MEMORY_MB,
      timeout: probe.timeoutSeconds,
      vpcConfig: {
        subnetIds: [...probe.subnetIds],
        securityGroupIds: [inputs.securityGroupId, ...probe.additionalSecurityGroupIds],
      },
      environment: {
        variables: {
          [PROBE_ENV.keySecretId]: probe.keySecretArn,
          [PROBE_ENV.probeName]: inputs.probeName,
          [PROBE_ENV.namespace]: PROBE_METRICS_NAMESPACE,
          NODE_OPTIONS: "--enable-source-maps",
        },
      },
      // Text, not JSON: the handler writes its EMF lines straight to stdout for CloudWatch to extract.
      loggingConfig: { logFormat: "Text", logGroup: inputs.logGroup.name },
      tags: { ...ctx.tags, [PROBE_TAG]: inputs.probeName },
    },
    { parent: ctx.parent, dependsOn: [inputs.logGroup, ...inputs.role.policies] },
  );
}
