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
  type BroaderFlow,
  type FindingCode,
  type FlowEvaluation,
  type FlowFinding,
  type FlowOptions,
  type Hop,
  type HopStatus,
  type HopStep,
  type PathStatus,
  type PathTrace,
  type ScopeResult,
  type UndescribedRule,
} from "./evaluate";
export { buildNetworkModel, type NetworkModel } from "./network";
export {
  FLOW_TYPES,
  dependencyUrns,
  fromPolicyResource,
  fromStateResource,
  type FlowResource,
  type PolicyStackResource,
  type StateResource,
} from "./resources";
export type { DeclaredScope } from "./scope";
