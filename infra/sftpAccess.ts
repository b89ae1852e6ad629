/**
 * hkex:network:SftpAccess: the security-group egress and its attachment to
 * the client ENIs, network ACL rules, routes and Reachability Analyzer paths
 * that let a VPC reach the HKEX SFTP endpoints on TCP 18801 and nothing
 * broader. Each part declares its resources in its own file; this one
 * validates the args, puts the parts together and exports what they made.
 */
import * as pulumi from "@pulumi/pulumi";
import { InputError } from "../core/errors";
import { hostCidr } from "./cidr";
import { validateSftpAccessArgs, type SftpAccessArgs } from "./config";
import type { ExistingGroupReview } from "./existingGroup";
import { siteNaclRules } from "./naclRules";
import { componentTags, formerUrnsOf, type ChildContext } from "./naming";
import { vpcProbe, vpcProbeOutputs, type VpcProbeOutputs } from "./probe";
import { endpointReachability, reachabilityChecks, type EndpointReachability } from "./reachability";
import { siteRoutes, type SiteRoute } from "./routes";
import { endpointEgressRules, groupAttachments, securityGroupFor, type EndpointEgressRule } from "./securityGroupEgress";

export const SFTP_ACCESS_TYPE = "hkex:network:SftpAccess";

export interface EndpointRow {
  site: string;
  host: string;
  port: number;
  rule: string;
  routes: string[];
}

/**
 * The client side the component declares, for the policy pack to find in
 * state: the VPC (when a new group is created in it), the client subnets,
 * route tables, NACLs, the group and the ENIs it is attached to.
 */
export interface SftpAccessScope {
  vpcId?: string;
  subnetIds: string[];
  routeTableIds: string[];
  networkAclIds: string[];
  securityGroupIds: string[];
  networkInterfaceIds: string[];
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
  readonly attachmentIds: pulumi.Output<string[]>;
  readonly naclRuleIds: pulumi.Output<string[]>;
  readonly routeIds: pulumi.Output<string[]>;
  readonly reachabilityPathIds: pulumi.Output<string[]>;
  readonly reachabilityAnalysisIds: pulumi.Output<string[]>;
  /** Per source and endpoint: the path, its analysis, pathFound and the explanation codes. */
  readonly reachability: pulumi.Output<EndpointReachability[]>;
  readonly endpoints: pulumi.Output<EndpointRow[]>;
  readonly probe: pulumi.Output<VpcProbeOutputs | undefined>;
  readonly scope: pulumi.Output<SftpAccessScope>;
  /**
   * With an existing group: the egress rules read from it, and those waived.
   * Fails, naming each rule, when a rule lets all traffic or all ports out
   * toward HKEX; export it (as the stack program does) so the preview fails.
   */
  readonly existingGroupReview: pulumi.Output<ExistingGroupReview | undefined>;

  constructor(name: string, args: SftpAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super() so that bad args register nothing, not even the component.
    const problems = validateSftpAccessArgs(args);
    if (problems.length > 0) throw new InputError(problems);
    super(SFTP_ACCESS_TYPE, name, {}, opts);

    // The order of the parts is the order of registration, which the ids of a mock run follow.
    const ctx: ChildContext = { name, parent: this, tags: componentTags(name), formerUrns: formerUrnsOf(name, SFTP_ACCESS_TYPE, opts) };
    const group = securityGroupFor(ctx, args);
    const rules = endpointEgressRules(ctx, args.sites, group.id);
    const attachments = groupAttachments(ctx, args.attach.networkInterfaceIds, group.id);
    const naclRules = siteNaclRules(ctx, args);
    const routes = siteRoutes(ctx, args);
    const dependencies = [
      ...(group.created ? [group.created] : []),
      ...rules.map((r) => r.rule),
      ...attachments.map((a) => a.attachment),
      ...naclRules.map((r) => r.rule),
      ...routes.map((r) => r.route),
    ];
    const paths = reachabilityChecks(ctx, args, rules, dependencies, declaredPath(args));
    // The optional scheduled probe from the client subnets (infra/probe/), started once the path is open.
    const probe = args.probe && vpcProbe(ctx, args.probe, { securityGroupId: group.id, sites: args.sites, after: dependencies });

    this.securityGroupId = group.id;
    this.egressRuleIds = pulumi.all(rules.map((r) => r.rule.id));
    this.attachmentIds = pulumi.all(attachments.map((a) => a.attachment.id));
    this.naclRuleIds = pulumi.all(naclRules.map((r) => r.rule.id));
    this.routeIds = pulumi.all(routes.map((r) => r.route.id));
    this.reachabilityPathIds = pulumi.all(paths.map((p) => p.path.id));
    this.reachabilityAnalysisIds = pulumi.all(paths.flatMap((p) => (p.analysis ? [p.analysis.id] : [])));
    this.reachability = endpointReachability(paths);
    this.endpoints = endpointRows(rules, routes);
    this.probe = vpcProbeOutputs(probe);
    this.scope = group.id.apply(
      (securityGroupId): SftpAccessScope => ({
        ...(args.vpcId === undefined ? {} : { vpcId: args.vpcId }),
        subnetIds: [...args.subnetIds],
        routeTableIds: [...args.routeTableIds],
        networkAclIds: [...args.networkAclIds],
        securityGroupIds: [securityGroupId],
        networkInterfaceIds: [...args.attach.networkInterfaceIds],
      }),
    );
    this.existingGroupReview = group.review ?? pulumi.output(undefined);

    this.registerOutputs({
      securityGroupId: this.securityGroupId,
      egressRuleIds: this.egressRuleIds,
      attachmentIds: this.attachmentIds,
      naclRuleIds: this.naclRuleIds,
      routeIds: this.routeIds,
      reachabilityPathIds: this.reachabilityPathIds,
      reachabilityAnalysisIds: this.reachabilityAnalysisIds,
      reachability: this.reachability,
      endpoints: this.endpoints,
      probe: this.probe,
      scope: this.scope,
      // Not existingGroupReview: a failed review must fail the program once, through the
      // stack output or the caller's own use of it, not again through the component's outputs.
    });
  }
}

/** The settings an analysis's verdict depends on besides the resources themselves (see analysisTrigger). */
function declaredPath(args: SftpAccessArgs): unknown {
  return {
    group: args.securityGroupId ?? args.vpcId,
    attach: args.attach,
    sites: args.sites,
    networkAclIds: args.networkAclIds,
    naclRuleNumberBase: args.naclRuleNumberBase,
    routeTableIds: args.routeTableIds,
    routeTarget: args.routeTarget && { kind: args.routeTarget.kind, id: args.routeTarget.id },
    routeGranularity: args.routeGranularity,
  };
}
