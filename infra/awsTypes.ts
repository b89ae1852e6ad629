/**
 * The AWS resource types the kit declares, reads or checks, by their Pulumi
 * type token, and the facts about them that the program, the mock runtime,
 * the plan and the policy pack share.
 *
 * No imports: the policy pack uses this file too, and it must not pull in
 * @pulumi/aws. test/infra/awsTypes.test.ts holds each token to the
 * provider's own (`aws.ec2.SecurityGroup.__pulumiType`).
 */
export const AWS_TYPES = Object.freeze({
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  securityGroupEgressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  securityGroupIngressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  /** The older resource that holds one rule in either direction (`type: egress | ingress`). */
  securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  networkAcl: "aws:ec2/networkAcl:NetworkAcl",
  networkAclRule: "aws:ec2/networkAclRule:NetworkAclRule",
  route: "aws:ec2/route:Route",
  routeTable: "aws:ec2/routeTable:RouteTable",
  networkInsightsPath: "aws:ec2/networkInsightsPath:NetworkInsightsPath",
  networkInsightsAnalysis: "aws:ec2/networkInsightsAnalysis:NetworkInsightsAnalysis",
  // The VPC probe (infra/probe/).
  lambdaFunction: "aws:lambda/function:Function",
  iamRole: "aws:iam/role:Role",
  iamRolePolicy: "aws:iam/rolePolicy:RolePolicy",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  schedule: "aws:scheduler/schedule:Schedule",
  metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
} as const);

export type AwsTypeName = keyof typeof AWS_TYPES;

/**
 * AWS's highest user rule number in a network ACL; 32767 is the default deny.
 * https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html
 */
export const NACL_MAX_RULE_NUMBER = 32766;

/**
 * Return traffic of an outbound TCP session arrives on the client's ephemeral
 * ports; a network ACL is stateless and must let them in. AWS recommends the
 * whole 1024-65535 range when the clients are not known:
 * https://docs.aws.amazon.com/vpc/latest/userguide/nacl-ephemeral-ports.html
 */
export const EPHEMERAL_PORTS = Object.freeze({ from: 1024, to: 65535 });
