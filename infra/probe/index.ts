/**
 * The optional VPC probe part of hkex:network:SftpAccess: the readiness check
 * as a Lambda function in the client subnets with the component's HKEX
 * security group, run by an EventBridge Scheduler schedule, reporting
 * CloudWatch EMF metrics with the exporter's names, and an alarm per site.
 * Each piece is declared in its own file of this folder.
 */
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SiteDefinition } from "../../catalogue";
import type { ChildContext } from "../naming";
import { siteAlarms } from "./alarms";
import type { ProbeArgs } from "./config";
import { probeEvent } from "./event";
import { probeFunction, probeLogGroup } from "./function";
import { probeRole } from "./role";
import { probeSchedule } from "./schedule";

export interface VpcProbeInputs {
  readonly securityGroupId: pulumi.Input<string>;
  readonly sites: readonly SiteDefinition[];
  /** The component's rules and routes: the schedule starts once they exist. */
  readonly after: readonly pulumi.Resource[];
}

export interface VpcProbe {
  readonly name: string;
  readonly fn: aws.lambda.Function;
  readonly schedule: aws.scheduler.Schedule;
  readonly alarms: aws.cloudwatch.MetricAlarm[];
}

/** What the stack outputs about the probe. */
export interface VpcProbeOutputs {
  readonly name: string;
  readonly functionArn: string;
  readonly scheduleArn: string;
  readonly alarmArns: string[];
}

export function vpcProbe(ctx: ChildContext, probe: ProbeArgs, inputs: VpcProbeInputs): VpcProbe {
  const name = probe.name ?? `${pulumi.getStack()}/${ctx.name}`;
  const logGroup = probeLogGroup(ctx, probe);
  const role = probeRole(ctx, probe, logGroup);
  const fn = probeFunction(ctx, probe, { probeName: name, securityGroupId: inputs.securityGroupId, logGroup, role });
  const schedule = probeSchedule(ctx, probe, { fn, event: probeEvent(probe, inputs.sites), after: inputs.after });
  const alarms = siteAlarms(ctx, probe, name, inputs.sites);
  return { name, fn, schedule, alarms };
}

export function vpcProbeOutputs(probe: VpcProbe | undefined): pulumi.Output<VpcProbeOutputs | undefined> {
  if (probe === undefined) return pulumi.output(undefined);
  return pulumi
    .all([probe.fn.arn, probe.schedule.arn, pulumi.all(probe.alarms.map((a) => a.arn))])
    .apply(([functionArn, scheduleArn, alarmArns]): VpcProbeOutputs => ({ name: probe.name, functionArn, scheduleArn, alarmArns }));
}
