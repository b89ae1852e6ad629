/**
 * The library entry, `import { SftpAccess } from "hkex-sftp-readiness/infra"`
 * (package.json `exports`), for Pulumi programs that declare the component
 * themselves, as awsx's components are used. The stack program in this
 * folder (index.ts) is one such user. Importing this module declares nothing.
 */
export { HKEX_SITES, SFTP_PORT, type SiteDefinition, type SiteName } from "../catalogue";
export { InputError, type InputProblem } from "../core/errors";
export {
  type ConfigException,
  type ConfiguredRouteTarget,
  DEFAULTS,
  naclRuleNumber,
  parseStackConfig,
  type SftpAccessArgs,
  validateRawConfig as sftpAccessArgs,
  validateSftpAccessArgs,
} from "./config";
export type { ExistingGroupReview, LiveSecurityGroupRule } from "./existingGroup";
export { type EndpointReachability, PATH_INPUTS_TAG } from "./reachability";
export { REFUSED_ROUTE_TARGETS, ROUTE_TARGET_KINDS, ROUTE_TARGETS, readRouteTarget, type RouteTargetKind } from "./routeTarget";
export { type EndpointRow, SFTP_ACCESS_TYPE, SftpAccess, type SftpAccessScope } from "./sftpAccess";
