/**
 * The HKEX firewall policies. index.ts only puts them in a PolicyPack; the
 * offline runner and the tests import them from here.
 *
 * Every policy but one reads the flow evaluation of the whole stack
 * (policies/flows): which flows AWS would let from each client placement
 * toward the HKEX endpoints, hop by hop. Each finding of the evaluation is
 * reported by exactly one policy, mandatory findings by a mandatory policy
 * and advisory ones by an advisory policy, so that the pack's verdict is the
 * evaluation's. The last policy reads AWS's own Reachability Analyzer verdict
 * from the live state.
 */
import type { PolicyResource, ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { SFTP_PORT } from "../catalogue";
import {
  type FlowEvaluation,
  type FlowFinding,
  type FlowOptions,
  evaluateHkexFlows,
  fromPolicyResource,
  undescribedHkexRules,
} from "./flows";
import { lambdaProbePlacement } from "./probePlacement";
import { failedAnalyses } from "./reachability";
import {
  EXCEPTION_DEFAULTS,
  FLOW_DEFAULTS,
  endpointsSchema,
  exceptionsSchema,
  reportUnlessExcepted,
  scopeSchema,
  settingsOf,
  type ExceptionSettings,
  type FlowSettings,
  type ReportWithExceptions,
} from "./settings";

/** The evaluator's options from a flow policy's settings. */
export function flowOptionsOf(settings: FlowSettings): FlowOptions {
  const s = settings.scope;
  return {
    endpoints: settings.endpoints,
    scope: s && {
      vpcId: s.vpcId,
      subnetIds: s.subnetIds,
      routeTableIds: s.routeTableIds,
      naclIds: s.networkAclIds,
      securityGroupIds: s.securityGroupIds,
    },
  };
}

// Every flow policy of one stack run evaluates the same resources; with the same settings, once.
const evaluations = new WeakMap<readonly PolicyResource[], Map<string, FlowEvaluation>>();

function evaluate(resources: readonly PolicyResource[], settings: FlowSettings): FlowEvaluation {
  const key = JSON.stringify([settings.endpoints, settings.scope ?? null]);
  const cached = evaluations.get(resources) ?? new Map<string, FlowEvaluation>();
  evaluations.set(resources, cached);
  const known = cached.get(key);
  if (known) return known;
  const result = evaluateHkexFlows(resources.map(fromPolicyResource), flowOptionsOf(settings));
  cached.set(key, result);
  return result;
}

function flowSettingsOf(args: StackValidationArgs): FlowSettings {
  return settingsOf(FLOW_DEFAULTS, args.getConfig<Partial<FlowSettings>>());
}

interface FlowPolicySpec {
  readonly name: string;
  readonly description: string;
  readonly enforcementLevel: "mandatory" | "advisory";
  /** The findings this policy reports; every finding has exactly one policy. */
  readonly reports: (f: FlowFinding) => boolean;
}

/** A stack policy that reports the flow findings it selects, each waivable through pack config. */
function flowPolicy(spec: FlowPolicySpec): StackValidationPolicy {
  return {
    name: spec.name,
    description: spec.description,
    enforcementLevel: spec.enforcementLevel,
    configSchema: { properties: { ...endpointsSchema, ...scopeSchema, ...exceptionsSchema } },
    validateStack: (args, report: ReportWithExceptions) => {
      const settings = flowSettingsOf(args);
      for (const f of evaluate(args.resources, settings).findings.filter(spec.reports)) {
        reportUnlessExcepted(report, settings.exceptions, {
          message: f.message,
          urn: f.urn,
          subjects: [...f.subjects, ...(f.urn ? [f.urn] : [])],
        });
      }
    },
  };
}

// ---------------------------------------------------------------------------
// Mandatory: the flows

export const hkexBothSitesCovered = flowPolicy({
  name: "ec2-hkex-both-sites-covered",
  description: `Let TCP ${SFTP_PORT} from every client placement reach every HKEX endpoint, primary and secondary, and its reply come back: fix the hop the path trace marks broken (group egress rule, network ACL rule numbered before the deny, route to a transit gateway, virtual private gateway or Cloud WAN core network).`,
  enforcementLevel: "mandatory",
  reports: (f) => f.code === "flow-path-broken" || (f.code === "flow-no-client" && f.level === "mandatory"),
});

export const sgHkexPortProtocol = flowPolicy({
  name: "ec2-security-group-hkex-tcp-18801-only",
  description: `Let the client open only TCP ${SFTP_PORT} toward the HKEX ranges: narrow the group rule the finding names, or deny the rest toward HKEX in the network ACL before its allow.`,
  enforcementLevel: "mandatory",
  reports: (f) => f.code === "flow-broader",
});

export const naclRuleNumbersUnique = flowPolicy({
  name: "ec2-network-acl-rule-numbers-unique",
  description:
    "Give every rule of a network ACL its own number per direction, apart from the rules already in it and those of other component instances, because AWS refuses a second rule at a taken number.",
  enforcementLevel: "mandatory",
  reports: (f) => f.code === "nacl-rule-number-clash",
});

export const vpcNoMixedRules = flowPolicy({
  name: "ec2-vpc-no-mixed-rules",
  description:
    "Manage the rules of each security group and network ACL on the client's path either inline or as separate rule resources (never both, nor rule resources on an adopted default), and associate each subnet once, because the provider overwrites one with the other.",
  enforcementLevel: "mandatory",
  reports: (f) => f.code === "flow-conflict" && f.level === "mandatory",
});

// ---------------------------------------------------------------------------
// Advisory: what the pack could not verify

export const hkexRouteTarget = flowPolicy({
  name: "ec2-route-hkex-target",
  description:
    "Route the HKEX ranges to a transit gateway, virtual private gateway or Cloud WAN core network, or confirm the NAT gateway or appliance forwards them there, because the pack cannot follow it.",
  enforcementLevel: "advisory",
  reports: (f) => f.code === "flow-route-target",
});

export const hkexPathVerified = flowPolicy({
  name: "ec2-hkex-path-verified",
  description:
    "Attach the client group in the stack or declare the client scope (component scope output or pack config), and bring the client's subnet, network ACL and route table into the stack, so that every hop toward HKEX can be verified.",
  enforcementLevel: "advisory",
  reports: (f) => f.level === "advisory" && f.code !== "flow-route-target",
});

export const sgHkexDescriptions: StackValidationPolicy = {
  name: "ec2-security-group-hkex-rule-descriptions",
  description: "Give every security-group rule toward HKEX a description that names the site and host it serves.",
  enforcementLevel: "advisory",
  configSchema: { properties: { ...endpointsSchema, ...exceptionsSchema } },
  validateStack: (args, report: ReportWithExceptions) => {
    const { endpoints, exceptions } = flowSettingsOf(args);
    for (const r of undescribedHkexRules(args.resources.map(fromPolicyResource), { endpoints })) {
      reportUnlessExcepted(report, exceptions, {
        message: `${r.rule} has no description; name the HKEX site and host it serves.`,
        urn: r.urn,
        subjects: r.subjects,
      });
    }
  },
};

// ---------------------------------------------------------------------------
// Mandatory: AWS's own verdict in the live state

export const reachabilityPathFound: StackValidationPolicy = {
  name: "ec2-reachability-analysis-path-found",
  description:
    "Fix what the Reachability Analyzer's explanation codes name for every endpoint whose analysis found no path, then let the analysis run again.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { ...exceptionsSchema } },
  validateStack: (args, report: ReportViolation & ReportWithExceptions) => {
    const { exceptions } = settingsOf<ExceptionSettings>(EXCEPTION_DEFAULTS, args.getConfig<Partial<ExceptionSettings>>());
    for (const a of failedAnalyses(args.resources.map(fromPolicyResource))) {
      const codes = a.codes.length > 0 ? `explanation codes ${a.codes.join(", ")}` : "no explanation code recorded";
      reportUnlessExcepted(report, exceptions, {
        message: `Reachability Analyzer found no path from ${a.source} to ${a.endpoint} (analysis ${a.analysis}, pathFound: false): ${codes}.`,
        urn: a.urn,
        subjects: a.subjects,
      });
    }
  },
};

/** Every policy of the pack, in the order they are reported. */
export const hkexPolicies = [
  hkexBothSitesCovered,
  sgHkexPortProtocol,
  naclRuleNumbersUnique,
  vpcNoMixedRules,
  reachabilityPathFound,
  hkexRouteTarget,
  hkexPathVerified,
  sgHkexDescriptions,
  lambdaProbePlacement,
] as const;

export const PACK_NAME = "hkex-sftp-firewall";
export const PACK_DESCRIPTION = `HKEX derivatives SFTP (TCP ${SFTP_PORT}): from every client placement, the flows AWS would allow reach all four endpoints and nothing broader.`;
