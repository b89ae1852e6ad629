/**
 * Flow evaluation toward the HKEX endpoints: a small offline reachability
 * analysis of a Pulumi stack's VPC resources. See README.md beside this file.
 *
 * Pack policies call `evaluateHkexFlows(resources.map(fromPolicyResource), options)`;
 * the offline runner calls it with `fromStateResource` on what it read.
 */
export {
  evaluateHkexFlows,
  undescribedHkexRules,
  decideNacl,
  lookupRoute,
  type FlowEvaluation,
  type FlowFinding,
  type FlowOptions,
  type HopStep,
  type PathStatus,
} from "./evaluate";
export { buildNetworkModel } from "./network";
export {
  FLOW_TYPES,
  dependencyUrns,
  fromPolicyResource,
  fromStateResource,
  type FlowResource,
} from "./resources";
