/**
 * The security-group part of hkex:network:SftpAccess: the group, unless an
 * existing one is given (then its live rules are reviewed first), one TCP
 * egress rule per HKEX endpoint, and the group's attachment to each client ENI.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SiteDefinition } from "../catalogue";
import { AWS_TYPES } from "./awsTypes";
import { hostCidr } from "./cidr";
import type { SftpAccessArgs } from "./config";
import { type ExistingGroupReview, readExistingGroup } from "./existingGroup";
import { childOptions, dashed, type ChildContext } from "./naming";

export interface EndpointEgressRule {
  readonly site: SiteDefinition;
  readonly host: string;
  readonly rule: aws.vpc.SecurityGroupEgressRule;
}

function ruleDescription(site: SiteDefinition, host: string): string {
  return `HKEX SFTP ${site.name} (${site.dataCentre}) ${host}:${site.port}`;
}

export interface ClientGroup {
  readonly id: pulumi.Output<string>;
  /** The group the component created, if it did. */
  readonly created?: aws.ec2.SecurityGroup;
  /** The review of an existing group's live egress rules. */
  readonly review?: pulumi.Output<ExistingGroupReview>;
}

/**
 * The group the rules go in: the existing group, whose live rules are
 * reviewed, or a new one in the VPC. validateSftpAccessArgs has made sure
 * exactly one of the two is given.
 *
 * The review is an output of its own, not an input of the rules: a failed
 * input would fail each rule's registration separately, and the Pulumi SDK
 * reports every failed registration as an unhandled rejection of its own.
 * The stack program exports the review, so a broad rule fails the program
 * (and so the preview) with one message; `pulumi up --skip-preview` would
 * not wait for it, which docs/network.md warns against.
 */
export function securityGroupFor(
  ctx: ChildContext,
  args: Pick<SftpAccessArgs, "vpcId" | "securityGroupId" | "sites" | "securityGroupRuleExceptions">,
): ClientGroup {
  const existing = args.securityGroupId;
  if (existing !== undefined) {
    const review = readExistingGroup(ctx.parent, { ...args, securityGroupId: existing });
    return { id: pulumi.output(existing), review };
  }
  const name = `${ctx.name}-sg`;
  const created = new aws.ec2.SecurityGroup(
    name,
    {
      vpcId: args.vpcId,
      description: "Egress to the HKEX derivatives SFTP facility on TCP 18801",
      tags: { ...ctx.tags, Name: name },
    },
    childOptions(ctx, AWS_TYPES.securityGroup, name),
  );
  return { id: created.id, created };
}

export interface GroupAttachment {
  readonly networkInterfaceId: string;
  readonly attachment: aws.ec2.NetworkInterfaceSecurityGroupAttachment;
}

/**
 * Attaches the group to each client ENI, keeping the groups the ENI already
 * has. The provider warns that this resource and an ENI's or instance's own
 * list of groups (`securityGroups`, `vpcSecurityGroupIds`) fight over the
 * same setting; an ENI listed here must not have its groups managed elsewhere:
 * https://www.pulumi.com/registry/packages/aws/api-docs/ec2/networkinterfacesecuritygroupattachment/
 */
export function groupAttachments(
  ctx: ChildContext,
  networkInterfaceIds: readonly string[],
  securityGroupId: pulumi.Input<string>,
): GroupAttachment[] {
  return networkInterfaceIds.map((networkInterfaceId) => {
    const name = `${ctx.name}-attach-${networkInterfaceId}`;
    return {
      networkInterfaceId,
      attachment: new aws.ec2.NetworkInterfaceSecurityGroupAttachment(
        name,
        { networkInterfaceId, securityGroupId },
        childOptions(ctx, AWS_TYPES.networkInterfaceSecurityGroupAttachment, name),
      ),
    };
  });
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
    site.hosts.map((host) => {
      const name = `${ctx.name}-egress-${site.name}-${dashed(host)}`;
      return {
        site,
        host,
        rule: new aws.vpc.SecurityGroupEgressRule(
          name,
          {
            securityGroupId,
            ipProtocol: "tcp",
            fromPort: site.port,
            toPort: site.port,
            cidrIpv4: hostCidr(host),
            description: ruleDescription(site, host),
            tags: ctx.tags,
          },
          childOptions(ctx, AWS_TYPES.securityGroupEgressRule, name),
        ),
      };
    }),
  );
}
