/**
 * The EventBridge Scheduler schedule that runs the probe, with the event the
 * handler expects as its constant input, and its own role, allowed to invoke
 * that one function.
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { ChildContext } from "../naming";
import type { ProbeArgs } from "./config";
import type { ProbeEvent } from "./event";
import { accountOf, invokePolicy, schedulerTrustPolicy } from "./iamDocuments";

/** A run that cannot be delivered within this many seconds is dropped: the next one is due anyway. */
const MAX_EVENT_AGE_SECONDS = 300;

export interface ProbeScheduleInputs {
  readonly fn: aws.lambda.Function;
  readonly event: ProbeEvent;
  /** Resources the first run needs in place (the rules that open the path). */
  readonly after: readonly pulumi.Resource[];
}

export function probeSchedule(ctx: ChildContext, probe: ProbeArgs, inputs: ProbeScheduleInputs): aws.scheduler.Schedule {
  const { fn } = inputs;
  const role = new aws.iam.Role(
    `${ctx.name}-probe-schedule-role`,
    {
      description: "EventBridge Scheduler: invokes the HKEX SFTP readiness probe function",
      assumeRolePolicy: fn.arn.apply((arn) => JSON.stringify(schedulerTrustPolicy(accountOf(arn)))),
      tags: ctx.tags,
    },
    { parent: ctx.parent },
  );
  const invoke = new aws.iam.RolePolicy(
    `${ctx.name}-probe-invoke-policy`,
    { role: role.id, policy: fn.arn.apply((arn) => JSON.stringify(invokePolicy(arn))) },
    { parent: ctx.parent },
  );
  return new aws.scheduler.Schedule(
    `${ctx.name}-probe-schedule`,
    {
      description: "Runs the HKEX SFTP readiness probe from the client subnets",
      scheduleExpression: probe.schedule,
      flexibleTimeWindow: { mode: "OFF" },
      state: "ENABLED",
      target: {
        arn: fn.arn,
        roleArn: role.arn,
        input: JSON.stringify(inputs.event),
        retryPolicy: { maximumEventAgeInSeconds: MAX_EVENT_AGE_SECONDS, maximumRetryAttempts: 3 },
      },
    },
    { parent: ctx.parent, dependsOn: [invoke, ...inputs.after] },
  );
}
