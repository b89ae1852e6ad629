/**
 * The `probe` block of the SftpAccess config (stack config key
 * `hkex-sftp-readiness:probe`): a scheduled Lambda function in the client
 * subnets that runs the readiness check (checks/vpcProbe/) with the
 * component's HKEX security group. Schema and normalisation here; infra/config.ts
 * puts them in the stack config and reports the problems under `probe.`.
 *
 * No @pulumi import: `hkex-ready plan` validates this before the SDK loads.
 */
import { z } from "zod";

/** CloudWatch Logs' allowed retention periods, in days (PutRetentionPolicy). */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const PROBE_DEFAULTS = Object.freeze({
  remoteDir: ".",
  /** The sum of the default phase timeouts of a check without downloads, plus margin (docs/monitoring.md). */
  timeoutSeconds: 90,
  logRetentionDays: 30,
});

/** The probe block, validated and normalised. */
export interface ProbeArgs {
  /** EventBridge Scheduler expression: rate(...) or cron(...). */
  readonly schedule: string;
  /** The client subnets: the function's network interfaces go there. */
  readonly subnetIds: readonly string[];
  /** Groups besides the HKEX one, e.g. HTTPS to a Secrets Manager endpoint; their egress adds to the HKEX group's. */
  readonly additionalSecurityGroupIds: readonly string[];
  /** The secret holding the SFTP private key; the key itself never enters config or state. */
  readonly keySecretArn: string;
  /** The customer-managed KMS key the secret is encrypted with, if it is not the AWS managed key. */
  readonly keyKmsKeyArn?: string;
  /** OpenSSH known_hosts lines pinning the HKEX host keys. */
  readonly knownHosts: string;
  readonly user: string;
  readonly files: readonly string[];
  readonly remoteDir: string;
  readonly timeouts?: { readonly connectMs?: number; readonly handshakeMs?: number; readonly operationMs?: number };
  /** The `probe` dimension of the metrics; default `<stack>/<component>`. */
  readonly name?: string;
  readonly timeoutSeconds: number;
  readonly logRetentionDays: number;
  /** The alarms' period: how long without a passing run counts as failing. Default the rate's interval; required with cron(). */
  readonly alarmPeriodMinutes?: number;
  /** SNS topics (or other alarm actions) told when an alarm fires and when it clears. */
  readonly alarmActions: readonly string[];
}

const id = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), { error: `must be an AWS id like ${prefix}-0123456789abcdef0` });

const arn = (service: string, resource: string, example: string) =>
  z.string().regex(new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:${resource}$`), { error: `must be an ARN like ${example}` });

const wholeNumber = (min: number, max: number, unit: string) =>
  z
    .number({ error: `must be a whole number of ${unit}` })
    .int({ error: `must be a whole number of ${unit}` })
    .min(min, { error: `must be between ${min} and ${max} ${unit}` })
    .max(max, { error: `must be between ${min} and ${max} ${unit}` });

const uniqueIds = (prefix: string) =>
  z.array(id(prefix)).refine((ids) => new Set(ids).size === ids.length, { error: "lists an id more than once" });

export const probeSchema = z
  .object({
    schedule: z.string({ error: "must be an EventBridge Scheduler expression such as rate(15 minutes)" }).superRefine((expression, ctx) => {
      const parsed = parseSchedule(expression.trim());
      if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: `"${expression}": ${parsed}` });
    }),
    subnetIds: uniqueIds("subnet").min(1, { error: "must list the client subnets the probe runs in" }),
    additionalSecurityGroupIds: uniqueIds("sg").optional(),
    keySecretArn: arn(
      "secretsmanager",
      "secret:[A-Za-z0-9/_+=.@-]+",
      "arn:aws:secretsmanager:ap-east-1:123456789012:secret:hkex/sftp-key-AbCdEf",
    ),
    keyKmsKeyArn: arn(
      "kms",
      "key/[0-9a-f-]{36}|mrk-[0-9a-f]{32}",
      "arn:aws:kms:ap-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ).optional(),
    knownHosts: z
      .string({ error: "must be the known_hosts text pinning the HKEX host keys" })
      .max(1024 * 1024, { error: "is larger than 1 MiB" })
      .superRefine((text, ctx) => {
        for (const message of knownHostsProblems(text)) ctx.addIssue({ code: "custom", message });
      }),
    user: z.string({ error: "must be the SFTP user id" }).trim().min(1, { error: "must be the SFTP user id" }),
    files: z
      .array(z.string().trim().min(1, { error: "must not be empty" }))
      .min(1, { error: "must name one or two files or globs" })
      .max(2, { error: "must name one or two files or globs" }),
    remoteDir: z.string().trim().min(1, { error: "must not be empty" }).optional(),
    timeouts: z
      .object({
        connectMs: wholeNumber(1, 600_000, "milliseconds").optional(),
        handshakeMs: wholeNumber(1, 600_000, "milliseconds").optional(),
        operationMs: wholeNumber(1, 600_000, "milliseconds").optional(),
      })
      .strict()
      .optional(),
    name: z
      .string()
      .regex(/^[A-Za-z0-9._:/-]{1,128}$/, { error: "must be 1-128 letters, digits or . _ : / -" })
      .optional(),
    timeoutSeconds: wholeNumber(10, 900, "seconds").optional(),
    logRetentionDays: z
      .number()
      .refine((d) => LOG_RETENTION_DAYS.includes(d), { error: `must be one of CloudWatch Logs' periods: ${LOG_RETENTION_DAYS.join(", ")}` })
      .optional(),
    alarmPeriodMinutes: wholeNumber(1, 1440, "minutes").optional(),
    alarmActions: z.array(z.string().regex(/^arn:aws[a-z-]*:[a-z0-9-]+:/, { error: "must be an ARN (an SNS topic, say)" })).optional(),
  })
  .strict();

export type RawProbe = z.infer<typeof probeSchema>;

export function normaliseProbe(raw: RawProbe): ProbeArgs {
  return {
    schedule: raw.schedule.trim(),
    subnetIds: raw.subnetIds,
    additionalSecurityGroupIds: raw.additionalSecurityGroupIds ?? [],
    keySecretArn: raw.keySecretArn,
    keyKmsKeyArn: raw.keyKmsKeyArn,
    knownHosts: raw.knownHosts,
    user: raw.user,
    files: raw.files,
    remoteDir: raw.remoteDir ?? PROBE_DEFAULTS.remoteDir,
    timeouts: raw.timeouts,
    name: raw.name,
    timeoutSeconds: raw.timeoutSeconds ?? PROBE_DEFAULTS.timeoutSeconds,
    logRetentionDays: raw.logRetentionDays ?? PROBE_DEFAULTS.logRetentionDays,
    alarmPeriodMinutes: raw.alarmPeriodMinutes,
    alarmActions: raw.alarmActions ?? [],
  };
}

export type ParsedSchedule = { readonly kind: "rate"; readonly seconds: number } | { readonly kind: "cron" };

const RATE_UNITS: Record<string, number> = { minute: 60, hour: 3600, day: 86400 };

/**
 * EventBridge Scheduler's recurring expressions: `rate(value unit)`, the unit
 * singular for 1 and plural above, and `cron(minutes hours day-of-month month
 * day-of-week year)`. A one-time `at(...)` is refused: the probe is for every day.
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 */
export function parseSchedule(expression: string): ParsedSchedule | string {
  const rate = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    if (value < 1) return "rate() needs a value of at least 1";
    if ((value === 1) !== (rate[3] === "")) return `write rate(${value} ${rate[2]}${value === 1 ? "" : "s"}): singular for 1, plural above`;
    return { kind: "rate", seconds: value * RATE_UNITS[rate[2]!]! };
  }
  if (/^cron\(\S+( \S+){5}\)$/.test(expression)) return { kind: "cron" };
  if (expression.startsWith("at(")) return "at() runs the probe once; give a recurring rate() or cron() expression";
  return "must be rate(<n> minutes|hours|days) or cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)";
}

/** The alarms' period in seconds: what was given, else the rate's interval. */
export function alarmPeriodSeconds(probe: Pick<ProbeArgs, "schedule" | "alarmPeriodMinutes">): number {
  if (probe.alarmPeriodMinutes !== undefined) return probe.alarmPeriodMinutes * 60;
  const parsed = parseSchedule(probe.schedule);
  return typeof parsed === "object" && parsed.kind === "rate" ? parsed.seconds : 3600;
}

export interface ProbeProblem {
  /** Below `probe`, e.g. ["schedule"]. */
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** What known_hosts text lacks to pin the HKEX host keys; empty when it looks right. The handler parses it in full. */
function knownHostsProblems(text: string): string[] {
  const pins = text.split(/\r?\n/).filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"));
  if (pins.length === 0) return ["has no host key lines: every HKEX host key would be unknown"];
  return pins
    .filter((line) => line.trim().split(/\s+/).length < 3)
    .map((line) => `"${line.trim().slice(0, 60)}" is not a known_hosts line (hosts, key type, key)`);
}

/** The checks across keys of an already normalised probe block (each key's own are in probeSchema). */
export function validateProbeArgs(probe: ProbeArgs): ProbeProblem[] {
  const problems: ProbeProblem[] = [];
  const schedule = parseSchedule(probe.schedule);
  if (typeof schedule !== "string" && schedule.kind === "rate") {
    if (schedule.seconds > 86400) {
      problems.push({ path: ["schedule"], message: "runs less than daily; the alarms need a run at least every day (rate(1 day))" });
    }
    if (probe.alarmPeriodMinutes !== undefined && probe.alarmPeriodMinutes * 60 < schedule.seconds) {
      problems.push({
        path: ["alarmPeriodMinutes"],
        message: `${probe.alarmPeriodMinutes} is shorter than the schedule's interval (${schedule.seconds / 60} minutes): periods without a run would alarm`,
      });
    }
  } else if (typeof schedule !== "string" && probe.alarmPeriodMinutes === undefined) {
    problems.push({ path: ["alarmPeriodMinutes"], message: "is required with a cron() schedule: the longest gap between two runs" });
  }
  return problems;
}
