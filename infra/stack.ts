/**
 * Builds the stack from config. Kept apart from index.ts (the Pulumi entry)
 * so that `hkex-ready plan` and the tests can run it again under mocks
 * without re-importing a module for its side effects. A thin user of the
 * library entry (component.ts), as any other program would be.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, SftpAccess, type SftpAccessArgs } from "./component";

const COMPONENT_NAME = "hkex-sftp";

/** The stack outputs: the component's outputs, under the same names. */
export interface StackOutputs {
  securityGroupId: SftpAccess["securityGroupId"];
  egressRuleIds: SftpAccess["egressRuleIds"];
  attachmentIds: SftpAccess["attachmentIds"];
  naclRuleIds: SftpAccess["naclRuleIds"];
  routeIds: SftpAccess["routeIds"];
  reachabilityPathIds: SftpAccess["reachabilityPathIds"];
  reachabilityAnalysisIds: SftpAccess["reachabilityAnalysisIds"];
  reachability: SftpAccess["reachability"];
  endpoints: SftpAccess["endpoints"];
  probe: SftpAccess["probe"];
  scope: SftpAccess["scope"];
  existingGroupReview: SftpAccess["existingGroupReview"];
}

/** Validates the whole config first (InputError), then declares the component. */
export function defineStack(config: Readonly<Record<string, string>> = pulumi.runtime.allConfig()): StackOutputs {
  const args: SftpAccessArgs = parseStackConfig(config);
  const access = new SftpAccess(COMPONENT_NAME, args);
  return {
    securityGroupId: access.securityGroupId,
    egressRuleIds: access.egressRuleIds,
    attachmentIds: access.attachmentIds,
    naclRuleIds: access.naclRuleIds,
    routeIds: access.routeIds,
    reachabilityPathIds: access.reachabilityPathIds,
    reachabilityAnalysisIds: access.reachabilityAnalysisIds,
    reachability: access.reachability,
    endpoints: access.endpoints,
    probe: access.probe,
    scope: access.scope,
    existingGroupReview: access.existingGroupReview,
  };
}
