/**
 * The security-group part of hkex:network:SftpAccess: the group, unless an
 * existing one is given, and one TCP egress rule per HKEX endpoint.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { SiteDefinition } from "../catalogue";
import { hostCidr } from "./cidr";
import type { SftpAccessArgs } from "./config";
import { dashed, type ChildContext } from "./naming";

export interface EndpointEgressRule {
  readonly site: SiteDefinition;
  readonly host: string;
  readonly rule: aws.vpc.SecurityGroupEgressRule;
}

export function ruleDescription(site: SiteDefinition, host: string): string {
  return `HKEX SFTP ${site.name} (${site.dataCentre}) ${host}:${site.port}`;
}

/**
 * The id of the group the rules go in: the existing group, or a new one in
 * the VPC. validateSftpAccessArgs has made sure exactly one of the two is given.
 */
export function securityGroupFor(ctx: ChildContext, args: Pick<SftpAccessArgs, "vpcId" | "securityGroupId">): pulumi.Input<string> {
  if (args.securityGroupId !== undefined) return args.securityGroupId;
  return new aws.ec2.SecurityGroup(
    `${ctx.name}-sg`,
    {
      vpcId: args.vpcId,
      description: "Egress to the HKEX derivatives SFTP facility on TCP 18801",
      tags: { ...ctx.tags, Name: `${ctx.name}-sg` },
    },
    { parent: ctx.parent },
  ).id;
}

/**
 * One standalone rule per endpoint, never inline blocks: the provider cannot
 * manage both on one group without the two fighting over it.
 */
export function endpointEgressRules(
  ctx: ChildContext,
  sites: readonly SiteDefinition[],
  securityGroupId: pulumi.Input<string>,
): EndpointEgressRule[] {
  return sites.flatMap((site) =>
    site.hosts.map((host) => ({
      site,
      host,
      rule: new aws.vpc.SecurityGroupEgressRule(
        `${ctx.name}-egress-${site.name}-${dashed(host)}`,
        {
          securityGroupId,
          ipProtocol: "tcp",
          fromPort: site.port,
          toPort: site.port,
          cidrIpv4: hostCidr(host),
          description: ruleDescription(site, host),
          tags: ctx.tags,
        },
        { parent: ctx.parent },
      ),
    })),
  );
}
