/**
 * The policy pack as the Pulumi CLI loads it (`--policy-pack policies`).
 * Constructing a PolicyPack starts the analyzer's gRPC server and reads
 * policies/package.json, so nothing else lives here: the CLI and the tests
 * import the policies from ./policies.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_DESCRIPTION, PACK_NAME, hkexPolicies } from "./policies";

new PolicyPack(PACK_NAME, { description: PACK_DESCRIPTION, policies: [...hkexPolicies] });
