/**
 * One CloudWatch alarm per site on the probe's EMF metric
 * hkex_sftp_probe_success (namespace, name and dimensions as the handler
 * prints them: contract.ts). The alarm adds the site's endpoints with metric
 * math (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html)
 * and fires when fewer than all of them passed.
 *
 * Missing data is breaching: a probe that stopped running, cannot read its
 * key or cannot start in the subnets prints no metric, and that must alarm
 * too. A period is the schedule's interval (or alarmPeriodMinutes); two of
 * the last three periods must fail, so one run delivered late does not alarm.
 * An alarm's periods may span one day at most (PutMetricAlarm EvaluationPeriods).
 */
import * as aws from "@pulumi/aws";
import type { SiteDefinition } from "../../catalogue";
import type { ChildContext } from "../naming";
import { alarmPeriodSeconds, type ProbeArgs } from "./config";
import { PROBE_METRICS_NAMESPACE, PROBE_SUCCESS_METRIC } from "./contract";

const DAY_SECONDS = 86400;

export function alarmEvaluation(periodSeconds: number): { evaluationPeriods: number; datapointsToAlarm: number } {
  const evaluationPeriods = Math.max(1, Math.min(3, Math.floor(DAY_SECONDS / periodSeconds)));
  return { evaluationPeriods, datapointsToAlarm: Math.min(2, evaluationPeriods) };
}

export function siteAlarms(
  ctx: ChildContext,
  probe: ProbeArgs,
  probeName: string,
  sites: readonly SiteDefinition[],
): aws.cloudwatch.MetricAlarm[] {
  const period = alarmPeriodSeconds(probe);
  return sites.map(
    (site) =>
      new aws.cloudwatch.MetricAlarm(
        `${ctx.name}-probe-alarm-${site.name}`,
        {
          alarmDescription:
            `HKEX SFTP ${site.name} (${site.dataCentre}) ${site.hosts.map((h) => `${h}:${site.port}`).join(", ")}: ` +
            `an endpoint failed the readiness check from probe ${probeName}, or the probe did not report. ` +
            "The probe's log names the phase and cause; the README's failure table says what to do.",
          comparisonOperator: "LessThanThreshold",
          threshold: site.hosts.length,
          ...alarmEvaluation(period),
          treatMissingData: "breaching",
          metricQueries: [
            ...site.hosts.map((host, i) => ({
              id: `m${i}`,
              returnData: false,
              metric: {
                namespace: PROBE_METRICS_NAMESPACE,
                metricName: PROBE_SUCCESS_METRIC,
                dimensions: { probe: probeName, site: site.name, host, port: String(site.port) },
                period,
                stat: "Minimum",
              },
            })),
            {
              id: "passing",
              expression: site.hosts.map((_, i) => `m${i}`).join(" + "),
              label: `${site.name} endpoints passing`,
              returnData: true,
            },
          ],
          alarmActions: [...probe.alarmActions],
          okActions: [...probe.alarmActions],
          tags: ctx.tags,
        },
        { parent: ctx.parent },
      ),
  );
}
