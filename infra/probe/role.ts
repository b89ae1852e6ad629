/**
 * The probe function's execution role: Lambda may assume it, and it may read
 * the one secret, write the function's own log group, and manage the network
 * interfaces that put the function in the client subnets. One inline policy
 * per purpose (iamDocuments.ts), so each reads on its own.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { ChildContext } from "../naming";
import type { ProbeArgs } from "./config";
import { lambdaTrustPolicy, logWritePolicy, networkInterfacePolicy, secretReadPolicy } from "./iamDocuments";

export interface ProbeRole {
  readonly role: aws.iam.Role;
  /** The function waits for these: Lambda checks the interface permissions when it creates a VPC function. */
  readonly policies: aws.iam.RolePolicy[];
}

export function probeRole(ctx: ChildContext, probe: ProbeArgs, logGroup: aws.cloudwatch.LogGroup): ProbeRole {
  const role = new aws.iam.Role(
    `${ctx.name}-probe-role`,
    {
      description: "HKEX SFTP readiness probe (Lambda): reads the login key secret, writes its log group, joins the client subnets",
      assumeRolePolicy: JSON.stringify(lambdaTrustPolicy()),
      tags: ctx.tags,
    },
    { parent: ctx.parent },
  );
  const inline = (purpose: string, policy: pulumi.Input<string>) =>
    new aws.iam.RolePolicy(`${ctx.name}-probe-${purpose}-policy`, { role: role.id, policy }, { parent: ctx.parent });
  return {
    role,
    policies: [
      inline("secret", JSON.stringify(secretReadPolicy(probe.keySecretArn, probe.keyKmsKeyArn))),
      inline(
        "logs",
        logGroup.arn.apply((arn) => JSON.stringify(logWritePolicy(arn))),
      ),
      inline("eni", JSON.stringify(networkInterfacePolicy())),
    ],
  };
}
