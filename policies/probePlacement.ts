/**
 * The VPC probe's placement (infra/probe/). A probe proves the clients' path
 * to HKEX only when it takes that path: from the client subnets, through the
 * security group that carries the HKEX egress rules. A probe function
 * elsewhere passes or fails for reasons of its own, and its green alarm
 * proves nothing about the clients.
 *
 * A probe function is an aws.lambda.Function tagged `hkex:probe` (as the
 * component tags it) or one whose environment names the login key's secret
 * (HKEX_KEY_SECRET_ID, which the handler reads). The client subnets are the
 * pack's `clientSubnetIds` setting; without it, any subnet is accepted but
 * none is not.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { AWS_TYPES } from "../infra/awsTypes";
import { PROBE_ENV, PROBE_TAG } from "../infra/probe/contract";
import { UNKNOWN, isSecurityGroupRuleType, isWithinHkex, ownIdOf, ownerKey, ownerLabel, read, sgRuleEntries } from "./model";
import { exceptionsSchema, reportUnlessExcepted, settingsOf, type ExceptionSettings, type ReportWithExceptions } from "./settings";

export interface ProbePlacementSettings extends ExceptionSettings {
  /** The subnets the SFTP clients run in; empty means any subnet. */
  clientSubnetIds: string[];
}

const PROBE_PLACEMENT_DEFAULTS: ProbePlacementSettings = { clientSubnetIds: [], exceptions: [] };

export function isProbeFunction(r: Pick<PolicyResource, "type" | "props">): boolean {
  if (r.type !== AWS_TYPES.lambdaFunction) return false;
  const tags = read(r.props, "tags");
  const variables = read(read(r.props, "environment"), "variables");
  return read(tags, PROBE_TAG) !== undefined || read(variables, PROBE_ENV.keySecretId) !== undefined;
}

/** A list of strings in a resource's props; UNKNOWN if the list or any item is not known yet. */
function readIds(obj: unknown, key: string): string[] | typeof UNKNOWN {
  const list = read(obj, key);
  if (list === UNKNOWN) return UNKNOWN;
  if (!Array.isArray(list)) return [];
  const ids: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const id = read(list, String(i));
    if (id === UNKNOWN) return UNKNOWN;
    if (typeof id === "string") ids.push(id);
  }
  return ids;
}

/** Keys (as ownerKey makes them) of the security groups that carry egress toward HKEX. */
function hkexGroupKeys(stack: readonly PolicyResource[]): Set<string> {
  const keys = new Set<string>();
  for (const r of stack) {
    const towardHkex = sgRuleEntries(r.type, r.props).some((e) => e.direction === "egress" && isWithinHkex(e.cidr));
    if (!towardHkex) continue;
    if (isSecurityGroupRuleType(r.type)) keys.add(ownerKey(r, "securityGroupId", stack));
    else if (r.type === AWS_TYPES.securityGroup) keys.add(r.urn);
  }
  return keys;
}

function groupKeyOf(id: string, stack: readonly PolicyResource[]): string {
  const group = stack.find((o) => o.type === AWS_TYPES.securityGroup && ownIdOf(o) === id);
  return group ? group.urn : `id:${id}`;
}

export const lambdaProbePlacement: StackValidationPolicy = {
  name: "lambda-hkex-probe-in-client-subnets",
  description:
    "Put every HKEX VPC probe function in the client subnets with the HKEX security group attached, or the probe tests a path the clients do not use.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      clientSubnetIds: {
        type: "array",
        description: "The subnets the SFTP clients run in; a probe function must sit in these. Empty: any subnet.",
        items: { type: "string", pattern: "^subnet-[0-9a-f]{8,17}$" },
        default: [],
      },
      ...exceptionsSchema,
    },
  },
  validateStack: (args, report: ReportWithExceptions) => {
    const { clientSubnetIds, exceptions } = settingsOf(PROBE_PLACEMENT_DEFAULTS, args.getConfig<Partial<ProbePlacementSettings>>());
    const hkexGroups = hkexGroupKeys(args.resources);
    for (const fn of args.resources.filter(isProbeFunction)) {
      const finding = (message: string, ...subjects: string[]) =>
        reportUnlessExcepted(report, exceptions, { message, urn: fn.urn, subjects: [fn.name, fn.urn, ...subjects] });
      const vpc = read(fn.props, "vpcConfig");
      const subnets = readIds(vpc, "subnetIds");
      if (subnets !== UNKNOWN && subnets.length === 0) {
        finding(
          `Lambda function ${fn.name} is an HKEX VPC probe but sits in no subnet (vpcConfig.subnetIds is empty); put it in the client subnets with the HKEX security group, or it tests AWS's network instead of the clients' path.`,
        );
        continue;
      }
      if (subnets !== UNKNOWN && clientSubnetIds.length > 0) {
        for (const subnet of subnets.filter((s) => !clientSubnetIds.includes(s))) {
          finding(
            `Lambda function ${fn.name} is an HKEX VPC probe in ${subnet}, which is not a client subnet (${clientSubnetIds.join(", ")}); move it to the subnets the SFTP clients use.`,
            subnet,
          );
        }
      }
      const groups = readIds(vpc, "securityGroupIds");
      // In a preview a new group's id is not known yet; the property's dependencies name it.
      const keys =
        groups === UNKNOWN
          ? (fn.propertyDependencies?.vpcConfig ?? []).map((d) => d.urn)
          : groups.map((g) => groupKeyOf(g, args.resources));
      if (keys.some((k) => hkexGroups.has(k)) || (groups === UNKNOWN && keys.length === 0)) continue;
      const hkex = [...hkexGroups].map((k) => ownerLabel(k, args.resources));
      finding(
        `Lambda function ${fn.name} is an HKEX VPC probe but none of its security groups (${groups === UNKNOWN ? "not known yet" : groups.join(", ") || "none"}) carries the HKEX egress rules; attach ${hkex.length > 0 ? `the HKEX group (${hkex.join(", ")})` : "the group that carries them"} so the probe tests the clients' rules.`,
        ...(groups === UNKNOWN ? [] : groups),
      );
    }
  },
};
