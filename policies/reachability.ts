/**
 * What AWS's own Reachability Analyzer said, as the stack's state records it.
 *
 * An `aws.ec2.NetworkInsightsAnalysis` runs when it is created and keeps its
 * verdict in its outputs: `pathFound` and, when no path was found,
 * `explanations[].explanationCode` (e.g. `ENI_SG_RULES_MISMATCH`,
 * `NO_ROUTE_TO_DESTINATION`); its `networkInsightsPathId` names the
 * `aws.ec2.NetworkInsightsPath` with the source and the destination filter
 * (`filterAtSource.destinationAddress` and `destinationPortRange`, or the
 * older `destinationIp` / `destinationPort`). Provider reference:
 * https://www.pulumi.com/registry/packages/aws/api-docs/ec2/networkinsightsanalysis/
 * and the explanation codes:
 * https://docs.aws.amazon.com/vpc/latest/reachability/explanation-codes.html
 *
 * Only a known `pathFound: false` is read here: during a preview a new
 * analysis has no verdict yet, and that is not a failure.
 */
import { endpointLabel, endpointsOf } from "../catalogue";
import { AWS_TYPES } from "../infra/awsTypes";
import { type FlowResource, dependencyUrns } from "./flows";
import { get, num, str } from "./flows/values";

export interface FailedAnalysis {
  /** "primary 10.151.14.141:18801", or the address and port when not a catalogue endpoint. */
  readonly endpoint: string;
  readonly source: string;
  readonly analysis: string;
  readonly codes: readonly string[];
  readonly urn: string;
  readonly subjects: readonly string[];
}

const idOf = (r: FlowResource): string | undefined => {
  const id = r.id ?? str(r.props, "id");
  return typeof id === "string" ? id : undefined;
};

/** Every analysis of the stack whose state says `pathFound: false`, with the path it analysed. */
export function failedAnalyses(resources: readonly FlowResource[]): FailedAnalysis[] {
  const paths = resources.filter((r) => r.type === AWS_TYPES.networkInsightsPath);
  return resources
    .filter((r) => r.type === AWS_TYPES.networkInsightsAnalysis && get(r.props, "pathFound") === false)
    .map((a) => {
      const pathId = str(a.props, "networkInsightsPathId");
      const path =
        paths.find((p) => typeof pathId === "string" && idOf(p) === pathId) ??
        paths.find((p) => dependencyUrns(a, "networkInsightsPathId").includes(p.urn));
      const filter = get(path?.props, "filterAtSource");
      const address = str(filter, "destinationAddress") ?? str(path?.props, "destinationIp");
      const port = num(get(filter, "destinationPortRange"), "fromPort") ?? num(path?.props, "destinationPort");
      const host = typeof address === "string" ? address : "an unknown destination";
      const known = endpointsOf().find((e) => e.host === host && (typeof port !== "number" || e.port === port));
      const endpoint = known ? endpointLabel(known) : typeof port === "number" ? `${host}:${port}` : host;
      const source = str(path?.props, "source");
      const explanations = get(a.props, "explanations");
      const codes = Array.isArray(explanations)
        ? [...new Set(explanations.map((x) => str(x, "explanationCode")).filter((c): c is string => typeof c === "string"))]
        : [];
      const analysis = idOf(a) ?? a.name;
      return {
        endpoint,
        source: typeof source === "string" ? source : (path?.name ?? "an unknown source"),
        analysis,
        codes,
        urn: a.urn,
        subjects: [a.name, a.urn, analysis, host, ...(typeof port === "number" ? [`${host}:${port}`] : []), ...(path ? [path.name] : [])],
      };
    });
}
