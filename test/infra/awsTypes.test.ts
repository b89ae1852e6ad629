import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { AWS_TYPES, type AwsTypeName } from "../../infra/awsTypes";
import { createMocks } from "../../infra/mockRuntime";

/** Reads one resource of each provider class under the mocks, which record the type token the engine is sent. */
const READ: Record<AwsTypeName, (name: string) => pulumi.CustomResource> = {
  securityGroup: (n) => aws.ec2.SecurityGroup.get(n, "sg-0a1b2c3d4e5f60789"),
  securityGroupEgressRule: (n) => aws.vpc.SecurityGroupEgressRule.get(n, "sgr-0a1b2c3d4e5f60789"),
  securityGroupIngressRule: (n) => aws.vpc.SecurityGroupIngressRule.get(n, "sgr-0a1b2c3d4e5f60789"),
  securityGroupRule: (n) => aws.ec2.SecurityGroupRule.get(n, "sgrule-1"),
  networkAcl: (n) => aws.ec2.NetworkAcl.get(n, "acl-0a1b2c3d4e5f60789"),
  networkAclRule: (n) => aws.ec2.NetworkAclRule.get(n, "nacl-1"),
  route: (n) => aws.ec2.Route.get(n, "r-rtb-0a1b2c3d4e5f60789"),
  routeTable: (n) => aws.ec2.RouteTable.get(n, "rtb-0a1b2c3d4e5f60789"),
  networkInsightsPath: (n) => aws.ec2.NetworkInsightsPath.get(n, "nip-0a1b2c3d4e5f60789"),
  networkInsightsAnalysis: (n) => aws.ec2.NetworkInsightsAnalysis.get(n, "nia-0a1b2c3d4e5f60789"),
  lambdaFunction: (n) => aws.lambda.Function.get(n, "hkex-sftp-probe-1a2b3c4"),
  iamRole: (n) => aws.iam.Role.get(n, "hkex-sftp-probe-role-1a2b3c4"),
  iamRolePolicy: (n) => aws.iam.RolePolicy.get(n, "hkex-sftp-probe-role-1a2b3c4:hkex-sftp-probe-secret-policy-1a2b3c4"),
  logGroup: (n) => aws.cloudwatch.LogGroup.get(n, "/hkex-sftp-readiness/prod/hkex-sftp-probe"),
  schedule: (n) => aws.scheduler.Schedule.get(n, "default/hkex-sftp-probe-schedule-1a2b3c4"),
  metricAlarm: (n) => aws.cloudwatch.MetricAlarm.get(n, "hkex-sftp-probe-alarm-primary-1a2b3c4"),
};

describe("AWS_TYPES", () => {
  it("spells each token as @pulumi/aws sends it to the engine", async () => {
    const seen = new Map<string, string>();
    await pulumi.runtime.setMocks(
      createMocks((r) => seen.set(r.name, r.type)),
      "hkex-sftp-readiness",
      "types",
      false,
    );
    const read = Object.entries(READ).map(([name, get]) => get(name));
    await Promise.all(read.map((r) => new Promise((resolve) => r.urn.apply(resolve))));
    expect(Object.fromEntries(seen)).toEqual({ ...AWS_TYPES });
  });
});
