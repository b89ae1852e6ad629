/**
 * The HKEX firewall policies. index.ts only puts them in a PolicyPack; the
 * offline runner and the tests import them from here.
 *
 * Resource policies read a resource's inputs; stack policies read the
 * resources' state, where they can see each other.
 */
import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { SFTP_PORT, endpointLabel, type Endpoint } from "../catalogue";
import { AWS_TYPES, EPHEMERAL_PORTS } from "../infra/awsTypes";
import { cidrContains, parseIpv4Block } from "../infra/cidr";
import {
  allowsTcpPort,
  allowsTcpRange,
  describeTraffic,
  hkexRangeReached,
  hkexRanges,
  isKnownTraffic,
  isOnlyTcpPort,
  isOpenDestination,
  isSecurityGroupRuleType,
  isWithinHkex,
  naclEntries,
  ownerKey,
  ownerLabel,
  routeEntries,
  sameRule,
  sgRuleEntries,
  sgRuleLabel,
  UNKNOWN,
  type NaclEntry,
  type SgRuleEntry,
} from "./model";
import {
  COVERAGE_DEFAULTS,
  EXCEPTION_DEFAULTS,
  PREFIX_DEFAULTS,
  endpointsSchema,
  exceptionsSchema,
  reportUnlessExcepted,
  settingsOf,
  type CoverageSettings,
  type ExceptionSettings,
  type PrefixSettings,
  type ReportWithExceptions,
} from "./settings";

const subjectsOf = (r: { name: string; urn: string }, ...more: string[]) => [r.name, r.urn, ...more];

function exceptionsOf(args: ResourceValidationArgs | StackValidationArgs): ExceptionSettings {
  return settingsOf(EXCEPTION_DEFAULTS, args.getConfig<Partial<ExceptionSettings>>());
}

// ---------------------------------------------------------------------------

export const sgHkexPortProtocol: ResourceValidationPolicy = {
  name: "ec2-security-group-hkex-tcp-18801-only",
  description: `Allow only TCP port ${SFTP_PORT} in security-group egress that reaches an HKEX range; replace all-protocol rules, port ranges and other ports with one TCP ${SFTP_PORT} rule per endpoint.`,
  enforcementLevel: "mandatory",
  configSchema: { properties: { ...exceptionsSchema } },
  validateResource: (args, report: ReportWithExceptions) => {
    const { exceptions } = exceptionsOf(args);
    for (const e of sgRuleEntries(args.type, args.props)) {
      if (e.direction !== "egress" || !isKnownTraffic(e)) continue;
      if (hkexRangeReached(e.cidr) === undefined || isOnlyTcpPort(e, SFTP_PORT)) continue;
      reportUnlessExcepted(report, exceptions, {
        message: `${sgRuleLabel(e)} allows ${describeTraffic(e)}; egress toward HKEX must allow only TCP port ${SFTP_PORT}.`,
        subjects: subjectsOf(args),
      });
    }
  },
};

export const hkexNarrowPrefixes: ResourceValidationPolicy = {
  name: "ec2-hkex-narrow-prefixes",
  description:
    "Narrow every security-group, network ACL and route destination toward HKEX to the site range or the endpoint /32, no broader than the configured maximum prefix length.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      maxPrefixLength: {
        type: "integer",
        minimum: 1,
        maximum: 32,
        default: PREFIX_DEFAULTS.maxPrefixLength,
        description: "The broadest prefix allowed toward HKEX.",
      },
      ...exceptionsSchema,
    },
  },
  validateResource: (args, report: ReportWithExceptions) => {
    const { maxPrefixLength, exceptions } = settingsOf(PREFIX_DEFAULTS, args.getConfig<Partial<PrefixSettings>>());
    const destinations: { label: string; cidr: string }[] = [
      ...sgRuleEntries(args.type, args.props)
        .filter((e) => e.direction === "egress")
        .map((e) => ({ label: sgRuleLabel(e), cidr: e.cidr })),
      ...naclEntries(args.type, args.props)
        .filter((e) => e.allow)
        .map((e) => ({ label: `Network ACL ${e.direction} rule ${e.direction === "egress" ? "to" : "from"} ${e.cidr}`, cidr: e.cidr })),
      ...routeEntries(args.type, args.props).map((r) => ({ label: `Route to ${r.cidr}`, cidr: r.cidr })),
    ];
    for (const d of destinations) {
      const block = parseIpv4Block(d.cidr);
      if (block === undefined || block.prefixLength >= maxPrefixLength || hkexRangeReached(d.cidr) === undefined) continue;
      reportUnlessExcepted(report, exceptions, {
        message: `${d.label} is a /${block.prefixLength} toward HKEX, broader than the allowed /${maxPrefixLength}.`,
        subjects: subjectsOf(args),
      });
    }
  },
};

export const sgHkexDescriptions: ResourceValidationPolicy = {
  name: "ec2-security-group-hkex-rule-descriptions",
  description: "Give every security-group rule toward HKEX a description that names the site and host it serves.",
  enforcementLevel: "advisory",
  configSchema: { properties: { ...exceptionsSchema } },
  validateResource: (args, report: ReportWithExceptions) => {
    const { exceptions } = exceptionsOf(args);
    for (const e of sgRuleEntries(args.type, args.props)) {
      if (e.description === UNKNOWN || hkexRangeReached(e.cidr) === undefined) continue;
      if (typeof e.description === "string" && e.description.trim() !== "") continue;
      reportUnlessExcepted(report, exceptions, {
        message: `${sgRuleLabel(e)} has no description; name the HKEX site and host it serves.`,
        subjects: subjectsOf(args),
      });
    }
  },
};

// ---------------------------------------------------------------------------
// Stack policies

interface OwnedSgEntry {
  readonly entry: SgRuleEntry;
  readonly resource: PolicyResource;
  readonly group: string;
}

/**
 * Every security-group rule of the stack with the group it belongs to. After
 * a refresh the provider reads a group's standalone rules back into its
 * inline egress/ingress; an inline entry that mirrors a rule resource of the
 * same group is that read-back, not a second rule, and is left out.
 */
export function stackSgEntries(stack: readonly PolicyResource[]): { rules: OwnedSgEntry[]; inline: OwnedSgEntry[] } {
  const rules: OwnedSgEntry[] = stack
    .filter((r) => isSecurityGroupRuleType(r.type))
    .flatMap((r) => {
      const group = ownerKey(r, "securityGroupId", stack);
      return sgRuleEntries(r.type, r.props).map((entry) => ({ entry, resource: r, group }));
    });
  const inline: OwnedSgEntry[] = stack
    .filter((r) => r.type === AWS_TYPES.securityGroup)
    .flatMap((r) =>
      sgRuleEntries(r.type, r.props)
        .map((entry) => ({ entry, resource: r, group: r.urn }))
        .filter((i) => !rules.some((x) => x.group === i.group && sameRule(x.entry, i.entry))),
    );
  return { rules, inline };
}

export const sgNoOpenEgress: StackValidationPolicy = {
  name: "ec2-security-group-hkex-no-open-egress",
  description:
    "Remove egress to 0.0.0.0/0 and ::/0 from every security group that carries HKEX rules, so the group reaches the HKEX endpoints and nothing else.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { ...exceptionsSchema } },
  validateStack: (args, report: ReportWithExceptions) => {
    const { exceptions } = exceptionsOf(args);
    const { rules, inline } = stackSgEntries(args.resources);
    const egress = [...rules, ...inline].filter((o) => o.entry.direction === "egress");
    const hkexGroups = new Set(egress.filter((o) => isWithinHkex(o.entry.cidr)).map((o) => o.group));
    for (const o of egress) {
      if (!hkexGroups.has(o.group) || !isOpenDestination(o.entry.cidr)) continue;
      const group = ownerLabel(o.group, args.resources);
      reportUnlessExcepted(report, exceptions, {
        message: `Security group ${group} carries HKEX egress rules and also allows egress to ${o.entry.cidr} (${o.entry.origin === "inline" ? `inline in ${o.resource.name}` : o.resource.name}); remove that rule so the group reaches only the HKEX endpoints.`,
        urn: o.resource.urn,
        subjects: subjectsOf(o.resource, group),
      });
    }
  },
};

export const sgNoMixedRules: StackValidationPolicy = {
  name: "ec2-security-group-no-mixed-rules",
  description:
    "Manage each security group's rules either inline or as separate rule resources, never both, because the provider overwrites one with the other.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { ...exceptionsSchema } },
  validateStack: (args, report: ReportWithExceptions) => {
    const { exceptions } = exceptionsOf(args);
    const { rules, inline } = stackSgEntries(args.resources);
    for (const sg of args.resources.filter((r) => r.type === AWS_TYPES.securityGroup)) {
      const own = inline.filter((i) => i.group === sg.urn).length;
      const separate = new Set(rules.filter((x) => x.group === sg.urn).map((x) => x.resource.urn)).size;
      if (own === 0 || separate === 0) continue;
      const group = ownerLabel(sg.urn, args.resources);
      reportUnlessExcepted(report, exceptions, {
        message: `Security group ${group} has ${own} inline rule(s) and ${separate} separate rule resource(s); move the inline rules to separate rule resources.`,
        urn: sg.urn,
        subjects: subjectsOf(sg, group),
      });
    }
  },
};

function missingList(missing: readonly Endpoint[], of: number): string {
  return `${missing.length} of ${of} HKEX endpoints: ${missing.map(endpointLabel).join(", ")}`;
}

export const hkexBothSitesCovered: StackValidationPolicy = {
  name: "ec2-hkex-both-sites-covered",
  description: `Add a TCP ${SFTP_PORT} egress rule for every HKEX endpoint, primary and secondary, and a route to each endpoint in every route table that routes toward HKEX.`,
  enforcementLevel: "mandatory",
  configSchema: { properties: { ...endpointsSchema, ...exceptionsSchema } },
  validateStack: (args, report: ReportWithExceptions) => {
    const { endpoints, exceptions } = settingsOf(COVERAGE_DEFAULTS, args.getConfig<Partial<CoverageSettings>>());
    const waived = (e: Endpoint, extra: string[] = []) =>
      exceptions.find((x) => [e.host, `${e.host}:${e.port}`, ...extra].includes(x.match));

    // Report waived endpoints one by one so each reason shows next to the endpoint it excuses.
    const check = (missing: Endpoint[], extra: string[], message: (m: Endpoint[]) => string, urn?: string) => {
      const open = missing.filter((e) => waived(e, extra) === undefined);
      for (const e of missing.filter((m) => waived(m, extra) !== undefined)) {
        report.excepted?.(message([e]), waived(e, extra)!.reason, urn);
      }
      if (open.length > 0) report(message(open), urn);
    };

    const { rules, inline } = stackSgEntries(args.resources);
    const egress = [...rules, ...inline].map((o) => o.entry).filter((e) => e.direction === "egress");
    const uncovered = endpoints.filter((ep) => !egress.some((e) => cidrContains(e.cidr, `${ep.host}/32`) && allowsTcpPort(e, ep.port)));
    check(uncovered, [], (m) => `Security-group egress does not cover ${missingList(m, endpoints.length)}; add a TCP egress rule to each.`);

    const tables = new Map<string, { cidrs: string[]; urn: string }>();
    for (const r of args.resources) {
      const entries = routeEntries(r.type, r.props);
      if (!entries.some((x) => hkexRangeReached(x.cidr) !== undefined)) continue;
      const key = r.type === AWS_TYPES.routeTable ? r.urn : ownerKey(r, "routeTableId", args.resources);
      const table = tables.get(key) ?? { cidrs: [], urn: r.urn };
      table.cidrs.push(...entries.map((x) => x.cidr));
      tables.set(key, table);
    }
    for (const [key, table] of tables) {
      const label = ownerLabel(key, args.resources);
      const missing = endpoints.filter((ep) => !table.cidrs.some((c) => cidrContains(c, `${ep.host}/32`)));
      check(
        missing,
        [label],
        (m) => `Route table ${label} has no route to ${missingList(m, endpoints.length)}; add a route to each.`,
        key.startsWith("urn:") ? key : table.urn,
      );
    }
  },
};

export const naclHkexSymmetric: StackValidationPolicy = {
  name: "ec2-network-acl-hkex-symmetric",
  description: `Pair every network ACL rule toward HKEX with its other direction, egress TCP ${SFTP_PORT} to the range and ingress TCP ${EPHEMERAL_PORTS.from}-${EPHEMERAL_PORTS.to} from it, because network ACLs are stateless.`,
  enforcementLevel: "mandatory",
  configSchema: { properties: { ...exceptionsSchema } },
  validateStack: (args, report: ReportWithExceptions) => {
    const { exceptions } = exceptionsOf(args);
    // `urn` is the first resource seen for the ACL; a violation points at it.
    const byAcl = new Map<string, { entries: NaclEntry[]; resources: PolicyResource[]; urn: string }>();
    for (const r of args.resources) {
      const entries = naclEntries(r.type, r.props).filter((e) => e.allow && isKnownTraffic(e));
      if (entries.length === 0) continue;
      const key = r.type === AWS_TYPES.networkAcl ? r.urn : ownerKey(r, "networkAclId", args.resources);
      const acl = byAcl.get(key) ?? { entries: [], resources: [], urn: r.urn };
      acl.entries.push(...entries);
      acl.resources.push(r);
      byAcl.set(key, acl);
    }
    for (const [key, acl] of byAcl) {
      const label = ownerLabel(key, args.resources);
      for (const range of hkexRanges()) {
        const toward = (d: "egress" | "ingress") =>
          acl.entries.filter((e) => e.direction === d && hkexRangeReached(e.cidr, [range]) !== undefined);
        const egress = toward("egress");
        const ingress = toward("ingress");
        const urn = acl.urn;
        const subjects = [label, range, ...acl.resources.flatMap((r) => [r.name, r.urn])];
        if (egress.length > 0 && !ingress.some((e) => allowsTcpRange(e, EPHEMERAL_PORTS.from, EPHEMERAL_PORTS.to))) {
          reportUnlessExcepted(report, exceptions, {
            message: `Network ACL ${label} allows egress to ${range} but no ingress from it on TCP ${EPHEMERAL_PORTS.from}-${EPHEMERAL_PORTS.to}; add the return rule.`,
            urn,
            subjects,
          });
        }
        if (ingress.length > 0 && !egress.some((e) => allowsTcpPort(e, SFTP_PORT))) {
          reportUnlessExcepted(report, exceptions, {
            message: `Network ACL ${label} allows ingress from ${range} but no egress to it on TCP ${SFTP_PORT}; add the outbound rule.`,
            urn,
            subjects,
          });
        }
      }
    }
  },
};

/** Every policy of the pack, in the order they are reported. */
export const hkexPolicies = [
  sgHkexPortProtocol,
  sgNoOpenEgress,
  hkexNarrowPrefixes,
  hkexBothSitesCovered,
  naclHkexSymmetric,
  sgNoMixedRules,
  sgHkexDescriptions,
] as const;

export const PACK_NAME = "hkex-sftp-firewall";
export const PACK_DESCRIPTION = `HKEX derivatives SFTP (TCP ${SFTP_PORT}): egress, NACLs and routes reach all four endpoints and nothing broader.`;
