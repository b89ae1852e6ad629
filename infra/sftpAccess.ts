/**
 * hkex:network:SftpAccess: the security-group egress, network ACL rules,
 * routes and optional Reachability Analyzer paths that let a VPC reach the
 * HKEX SFTP endpoints on TCP 18801 and nothing broader.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { InputError } from "../core/errors";
import { hostCidr } from "./cidr";
import { EPHEMERAL_PORTS, naclRuleNumbers, validateSftpAccessArgs, type RouteTarget, type SftpAccessArgs, type SiteSpec } from "./config";

export const SFTP_ACCESS_TYPE = "hkex:network:SftpAccess";

export interface EndpointRow {
  site: string;
  host: string;
  port: number;
  rule: string;
  routes: string[];
}

/** Route arguments for one target kind; a virtual private gateway is a Route's gatewayId. */
export function routeTargetArgs(target: RouteTarget): Partial<aws.ec2.RouteArgs> {
  switch (target.kind) {
    case "transitGatewayId":
      return { transitGatewayId: target.id };
    case "vpnGatewayId":
      return { gatewayId: target.id };
    case "networkInterfaceId":
      return { networkInterfaceId: target.id };
    case "vpcPeeringConnectionId":
      return { vpcPeeringConnectionId: target.id };
  }
}

/** Destinations a route table needs: one per site range, or one per host. */
export function routeDestinations(args: Pick<SftpAccessArgs, "sites" | "routeGranularity">): { site: SiteSpec; cidr: string }[] {
  return args.sites.flatMap((site) =>
    args.routeGranularity === "host" ? site.hosts.map((h) => ({ site, cidr: hostCidr(h) })) : [{ site, cidr: site.range }],
  );
}

export function ruleDescription(site: SiteSpec, host: string): string {
  return `HKEX SFTP ${site.name} (${site.dataCentre}) ${host}:${site.port}`;
}

const dashed = (ip: string) => ip.replace(/[./]/g, "-");

export class SftpAccess extends pulumi.ComponentResource {
  readonly securityGroupId: pulumi.Output<string>;
  readonly egressRuleIds: pulumi.Output<string[]>;
  readonly naclRuleIds: pulumi.Output<string[]>;
  readonly routeIds: pulumi.Output<string[]>;
  readonly reachabilityPathIds: pulumi.Output<string[]>;
  readonly reachabilityAnalysisIds: pulumi.Output<string[]>;
  readonly endpoints: pulumi.Output<EndpointRow[]>;

  constructor(name: string, args: SftpAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super() so that bad args register nothing, not even the component.
    const problems = validateSftpAccessArgs(args);
    if (problems.length > 0) throw new InputError(problems);
    super(SFTP_ACCESS_TYPE, name, {}, opts);

    const tags = { "hkex:component": name };
    const securityGroupId: pulumi.Input<string> =
      args.securityGroupId ??
      new aws.ec2.SecurityGroup(
        `${name}-sg`,
        {
          vpcId: args.vpcId!,
          description: "Egress to the HKEX derivatives SFTP facility on TCP 18801",
          tags: { ...tags, Name: `${name}-sg` },
        },
        { parent: this },
      ).id;

    // One standalone rule per endpoint, never inline blocks: the provider
    // cannot manage both on one group without the two fighting over it.
    const rules = args.sites.flatMap((site) =>
      site.hosts.map((host) => ({
        site,
        host,
        rule: new aws.vpc.SecurityGroupEgressRule(
          `${name}-egress-${site.name}-${dashed(host)}`,
          {
            securityGroupId,
            ipProtocol: "tcp",
            fromPort: site.port,
            toPort: site.port,
            cidrIpv4: hostCidr(host),
            description: ruleDescription(site, host),
            tags,
          },
          { parent: this },
        ),
      })),
    );

    const numbers = naclRuleNumbers(args);
    const naclRules = args.networkAclIds.flatMap((aclId) =>
      args.sites.flatMap((site, i) => [
        new aws.ec2.NetworkAclRule(
          `${name}-${aclId}-egress-${site.name}`,
          {
            networkAclId: aclId,
            ruleNumber: numbers[i],
            egress: true,
            protocol: "tcp",
            ruleAction: "allow",
            cidrBlock: site.range,
            fromPort: site.port,
            toPort: site.port,
          },
          { parent: this },
        ),
        // NACLs are stateless: the replies come back to the client's ephemeral ports.
        new aws.ec2.NetworkAclRule(
          `${name}-${aclId}-ingress-${site.name}`,
          {
            networkAclId: aclId,
            ruleNumber: numbers[i],
            egress: false,
            protocol: "tcp",
            ruleAction: "allow",
            cidrBlock: site.range,
            fromPort: EPHEMERAL_PORTS.from,
            toPort: EPHEMERAL_PORTS.to,
          },
          { parent: this },
        ),
      ]),
    );

    const destinations = routeDestinations(args);
    const routes = args.routeTableIds.flatMap((rtbId) =>
      destinations.map((d) => ({
        ...d,
        route: new aws.ec2.Route(
          `${name}-${rtbId}-${dashed(d.cidr)}`,
          { routeTableId: rtbId, destinationCidrBlock: d.cidr, ...routeTargetArgs(args.routeTarget!) },
          { parent: this },
        ),
      })),
    );

    const reachability = args.reachability;
    const paths = reachability
      ? rules.map(({ site, host }) => ({
          site,
          host,
          path: new aws.ec2.NetworkInsightsPath(
            `${name}-path-${site.name}-${dashed(host)}`,
            {
              source: reachability.sourceId,
              destinationIp: host,
              destinationPort: site.port,
              protocol: "tcp",
              tags: { ...tags, Name: `${name}-path-${site.name}-${dashed(host)}` },
            },
            { parent: this },
          ),
        }))
      : [];
    const analyses = reachability?.analyze
      ? paths.map(
          ({ site, host, path }) =>
            new aws.ec2.NetworkInsightsAnalysis(
              `${name}-analysis-${site.name}-${dashed(host)}`,
              { networkInsightsPathId: path.id, waitForCompletion: true, tags },
              { parent: this },
            ),
        )
      : [];

    this.securityGroupId = pulumi.output(securityGroupId);
    this.egressRuleIds = pulumi.all(rules.map((r) => r.rule.id));
    this.naclRuleIds = pulumi.all(naclRules.map((r) => r.id));
    this.routeIds = pulumi.all(routes.map((r) => r.route.id));
    this.reachabilityPathIds = pulumi.all(paths.map((p) => p.path.id));
    this.reachabilityAnalysisIds = pulumi.all(analyses.map((a) => a.id));
    this.endpoints = pulumi.all(
      rules.map(({ site, host, rule }) =>
        pulumi
          .all([
            rule.id,
            pulumi.all(
              routes
                .filter((r) => r.site.name === site.name && (r.cidr === site.range || r.cidr === hostCidr(host)))
                .map((r) => r.route.id),
            ),
          ])
          .apply(([ruleId, routeIds]): EndpointRow => ({ site: site.name, host, port: site.port, rule: ruleId, routes: routeIds })),
      ),
    );

    this.registerOutputs({
      securityGroupId: this.securityGroupId,
      egressRuleIds: this.egressRuleIds,
      naclRuleIds: this.naclRuleIds,
      routeIds: this.routeIds,
      reachabilityPathIds: this.reachabilityPathIds,
      reachabilityAnalysisIds: this.reachabilityAnalysisIds,
      endpoints: this.endpoints,
    });
  }
}
