/**
 * The existing-group mode of hkex:network:SftpAccess (`securityGroupId`)
 * reads the group's live egress rules before it adds its own: four narrow
 * rules on a group that already lets everything out would prove nothing.
 *
 * The rules are read with the provider's data sources, which run in the
 * preview as in the update: getSecurityGroupRules lists the rule ids of the
 * group (filter `group-id`, as DescribeSecurityGroupRules names it:
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSecurityGroupRules.html),
 * getSecurityGroupRule reads each one. A rule that allows all traffic, or
 * all ports, toward an HKEX range (0.0.0.0/0 included) fails the preview,
 * naming the rule, unless `securityGroupRuleExceptions` waives it with a
 * reason, as the policy pack's exceptions do.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SiteDefinition } from "../catalogue";
import { cidrsOverlap } from "./cidr";
import { type ConfigException, configPath, type SftpAccessArgs } from "./config";

/** One rule as getSecurityGroupRule returns it (the fields the check reads). */
export interface LiveSecurityGroupRule {
  readonly securityGroupRuleId: string;
  readonly securityGroupId: string;
  readonly isEgress: boolean;
  /** "tcp", "udp", "icmp", a protocol number, or "-1" for all traffic. */
  readonly ipProtocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly cidrIpv4?: string;
  readonly cidrIpv6?: string;
  readonly prefixListId?: string;
  readonly referencedSecurityGroupId?: string;
  readonly description?: string;
}

export interface BroadRule {
  readonly ruleId: string;
  /** What the rule allows and toward which HKEX ranges. */
  readonly why: string;
}

export interface ExistingGroupReview {
  readonly securityGroupId: string;
  /** Every egress rule id read from the group. */
  readonly egressRuleIds: string[];
  /** Rules that would have failed the check, let through by securityGroupRuleExceptions. */
  readonly waived: { ruleId: string; why: string; reason: string }[];
  /** Egress rules whose destination the check cannot see (a prefix list or another group). */
  readonly notChecked: { ruleId: string; why: string }[];
}

const ALL_TRAFFIC = new Set(["-1", "all"]);
/** Protocols with ports; "all ports" means 0 (or 1) to 65535. */
const PORTED = new Set(["tcp", "6", "udp", "17"]);

function allows(rule: LiveSecurityGroupRule): string | undefined {
  const protocol = rule.ipProtocol.toLowerCase();
  if (ALL_TRAFFIC.has(protocol)) return "all traffic (protocol -1)";
  if (PORTED.has(protocol) && rule.fromPort <= 1 && rule.toPort >= 65535) return `all ${protocol} ports (${rule.fromPort}-${rule.toPort})`;
  return undefined;
}

/**
 * The egress rules of a live group that open more than TCP 18801 toward
 * HKEX: all traffic or all ports to a destination that overlaps a site's
 * range (0.0.0.0/0 does). Pure: the component and the tests share it.
 */
export function broadEgressRules(rules: readonly LiveSecurityGroupRule[], sites: readonly SiteDefinition[]): BroadRule[] {
  return rules.flatMap((rule) => {
    if (!rule.isEgress || !rule.cidrIpv4) return [];
    const what = allows(rule);
    const toward = sites.filter((s) => cidrsOverlap(rule.cidrIpv4 ?? "", s.range));
    if (what === undefined || toward.length === 0) return [];
    return [
      {
        ruleId: rule.securityGroupRuleId,
        why: `allows ${what} to ${rule.cidrIpv4}, which includes the HKEX range${toward.length > 1 ? "s" : ""} ${toward.map((s) => `${s.range} (${s.name})`).join(" and ")}`,
      },
    ];
  });
}

/**
 * Judges the rules read from `securityGroupId`: throws when a broad rule is
 * not waived, naming every such rule; otherwise returns what was read and waived.
 */
export function reviewExistingGroup(
  securityGroupId: string,
  rules: readonly LiveSecurityGroupRule[],
  sites: readonly SiteDefinition[],
  exceptions: readonly ConfigException[],
): ExistingGroupReview {
  const egress = rules.filter((r) => r.isEgress);
  const broad = broadEgressRules(egress, sites);
  const waiverOf = (id: string) => exceptions.find((e) => e.match === id);
  const failing = broad.filter((b) => waiverOf(b.ruleId) === undefined);
  if (failing.length > 0) {
    throw new Error(
      `${configPath("securityGroupId")}: ${securityGroupId} already lets more than TCP 18801 out toward HKEX, ` +
        `so the rules this program adds would prove nothing:\n${failing.map((f) => `  rule ${f.ruleId} ${f.why}`).join("\n")}\n` +
        `Narrow or remove ${failing.length === 1 ? "that rule" : "those rules"}, or waive each in ${configPath("securityGroupRuleExceptions")} ` +
        `with { match: "<rule id>", reason: "<why it is accepted>" }.`,
    );
  }
  return {
    securityGroupId,
    egressRuleIds: egress.map((r) => r.securityGroupRuleId),
    waived: broad.map((b) => ({ ruleId: b.ruleId, why: b.why, reason: waiverOf(b.ruleId)?.reason ?? "" })),
    notChecked: egress
      .filter((r) => !r.cidrIpv4 && !r.cidrIpv6)
      .map((r) => ({
        ruleId: r.securityGroupRuleId,
        why: r.prefixListId
          ? `destination is prefix list ${r.prefixListId}`
          : `destination is security group ${r.referencedSecurityGroupId ?? "?"}`,
      })),
  };
}

/**
 * Reads the existing group's rules through the data sources and reviews
 * them. The returned Output fails (and with it every rule that is to go into
 * the group, so nothing is added) when the review throws.
 */
export function readExistingGroup(
  parent: pulumi.Resource,
  args: Pick<SftpAccessArgs, "sites" | "securityGroupRuleExceptions"> & { securityGroupId: string },
): pulumi.Output<ExistingGroupReview> {
  const opts: pulumi.InvokeOutputOptions = { parent };
  const ids = aws.vpc.getSecurityGroupRulesOutput({ filters: [{ name: "group-id", values: [args.securityGroupId] }] }, opts).ids;
  const rules = ids.apply((list) =>
    pulumi.all((list ?? []).map((id) => aws.vpc.getSecurityGroupRuleOutput({ securityGroupRuleId: id }, opts))),
  );
  return rules.apply((read) => {
    try {
      return reviewExistingGroup(
        args.securityGroupId,
        read.map((r) => ({ ...r, securityGroupRuleId: r.securityGroupRuleId || r.id })),
        args.sites,
        args.securityGroupRuleExceptions,
      );
    } catch (err) {
      // A ResourceError is shown against the component, without a stack trace.
      throw new pulumi.ResourceError((err as Error).message, parent);
    }
  });
}
