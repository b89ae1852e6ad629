/**
 * The optional Reachability Analyzer part of hkex:network:SftpAccess: a
 * network insights path from the given source to each endpoint on TCP, and,
 * when asked, an analysis of each path.
 */
import * as aws from "@pulumi/aws";
import type { SiteDefinition } from "../catalogue";
import type { SftpAccessArgs } from "./config";
import { dashed, type ChildContext } from "./naming";

export interface EndpointPath {
  readonly site: SiteDefinition;
  readonly host: string;
  readonly path: aws.ec2.NetworkInsightsPath;
}

export interface ReachabilityResources {
  readonly paths: EndpointPath[];
  readonly analyses: aws.ec2.NetworkInsightsAnalysis[];
}

export function reachabilityChecks(
  ctx: ChildContext,
  reachability: SftpAccessArgs["reachability"],
  endpoints: readonly { readonly site: SiteDefinition; readonly host: string }[],
): ReachabilityResources {
  if (reachability === undefined) return { paths: [], analyses: [] };
  const paths = endpoints.map(({ site, host }) => ({
    site,
    host,
    path: new aws.ec2.NetworkInsightsPath(
      `${ctx.name}-path-${site.name}-${dashed(host)}`,
      {
        source: reachability.sourceId,
        destinationIp: host,
        destinationPort: site.port,
        protocol: "tcp",
        tags: { ...ctx.tags, Name: `${ctx.name}-path-${site.name}-${dashed(host)}` },
      },
      { parent: ctx.parent },
    ),
  }));
  const analyses = reachability.analyze
    ? paths.map(
        ({ site, host, path }) =>
          new aws.ec2.NetworkInsightsAnalysis(
            `${ctx.name}-analysis-${site.name}-${dashed(host)}`,
            { networkInsightsPathId: path.id, waitForCompletion: true, tags: ctx.tags },
            { parent: ctx.parent },
          ),
      )
    : [];
  return { paths, analyses };
}
