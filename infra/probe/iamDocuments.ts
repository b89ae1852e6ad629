/**
 * The IAM policy documents of the VPC probe, as plain data: each grants one
 * thing on the one resource that needs it. Kept apart from the resources so
 * the tests read exactly what goes to IAM.
 *
 * IAM policy grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 */

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Principal?: { readonly Service: string };
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: "2012-10-17", Statement });

/** The account of an ARN: its fifth field. */
export function accountOf(arn: string): string {
  return arn.split(":")[4] ?? "";
}

/** The region of an ARN: its fourth field. */
function regionOf(arn: string): string {
  return arn.split(":")[3] ?? "";
}

/** Lambda may assume the function's role. */
export function lambdaTrustPolicy(): PolicyDocument {
  return doc({
    Sid: "LambdaAssumesTheProbeRole",
    Effect: "Allow",
    Principal: { Service: "lambda.amazonaws.com" },
    Action: "sts:AssumeRole",
  });
}

/**
 * EventBridge Scheduler may assume the schedule's role, for schedules of this
 * account only (the confused-deputy condition AWS recommends:
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role).
 */
export function schedulerTrustPolicy(account: string): PolicyDocument {
  return doc({
    Sid: "SchedulerAssumesTheInvokeRole",
    Effect: "Allow",
    Principal: { Service: "scheduler.amazonaws.com" },
    Action: "sts:AssumeRole",
    Condition: { StringEquals: { "aws:SourceAccount": account } },
  });
}

/**
 * Read the one secret that holds the login key, and, when it is encrypted
 * with a customer-managed KMS key, decrypt through Secrets Manager only
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
 * A secret under the AWS managed key needs no KMS statement.
 */
export function secretReadPolicy(secretArn: string, kmsKeyArn?: string): PolicyDocument {
  const read: PolicyStatement = {
    Sid: "ReadTheLoginKeySecret",
    Effect: "Allow",
    Action: "secretsmanager:GetSecretValue",
    Resource: secretArn,
  };
  if (kmsKeyArn === undefined) return doc(read);
  return doc(read, {
    Sid: "DecryptTheLoginKeySecret",
    Effect: "Allow",
    Action: "kms:Decrypt",
    Resource: kmsKeyArn,
    Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${regionOf(secretArn)}.amazonaws.com` } },
  });
}

/**
 * Write to the function's own log group and nowhere else. CreateLogStream acts
 * on the log group, PutLogEvents on its streams
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html);
 * the group is declared by the component, so no logs:CreateLogGroup.
 */
export function logWritePolicy(logGroupArn: string): PolicyDocument {
  return doc({
    Sid: "WriteTheProbeLogGroup",
    Effect: "Allow",
    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
    Resource: [logGroupArn, `${logGroupArn}:log-stream:*`],
  });
}

/**
 * What Lambda does with the function's role to attach it to the subnets:
 * create, describe and delete its network interfaces and their addresses
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions,
 * the actions of the AWSLambdaVPCAccessExecutionRole managed policy, without
 * its logs:* on every resource). Resource "*" because ec2:DescribeNetworkInterfaces
 * and ec2:DescribeSubnets support no resource-level permissions, and the
 * interfaces Lambda creates have ids that are not known until it does; the
 * Lambda guide says the describe action "only works if it's allowed on all
 * resources". These actions are the only ones on "*".
 */
export const NETWORK_INTERFACE_ACTIONS = Object.freeze([
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
]);

export function networkInterfacePolicy(): PolicyDocument {
  return doc({ Sid: "LambdaManagesTheProbeNetworkInterfaces", Effect: "Allow", Action: [...NETWORK_INTERFACE_ACTIONS], Resource: "*" });
}

/** The schedule may invoke the probe function and nothing else. */
export function invokePolicy(functionArn: string): PolicyDocument {
  return doc({ Sid: "InvokeTheProbe", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: functionArn });
}
