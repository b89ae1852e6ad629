/**
 * Settings of the HKEX policies: the configSchema each policy declares for
 * Pulumi, the TypeScript shape it reads with getConfig, and the defaults.
 *
 * Exceptions: a finding can be waived only through pack config, with a
 * written reason. The policy then does not report it; the offline runner
 * (`hkex-ready plan` / `policy`) lists every waived finding with its reason.
 */
import type { PolicyConfigSchema, ReportViolation } from "@pulumi/policy";

type PolicyConfigJSONSchema = PolicyConfigSchema["properties"][string];
import { SITE_NAMES, endpointsOf, type Endpoint } from "../catalogue";

export interface PolicyException {
  /** A resource name, a resource URN, an endpoint host, or an AWS id (route table, NACL, security group) named in the finding. */
  readonly match: string;
  readonly reason: string;
}

export interface ExceptionSettings {
  exceptions: PolicyException[];
}

export const exceptionsSchema: PolicyConfigSchema["properties"] = {
  exceptions: {
    type: "array",
    description: "Findings to waive. Each names what it matches and why it is accepted.",
    items: {
      type: "object",
      properties: {
        match: { type: "string", minLength: 1 },
        reason: { type: "string", minLength: 1, pattern: "\\S", description: "Why the finding is accepted; shown in the output." },
      },
      required: ["match", "reason"],
      additionalProperties: false,
    },
    default: [],
  },
};

/** The client scope named in pack config, for a stack whose group is attached to nothing and whose component declares none. */
export interface ScopeSettings {
  vpcId?: string;
  subnetIds?: string[];
  routeTableIds?: string[];
  networkAclIds?: string[];
  securityGroupIds?: string[];
}

/** Settings of every policy that evaluates the flows toward HKEX. */
export interface FlowSettings extends ExceptionSettings {
  endpoints: Endpoint[];
  scope?: ScopeSettings;
}

export const FLOW_DEFAULTS: FlowSettings = { endpoints: endpointsOf(), exceptions: [] };

export const EXCEPTION_DEFAULTS: ExceptionSettings = { exceptions: [] };

const awsIds = (prefix: string, what: string): PolicyConfigJSONSchema => ({
  type: "array",
  items: { type: "string", pattern: `^${prefix}-[0-9a-f]+$` },
  description: `The client's ${what}, by AWS id.`,
});

export const scopeSchema: PolicyConfigSchema["properties"] = {
  scope: {
    type: "object",
    description:
      "Where the SFTP client sits, when the stack attaches its group to nothing and the component declares no scope: AWS ids of its VPC, subnets, route tables, network ACLs and groups.",
    properties: {
      vpcId: { type: "string", pattern: "^vpc-[0-9a-f]+$" },
      subnetIds: awsIds("subnet", "subnets"),
      routeTableIds: awsIds("rtb", "route tables"),
      networkAclIds: awsIds("acl", "network ACLs"),
      securityGroupIds: awsIds("sg", "security groups"),
    },
    additionalProperties: false,
  },
};

export const endpointsSchema: PolicyConfigSchema["properties"] = {
  endpoints: {
    type: "array",
    description: "Endpoints every stack must reach. Defaults to the catalogue's four.",
    items: {
      type: "object",
      properties: {
        site: { type: "string", enum: [...SITE_NAMES] },
        host: { type: "string", minLength: 7 },
        port: { type: "integer", minimum: 1, maximum: 65535 },
      },
      required: ["site", "host", "port"],
      additionalProperties: false,
    },
    minItems: 1,
  },
};

/** Pulumi may or may not fill in schema defaults; merging here makes both runtimes agree. */
export function settingsOf<T extends object>(defaults: T, given: Partial<T>): T {
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(given)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** The offline runner hands policies a reportViolation that can also record waived findings. */
export type ReportWithExceptions = ReportViolation & {
  excepted?: (message: string, reason: string, urn?: string) => void;
};

export interface Finding {
  readonly message: string;
  readonly urn?: string;
  /** Everything an exception may match: resource name and URN, hosts, AWS ids. */
  readonly subjects: readonly string[];
}

/** Reports a finding unless an exception matches one of its subjects. */
export function reportUnlessExcepted(report: ReportWithExceptions, exceptions: readonly PolicyException[], f: Finding): void {
  const waiver = exceptions.find((e) => f.subjects.includes(e.match));
  if (waiver === undefined) {
    report(f.message, f.urn);
    return;
  }
  report.excepted?.(f.message, waiver.reason, f.urn);
}
