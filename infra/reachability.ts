/**
 * The Reachability Analyzer part of hkex:network:SftpAccess: a network
 * insights path from each client source (every attached ENI, and any
 * reachability.sourceIds) to each endpoint on TCP, and an analysis of each
 * path that runs after every rule, route and attachment is in place and runs
 * again whenever one of them changes. Each endpoint's pathFound and
 * explanation codes are exported.
 */
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SiteDefinition } from "../catalogue";
import { AWS_TYPES } from "./awsTypes";
import type { SftpAccessArgs } from "./config";
import { childOptions, dashed, type ChildContext } from "./naming";

/** The tag that carries the hash of what an analysis looked at (see analysisTrigger). */
export const PATH_INPUTS_TAG = "hkex:path-inputs";

export interface EndpointPath {
  readonly site: SiteDefinition;
  readonly host: string;
  readonly source: string;
  readonly path: aws.ec2.NetworkInsightsPath;
  readonly analysis?: aws.ec2.NetworkInsightsAnalysis;
}

/** Per source and endpoint, what Reachability Analyzer found; undefined until an analysis ran. */
export interface EndpointReachability {
  site: string;
  host: string;
  port: number;
  source: string;
  pathId: string;
  analysisId?: string;
  status?: string;
  pathFound?: boolean;
  /** The analysis's explanation codes, e.g. "ENI_SG_RULES_MISMATCH", when no path was found. */
  explanationCodes: string[];
}

/** Every source a path starts from: the attached ENIs first, then the extra sources, once each. */
function reachabilitySources(args: Pick<SftpAccessArgs, "attach" | "reachability">): string[] {
  if (args.reachability === undefined) return [];
  return [...new Set([...args.attach.networkInterfaceIds, ...args.reachability.sourceIds])];
}

/** A source id or ARN as a resource-name fragment: the id itself, or an ARN's last part. */
function sourceFragment(source: string): string {
  return source.slice(source.lastIndexOf("/") + 1).replace(/[^A-Za-z0-9-]/g, "-");
}

/**
 * What an analysis depends on, as one short hash: the URN and id of every
 * rule, route and attachment, and the declared settings. The provider's
 * NetworkInsightsAnalysis has no "triggers" input, and none of its inputs
 * changes when a rule does, so an analysis would otherwise go on reporting
 * the network as it was. The hash is the analysis's replacementTrigger (the
 * engine replaces the resource, which starts a new analysis, whenever it
 * changes) and a tag, so the console shows which state an analysis judged.
 * A rule replaced keeps its URN but gets a new id; a route whose target
 * changes keeps both, hence the declared settings.
 */
function analysisTrigger(dependencies: readonly pulumi.Resource[], declared: unknown): pulumi.Output<string> {
  const identities = dependencies.map((r) =>
    pulumi.all([r.urn, pulumi.CustomResource.isInstance(r) ? r.id : pulumi.output("")]).apply(([urn, id]) => `${urn}=${id}`),
  );
  return pulumi.all(identities).apply((ids) =>
    createHash("sha256")
      .update(JSON.stringify({ ids: [...ids].sort(), declared }))
      .digest("hex")
      .slice(0, 32),
  );
}

export function reachabilityChecks(
  ctx: ChildContext,
  args: Pick<SftpAccessArgs, "attach" | "reachability">,
  endpoints: readonly { readonly site: SiteDefinition; readonly host: string }[],
  dependencies: readonly pulumi.Resource[],
  declared: unknown,
): EndpointPath[] {
  const reachability = args.reachability;
  if (reachability === undefined) return [];
  const trigger = reachability.analyze ? analysisTrigger(dependencies, declared) : undefined;
  return reachabilitySources(args).flatMap((source) =>
    endpoints.map(({ site, host }) => {
      const suffix = `${sourceFragment(source)}-${site.name}-${dashed(host)}`;
      const pathName = `${ctx.name}-path-${suffix}`;
      // `destination` or filterAtSource.destinationAddress must be given, and with filterAtSource
      // neither destinationPort nor sourceIp may be (provider and CreateNetworkInsightsPath docs:
      // https://www.pulumi.com/registry/packages/aws/api-docs/ec2/networkinsightspath/,
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkInsightsPath.html).
      // HKEX's hosts are not AWS resources, so the path names them by address.
      const path = new aws.ec2.NetworkInsightsPath(
        pathName,
        {
          source,
          protocol: "tcp",
          filterAtSource: { destinationAddress: host, destinationPortRange: { fromPort: site.port, toPort: site.port } },
          tags: { ...ctx.tags, Name: pathName },
        },
        childOptions(ctx, AWS_TYPES.networkInsightsPath, pathName),
      );
      if (trigger === undefined) return { site, host, source, path };
      const analysisName = `${ctx.name}-analysis-${suffix}`;
      const analysis = new aws.ec2.NetworkInsightsAnalysis(
        analysisName,
        { networkInsightsPathId: path.id, waitForCompletion: true, tags: { ...ctx.tags, [PATH_INPUTS_TAG]: trigger } },
        childOptions(ctx, AWS_TYPES.networkInsightsAnalysis, analysisName, {
          dependsOn: [...dependencies],
          replacementTrigger: trigger,
        }),
      );
      return { site, host, source, path, analysis };
    }),
  );
}

/** Per path, what its analysis found: pathFound and the explanation codes, in the order AWS lists them. */
export function endpointReachability(paths: readonly EndpointPath[]): pulumi.Output<EndpointReachability[]> {
  return pulumi.all(
    paths.map(({ site, host, source, path, analysis }) =>
      pulumi
        .all([
          path.id,
          analysis?.id,
          analysis?.status,
          analysis?.pathFound,
          analysis?.explanations.apply((list) => (list ?? []).map((e) => e.explanationCode)),
        ])
        .apply(
          ([pathId, analysisId, status, pathFound, codes]): EndpointReachability => ({
            site: site.name,
            host,
            port: site.port,
            source,
            pathId,
            ...(analysisId === undefined ? {} : { analysisId }),
            ...(status === undefined || status === null ? {} : { status }),
            ...(pathFound === undefined || pathFound === null ? {} : { pathFound }),
            explanationCodes: [...new Set(codes ?? [])],
          }),
        ),
    ),
  );
}
