/**
 * Stack config of the SFTP access program: schema, then normalise, then
 * check, reporting every problem at once with the config key as its path.
 *
 * Nothing here imports @pulumi/*: the same code validates a
 * Pulumi.<stack>.yaml for `hkex-ready plan` before the mock runtime starts.
 */
import { z } from "zod";
import { HKEX_SITES, SFTP_PORT, SITE_NAMES, perSite, type SiteDefinition, type SiteName } from "../catalogue";
import { InputError, type InputProblem } from "../core/errors";
import { NACL_MAX_RULE_NUMBER } from "./awsTypes";
import { cidrProblem, hostCidr, isIpv4, parseIpv4Block, blockContains } from "./cidr";
import { normaliseProbe, probeSchema, validateProbeArgs, type ProbeArgs } from "./probe/config";
import { cidrsOverlap } from "./cidr";
import {
  INDIRECT_TARGET_REASON,
  REFUSED_ROUTE_TARGETS,
  ROUTE_TARGET_KINDS,
  ROUTE_TARGETS,
  type RefusedRouteTargetKind,
  type RouteTarget,
  type RouteTargetKind,
} from "./routeTarget";

export const PROJECT = "hkex-sftp-readiness";

const ID_PREFIX = {
  vpcId: "vpc",
  securityGroupId: "sg",
  securityGroupRuleId: "sgr",
  networkAclIds: "acl",
  routeTableIds: "rtb",
  subnetIds: "subnet",
  networkInterfaceIds: "eni",
  vpcPeeringConnectionId: "pcx",
} as const;

export const DEFAULTS = Object.freeze({
  naclRuleNumberBase: 200,
  routeGranularity: "range" as const,
  maxPrefixLength: 24,
  analyze: true,
});

/** The route target, and for a target that only reaches HKEX through another device, why that is accepted. */
export interface ConfiguredRouteTarget extends RouteTarget {
  readonly allowIndirectTarget?: { readonly reason: string };
}

/** A finding waived with a written reason, as the policy pack's exceptions are. */
export interface ConfigException {
  /** What is waived: for securityGroupRuleExceptions, a security group rule id (sgr-...). */
  readonly match: string;
  readonly reason: string;
}

/** The validated, normalised stack config; the component takes exactly this. */
export interface SftpAccessArgs {
  readonly vpcId?: string;
  readonly securityGroupId?: string;
  /**
   * Rules of the existing group (securityGroupId) that the component's check
   * of the live group lets through, each with its reason.
   */
  readonly securityGroupRuleExceptions: readonly ConfigException[];
  /** The client ENIs the group is attached to, one NetworkInterfaceSecurityGroupAttachment each. */
  readonly attach: { readonly networkInterfaceIds: readonly string[] };
  /** The client subnets, declared for the policy pack's scope; nothing is created in them. */
  readonly subnetIds: readonly string[];
  /** The VPC's IPv4 CIDRs, checked against the HKEX ranges. */
  readonly vpcCidrBlocks: readonly string[];
  readonly networkAclIds: readonly string[];
  readonly naclRuleNumberBase: number;
  /** Rule numbers already taken in those NACLs, so the new rules cannot collide with them. */
  readonly naclRuleNumbersInUse: readonly number[];
  readonly routeTableIds: readonly string[];
  readonly routeTarget?: ConfiguredRouteTarget;
  readonly routeGranularity: "range" | "host";
  readonly maxPrefixLength: number;
  /**
   * Reachability Analyzer paths from every attached ENI, and from sourceIds
   * (sources the group is on already, in existing-group mode), to every endpoint.
   */
  readonly reachability?: { readonly sourceIds: readonly string[]; readonly analyze: boolean };
  /** Sites to open, primary first, in the catalogue's shape. Defaults to the catalogue. */
  readonly sites: readonly SiteDefinition[];
  /** A scheduled readiness check from inside the client subnets (infra/probe/). */
  readonly probe?: ProbeArgs;
}

const nonBlank = z.string().regex(/\S/, { error: "must say why, in words" });

const awsId = (key: keyof typeof ID_PREFIX) =>
  z.string().regex(new RegExp(`^${ID_PREFIX[key]}-[0-9a-f]{8,17}$`), {
    error: `must be an AWS id like ${ID_PREFIX[key]}-0123456789abcdef0`,
  });

// The range is checked with the other site problems in validateSftpAccessArgs.
const port = z.number({ error: "must be a TCP port number" }).int({ error: "must be a whole TCP port number" });

const siteOverride = z
  .object({
    hosts: z.array(z.string()).min(1, { error: "must list at least one host" }),
    range: z.string(),
    port: port.optional(),
    dataCentre: z.string().min(1).optional(),
  })
  .strict();

const routeTargetSchema = z
  .object({
    ...(Object.fromEntries(
      ROUTE_TARGET_KINDS.map((k) => [
        k,
        z
          .string()
          .regex(ROUTE_TARGETS[k].pattern, { error: `must be a ${ROUTE_TARGETS[k].label} id like ${ROUTE_TARGETS[k].example}` })
          .optional(),
      ]),
    ) as Record<RouteTargetKind, z.ZodOptional<z.ZodString>>),
    // Understood, so that the refusal can say why; validateRawConfig refuses it.
    vpcPeeringConnectionId: z.string().optional(),
    allowIndirectTarget: z.object({ reason: nonBlank }).strict().optional(),
  })
  .strict();

const exceptionSchema = z.object({ match: awsId("securityGroupRuleId"), reason: nonBlank }).strict();

const rawSchema = z
  .object({
    vpcId: awsId("vpcId").optional(),
    securityGroupId: awsId("securityGroupId").optional(),
    securityGroupRuleExceptions: z.array(exceptionSchema).optional(),
    attach: z
      .object({ networkInterfaceIds: z.array(awsId("networkInterfaceIds")) })
      .strict()
      .optional(),
    subnetIds: z.array(awsId("subnetIds")).optional(),
    vpcCidrBlocks: z.array(z.string()).optional(),
    networkAclIds: z.array(awsId("networkAclIds")).optional(),
    naclRuleNumberBase: z
      .number({ error: "must be a whole number" })
      .int({ error: "must be a whole number" })
      .min(1, { error: `must be between 1 and ${NACL_MAX_RULE_NUMBER}` })
      .max(NACL_MAX_RULE_NUMBER, { error: `must be between 1 and ${NACL_MAX_RULE_NUMBER}` })
      .optional(),
    naclRuleNumbersInUse: z.array(z.number().int().min(1).max(32767)).optional(),
    routeTableIds: z.array(awsId("routeTableIds")).optional(),
    routeTarget: routeTargetSchema.optional(),
    routeGranularity: z.enum(["range", "host"], { error: 'must be "range" or "host"' }).optional(),
    maxPrefixLength: z
      .number({ error: "must be a prefix length" })
      .int({ error: "must be a whole prefix length" })
      .min(1, { error: "must be between 1 and 32" })
      .max(32, { error: "must be between 1 and 32" })
      .optional(),
    reachability: z
      .object({
        sourceIds: z
          .array(
            z.string().regex(/^(arn:aws[\w-]*:\S+|(i|eni)-[0-9a-f]{8,17})$/, {
              error: "must be the id or ARN of an instance (i-...) or network interface (eni-...) the group is on",
            }),
          )
          .optional(),
        analyze: z.boolean({ error: "must be true or false" }).optional(),
      })
      .strict()
      .optional(),
    sites: z
      .object(perSite(() => siteOverride.optional()))
      .strict()
      .optional(),
    probe: probeSchema.optional(),
  })
  .strict();

type RawConfig = z.infer<typeof rawSchema>;

/** Keys whose value is plain text; every other key holds JSON (an object, a list or a number). */
const TEXT_KEYS = new Set(["vpcId", "securityGroupId", "routeGranularity"]);
const CONFIG_KEYS = Object.keys(rawSchema.shape);

export function configPath(key: string, rest: readonly PropertyKey[] = []): string {
  let path = `${PROJECT}:${key}`;
  for (const part of rest) path += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return path;
}

/**
 * Reads the program's keys out of a full config map as Pulumi hands it to a
 * program (`project:key` to a string, structured values as JSON text) and
 * validates them. Throws InputError listing every problem.
 */
export function parseStackConfig(all: Readonly<Record<string, string>>, source?: string): SftpAccessArgs {
  const problems: InputProblem[] = [];
  const raw: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(`${PROJECT}:`)) continue;
    const key = fullKey.slice(PROJECT.length + 1);
    if (TEXT_KEYS.has(key) || !CONFIG_KEYS.includes(key)) {
      raw[key] = text;
      continue;
    }
    try {
      raw[key] = JSON.parse(text);
    } catch {
      problems.push({ path: configPath(key), message: `is not valid JSON: ${text}` });
    }
  }
  if (problems.length > 0) throw new InputError(problems, source);
  return validateRawConfig(raw, source);
}

/**
 * Schema check of each key, then normalisation, then the semantic checks.
 * A key that fails its schema is left out of the later checks, so one typo
 * does not hide the other problems nor cause made-up ones.
 */
export function validateRawConfig(raw: Record<string, unknown>, source?: string): SftpAccessArgs {
  const problems: InputProblem[] = [];
  const valid: Record<string, unknown> = {};
  const failed = new Set<string>();
  const shape = rawSchema.shape as Record<string, z.ZodType>;
  for (const [key, value] of Object.entries(raw)) {
    const field = shape[key];
    if (field === undefined) {
      problems.push({ path: configPath(key), message: `is not a known config key (known: ${CONFIG_KEYS.join(", ")})` });
      continue;
    }
    const parsed = field.safeParse(value);
    if (parsed.success) valid[key] = parsed.data;
    else {
      failed.add(key);
      problems.push(...parsed.error.issues.flatMap((issue) => issueToProblems(key, issue)));
    }
  }
  const config = valid as RawConfig;
  for (const [kind, reason] of Object.entries(REFUSED_ROUTE_TARGETS)) {
    if (config.routeTarget?.[kind as RefusedRouteTargetKind] !== undefined) {
      problems.push({ path: configPath("routeTarget", [kind]), message: `is refused: ${reason}` });
    }
  }
  const kinds = ROUTE_TARGET_KINDS.filter((k) => config.routeTarget?.[k] !== undefined);
  if (kinds.length > 1) {
    problems.push({
      path: configPath("routeTarget"),
      message: `give exactly one of ${ROUTE_TARGET_KINDS.join(", ")}; got ${kinds.join(" and ")}`,
    });
  }
  const args = normalise(config);
  // The security-group check reads both keys; a malformed one of them is already reported.
  if (failed.has("securityGroupId")) failed.add("vpcId");
  // The reachability sources include the attached ENIs.
  if (failed.has("attach")) failed.add("reachability");
  const blocked = [...failed].map((k) => configPath(k));
  problems.push(
    ...validateSftpAccessArgs(args).filter(
      (p) => !blocked.some((b) => p.path === b || p.path.startsWith(`${b}.`) || p.path.startsWith(`${b}[`)),
    ),
  );
  if (problems.length > 0) throw new InputError(problems, source);
  return args;
}

function issueToProblems(key: string, issue: z.core.$ZodIssue): InputProblem[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => ({ path: configPath(key, [...issue.path, k]), message: "is not a known setting" }));
  }
  return [{ path: configPath(key, issue.path), message: issue.message }];
}

function normalise(raw: RawConfig): SftpAccessArgs {
  return {
    vpcId: raw.vpcId,
    securityGroupId: raw.securityGroupId,
    securityGroupRuleExceptions: raw.securityGroupRuleExceptions ?? [],
    attach: { networkInterfaceIds: raw.attach?.networkInterfaceIds ?? [] },
    subnetIds: raw.subnetIds ?? [],
    vpcCidrBlocks: raw.vpcCidrBlocks ?? [],
    networkAclIds: raw.networkAclIds ?? [],
    naclRuleNumberBase: raw.naclRuleNumberBase ?? DEFAULTS.naclRuleNumberBase,
    naclRuleNumbersInUse: raw.naclRuleNumbersInUse ?? [],
    routeTableIds: raw.routeTableIds ?? [],
    routeTarget: routeTargetOf(raw.routeTarget),
    routeGranularity: raw.routeGranularity ?? DEFAULTS.routeGranularity,
    maxPrefixLength: raw.maxPrefixLength ?? DEFAULTS.maxPrefixLength,
    reachability: raw.reachability
      ? { sourceIds: raw.reachability.sourceIds ?? [], analyze: raw.reachability.analyze ?? DEFAULTS.analyze }
      : undefined,
    sites: SITE_NAMES.flatMap((name): SiteDefinition[] => {
      if (raw.sites === undefined) return [{ ...HKEX_SITES[name] }];
      const o = raw.sites[name];
      if (o === undefined) return [];
      return [
        {
          name,
          dataCentre: o.dataCentre ?? HKEX_SITES[name].dataCentre,
          hosts: o.hosts,
          port: o.port ?? SFTP_PORT,
          range: o.range,
        },
      ];
    }),
    probe: raw.probe === undefined ? undefined : normaliseProbe(raw.probe),
  };
}

/** The first target kind the config gives; a second one has already been reported by validateRawConfig. */
function routeTargetOf(given: RawConfig["routeTarget"]): ConfiguredRouteTarget | undefined {
  for (const kind of ROUTE_TARGET_KINDS) {
    const id = given?.[kind];
    if (typeof id === "string") {
      return given?.allowIndirectTarget ? { kind, id, allowIndirectTarget: { reason: given.allowIndirectTarget.reason } } : { kind, id };
    }
  }
  return undefined;
}

/**
 * The NACL rule number of a site's rules: the base plus the site's fixed
 * place in the catalogue (primary +0, secondary +1), the same in each
 * direction. It depends on the site's name only, so leaving a site out or
 * changing another site never renumbers a rule: AWS cannot change a rule's
 * number in place, so a new number is a replacement.
 * A network ACL holds its inbound and outbound rules as two lists, each
 * evaluated by rule number (https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html),
 * so both directions of one site share a number without clashing.
 */
export function naclRuleNumber(base: number, site: SiteName): number {
  return base + SITE_NAMES.indexOf(site);
}

/** The NACL rule number the component will use in each direction for each site range. */
export function naclRulePlan(args: Pick<SftpAccessArgs, "naclRuleNumberBase" | "sites">): { site: SiteDefinition; ruleNumber: number }[] {
  return args.sites.map((site) => ({ site, ruleNumber: naclRuleNumber(args.naclRuleNumberBase, site.name) }));
}

function naclRuleNumbers(args: Pick<SftpAccessArgs, "naclRuleNumberBase" | "sites">): number[] {
  return naclRulePlan(args).map((p) => p.ruleNumber);
}

/**
 * Every semantic problem of already normalised args, each naming its config
 * key. Pure; the component calls it too, so programmatic callers get the
 * same checks as stack config.
 */
export function validateSftpAccessArgs(args: SftpAccessArgs): InputProblem[] {
  const problems: InputProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });

  if ((args.vpcId === undefined) === (args.securityGroupId === undefined)) {
    add(
      configPath("vpcId"),
      `give exactly one of vpcId (a new security group in that VPC) or securityGroupId (an existing group); got ${
        args.vpcId === undefined ? "neither" : "both"
      }`,
    );
  }

  if (args.routeTableIds.length > 0 && args.routeTarget === undefined) {
    add(configPath("routeTarget"), `give exactly one of ${ROUTE_TARGET_KINDS.join(", ")}; routeTableIds are set but no route target is`);
  }
  const target = args.routeTarget;
  if (target !== undefined && ROUTE_TARGETS[target.kind].verdict === "indirect" && target.allowIndirectTarget === undefined) {
    add(
      configPath("routeTarget", ["allowIndirectTarget"]),
      `a ${ROUTE_TARGETS[target.kind].label} (${target.id}) reaches HKEX only indirectly: ${INDIRECT_TARGET_REASON}. ` +
        'Set allowIndirectTarget: { reason: "..." } to accept that, or route through a transit gateway, virtual private gateway or Cloud WAN core network',
    );
  }

  if (args.securityGroupId === undefined && args.securityGroupRuleExceptions.length > 0) {
    add(configPath("securityGroupRuleExceptions"), "waives rules of an existing group; it applies only with securityGroupId");
  }
  if (args.reachability !== undefined && args.attach.networkInterfaceIds.length === 0 && args.reachability.sourceIds.length === 0) {
    add(
      configPath("reachability"),
      `has no source: list the client ENIs in ${configPath("attach")}.networkInterfaceIds, or give reachability.sourceIds`,
    );
  }

  args.vpcCidrBlocks.forEach((cidr, i) => {
    const problem = cidrProblem(cidr);
    if (problem !== undefined) {
      add(configPath("vpcCidrBlocks", [i]), problem);
      return;
    }
    const clash = args.sites.filter((s) => cidrsOverlap(cidr, s.range));
    if (clash.length > 0) {
      // The VPC's local route is more specific than, or as specific as, any route to an
      // overlapping range, and AWS does not route a VPC's own addresses elsewhere:
      // https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html#route-tables-priority
      add(
        configPath("vpcCidrBlocks", [i]),
        `${cidr} overlaps the HKEX range ${clash.map((s) => `${s.range} (${s.name})`).join(" and ")}: traffic to HKEX would stay inside the VPC`,
      );
    }
  });

  for (const [key, ids] of [
    [configPath("routeTableIds"), args.routeTableIds],
    [configPath("networkAclIds"), args.networkAclIds],
    [configPath("subnetIds"), args.subnetIds],
    [configPath("attach", ["networkInterfaceIds"]), args.attach.networkInterfaceIds],
  ] as const) {
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    if (repeated.length > 0) add(key, `lists ${[...new Set(repeated)].join(", ")} more than once`);
  }

  if (args.sites.length === 0) add(configPath("sites"), `names no site; give ${SITE_NAMES.join(" and ")} or leave sites unset`);
  const seenHosts = new Map<string, string>();
  for (const site of args.sites) {
    const at = (field: string, ...rest: PropertyKey[]) => configPath("sites", [site.name, field, ...rest]);
    if (!Number.isInteger(site.port) || site.port < 1 || site.port > 65535) {
      add(at("port"), `${site.port} is out of range 1-65535`);
    }
    const rangeProblem = cidrProblem(site.range);
    const range = rangeProblem === undefined ? parseIpv4Block(site.range) : undefined;
    if (rangeProblem !== undefined) add(at("range"), rangeProblem);
    else if (range !== undefined && range.prefixLength < args.maxPrefixLength) {
      add(at("range"), `${site.range} is broader than maxPrefixLength /${args.maxPrefixLength}`);
    }
    site.hosts.forEach((host, i) => {
      const hostBlock = isIpv4(host) ? parseIpv4Block(hostCidr(host)) : undefined;
      if (hostBlock === undefined) {
        add(at("hosts", i), `"${host}" is not an IPv4 address`);
        return;
      }
      if (range !== undefined && !blockContains(range, hostBlock)) {
        add(at("hosts", i), `${host} is outside the site's range ${site.range}`);
      }
      const other = seenHosts.get(host);
      if (other !== undefined) add(at("hosts", i), `${host} is already listed under ${other}`);
      seenHosts.set(host, site.name);
    });
  }

  if (args.networkAclIds.length > 0) {
    const planned = naclRuleNumbers(args);
    const last = Math.max(args.naclRuleNumberBase, ...planned);
    if (last > NACL_MAX_RULE_NUMBER) {
      add(configPath("naclRuleNumberBase"), `rules would need numbers up to ${last}; the highest allowed is ${NACL_MAX_RULE_NUMBER}`);
    }
    const taken = planned.filter((n) => args.naclRuleNumbersInUse.includes(n));
    if (taken.length > 0) {
      add(
        configPath("naclRuleNumberBase"),
        `rule numbers ${planned.join(", ")} collide with ${taken.join(", ")} listed in naclRuleNumbersInUse; pick another base`,
      );
    }
  }
  if (args.probe !== undefined) {
    problems.push(...validateProbeArgs(args.probe).map((p) => ({ path: configPath("probe", p.path), message: p.message })));
  }
  return problems;
}
