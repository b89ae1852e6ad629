/**
 * The network ACL part of hkex:network:SftpAccess: in each given NACL, per
 * site range, egress TCP to the SFTP port and ingress on the ephemeral ports
 * for the replies, both under the same rule number.
 */
import * as aws from "@pulumi/aws";
import { EPHEMERAL_PORTS } from "./awsTypes";
import { naclRulePlan, type SftpAccessArgs } from "./config";
import type { ChildContext } from "./naming";

export function siteNaclRules(
  ctx: ChildContext,
  args: Pick<SftpAccessArgs, "networkAclIds" | "naclRuleNumberBase" | "sites">,
): aws.ec2.NetworkAclRule[] {
  const plan = naclRulePlan(args);
  return args.networkAclIds.flatMap((networkAclId) =>
    plan.flatMap(({ site, ruleNumber }) => [
      new aws.ec2.NetworkAclRule(
        `${ctx.name}-${networkAclId}-egress-${site.name}`,
        {
          networkAclId,
          ruleNumber,
          egress: true,
          protocol: "tcp",
          ruleAction: "allow",
          cidrBlock: site.range,
          fromPort: site.port,
          toPort: site.port,
        },
        { parent: ctx.parent },
      ),
      // NACLs are stateless: the replies come back to the client's ephemeral ports.
      new aws.ec2.NetworkAclRule(
        `${ctx.name}-${networkAclId}-ingress-${site.name}`,
        {
          networkAclId,
          ruleNumber,
          egress: false,
          protocol: "tcp",
          ruleAction: "allow",
          cidrBlock: site.range,
          fromPort: EPHEMERAL_PORTS.from,
          toPort: EPHEMERAL_PORTS.to,
        },
        { parent: ctx.parent },
      ),
    ]),
  );
}
