/**
 * Builds the stack from config. Kept apart from index.ts (the Pulumi entry)
 * so that `hkex-ready plan` and the tests can run it again under mocks
 * without re-importing a module for its side effects.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, type SftpAccessArgs } from "./config";
import { SftpAccess } from "./sftpAccess";

export const COMPONENT_NAME = "hkex-sftp";

export interface StackOutputs {
  securityGroupId: pulumi.Output<string>;
  egressRuleIds: pulumi.Output<string[]>;
  naclRuleIds: pulumi.Output<string[]>;
  routeIds: pulumi.Output<string[]>;
  reachabilityPathIds: pulumi.Output<string[]>;
  reachabilityAnalysisIds: pulumi.Output<string[]>;
  endpoints: SftpAccess["endpoints"];
  probe: SftpAccess["probe"];
}

/** Validates the whole config first (InputError), then declares the component. */
export function defineStack(config: Readonly<Record<string, string>> = pulumi.runtime.allConfig()): StackOutputs {
  const args: SftpAccessArgs = parseStackConfig(config);
  const access = new SftpAccess(COMPONENT_NAME, args);
  return {
    securityGroupId: access.securityGroupId,
    egressRuleIds: access.egressRuleIds,
    naclRuleIds: access.naclRuleIds,
    routeIds: access.routeIds,
    reachabilityPathIds: access.reachabilityPathIds,
    reachabilityAnalysisIds: access.reachabilityAnalysisIds,
    endpoints: access.endpoints,
    probe: access.probe,
  };
}
