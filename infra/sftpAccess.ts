/**
 * hkex:network:SftpAccess: the security-group egress, network ACL rules,
 * routes and optional Reachability Analyzer paths that let a VPC reach the
 * HKEX SFTP endpoints on TCP 18801 and nothing broader. Each part declares
 * its resources in its own file; this one validates the args, puts the parts
 * together and exports what they made.
 */
import * as pulumi from "@pulumi/pulumi";
import { InputError } from "../core/errors";
import { hostCidr } from "./cidr";
import { validateSftpAccessArgs, type SftpAccessArgs } from "./config";
import { siteNaclRules } from "./naclRules";
import { componentTags, type ChildContext } from "./naming";
import { vpcProbe, vpcProbeOutputs, type VpcProbeOutputs } from "./probe";
import { reachabilityChecks } from "./reachability";
import { siteRoutes, type SiteRoute } from "./routes";
import { endpointEgressRules, securityGroupFor, type EndpointEgressRule } from "./securityGroupEgress";

export const SFTP_ACCESS_TYPE = "hkex:network:SftpAccess";

export interface EndpointRow {
  site: string;
  host: string;
  port: number;
  rule: string;
  routes: string[];
}

/** Per endpoint: its egress rule and the routes (range or /32) that carry it, in every table. */
function endpointRows(rules: readonly EndpointEgressRule[], routes: readonly SiteRoute[]): pulumi.Output<EndpointRow[]> {
  return pulumi.all(
    rules.map(({ site, host, rule }) => {
      const carrying = routes.filter((r) => r.site.name === site.name && (r.cidr === site.range || r.cidr === hostCidr(host)));
      return pulumi
        .all([rule.id, pulumi.all(carrying.map((r) => r.route.id))])
        .apply(([ruleId, routeIds]): EndpointRow => ({ site: site.name, host, port: site.port, rule: ruleId, routes: routeIds }));
    }),
  );
}

export class SftpAccess extends pulumi.ComponentResource {
  readonly securityGroupId: pulumi.Output<string>;
  readonly egressRuleIds: pulumi.Output<string[]>;
  readonly naclRuleIds: pulumi.Output<string[]>;
  readonly routeIds: pulumi.Output<string[]>;
  readonly reachabilityPathIds: pulumi.Output<string[]>;
  readonly reachabilityAnalysisIds: pulumi.Output<string[]>;
  readonly endpoints: pulumi.Output<EndpointRow[]>;
  readonly probe: pulumi.Output<VpcProbeOutputs | undefined>;

  constructor(name: string, args: SftpAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super() so that bad args register nothing, not even the component.
    const problems = validateSftpAccessArgs(args);
    if (problems.length > 0) throw new InputError(problems);
    super(SFTP_ACCESS_TYPE, name, {}, opts);

    // The order of the parts is the order of registration, which the ids of a mock run follow.
    const ctx: ChildContext = { name, parent: this, tags: componentTags(name) };
    const securityGroupId = securityGroupFor(ctx, args);
    const rules = endpointEgressRules(ctx, args.sites, securityGroupId);
    const naclRules = siteNaclRules(ctx, args);
    const routes = siteRoutes(ctx, args);
    const { paths, analyses } = reachabilityChecks(ctx, args.reachability, rules);
    // The optional scheduled probe from the client subnets (infra/probe/), started once the path is open.
    const opened = [...rules.map((r) => r.rule), ...naclRules, ...routes.map((r) => r.route)];
    const probe = args.probe && vpcProbe(ctx, args.probe, { securityGroupId, sites: args.sites, after: opened });

    this.securityGroupId = pulumi.output(securityGroupId);
    this.egressRuleIds = pulumi.all(rules.map((r) => r.rule.id));
    this.naclRuleIds = pulumi.all(naclRules.map((r) => r.id));
    this.routeIds = pulumi.all(routes.map((r) => r.route.id));
    this.reachabilityPathIds = pulumi.all(paths.map((p) => p.path.id));
    this.reachabilityAnalysisIds = pulumi.all(analyses.map((a) => a.id));
    this.endpoints = endpointRows(rules, routes);
    this.probe = vpcProbeOutputs(probe);

    this.registerOutputs({
      securityGroupId: this.securityGroupId,
      egressRuleIds: this.egressRuleIds,
      naclRuleIds: this.naclRuleIds,
      routeIds: this.routeIds,
      reachabilityPathIds: this.reachabilityPathIds,
      reachabilityAnalysisIds: this.reachabilityAnalysisIds,
      endpoints: this.endpoints,
      probe: this.probe,
    });
  }
}
