/**
 * The network ACL part of hkex:network:SftpAccess: in each given NACL, per
 * site range, egress TCP to the SFTP port and ingress on the ephemeral ports
 * for the replies, both under the site's rule number (naclRuleNumber).
 */
import * as aws from "@pulumi/aws";
import type { SiteDefinition } from "../catalogue";
import { AWS_TYPES, EPHEMERAL_PORTS } from "./awsTypes";
import { naclRulePlan, type SftpAccessArgs } from "./config";
import { childOptions, type ChildContext } from "./naming";

export interface SiteNaclRule {
  readonly site: SiteDefinition;
  readonly networkAclId: string;
  readonly egress: boolean;
  readonly ruleNumber: number;
  readonly rule: aws.ec2.NetworkAclRule;
}

/**
 * Every input of a NACL rule forces a replacement: AWS cannot modify an
 * entry, only replace it ("After you add an entry, you can't modify it; you
 * must either replace it, or create an entry and delete the old one":
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkAclEntry.html).
 * Pulumi's default replacement creates the new entry first, at the same rule
 * number and direction as the old one, which AWS refuses
 * (NetworkAclEntryAlreadyExists). Deleting first avoids that; the gap is one
 * API call long.
 */
const NACL_RULE_OPTIONS = { deleteBeforeReplace: true } as const;

export function siteNaclRules(
  ctx: ChildContext,
  args: Pick<SftpAccessArgs, "networkAclIds" | "naclRuleNumberBase" | "sites">,
): SiteNaclRule[] {
  const plan = naclRulePlan(args);
  const declare = (name: string, inputs: aws.ec2.NetworkAclRuleArgs) =>
    new aws.ec2.NetworkAclRule(name, inputs, childOptions(ctx, AWS_TYPES.networkAclRule, name, NACL_RULE_OPTIONS));
  return args.networkAclIds.flatMap((networkAclId) =>
    plan.flatMap(({ site, ruleNumber }) => [
      {
        site,
        networkAclId,
        egress: true,
        ruleNumber,
        rule: declare(`${ctx.name}-${networkAclId}-egress-${site.name}`, {
          networkAclId,
          ruleNumber,
          egress: true,
          protocol: "tcp",
          ruleAction: "allow",
          cidrBlock: site.range,
          fromPort: site.port,
          toPort: site.port,
        }),
      },
      // NACLs are stateless: the replies come back to the client's ephemeral ports.
      {
        site,
        networkAclId,
        egress: false,
        ruleNumber,
        rule: declare(`${ctx.name}-${networkAclId}-ingress-${site.name}`, {
          networkAclId,
          ruleNumber,
          egress: false,
          protocol: "tcp",
          ruleAction: "allow",
          cidrBlock: site.range,
          fromPort: EPHEMERAL_PORTS.from,
          toPort: EPHEMERAL_PORTS.to,
        }),
      },
    ]),
  );
}
