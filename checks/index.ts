/**
 * The checks API, the package's main entry (`import ... from
 * "hkex-sftp-readiness"`): what the CLI builds its commands from, for
 * programs that run the readiness checks themselves. Config loading, the
 * probe of one endpoint, a run over sites, the connectivity session, and the
 * report they produce (schema in docs/report-schema.md).
 *
 * The Pulumi component is a separate entry, "hkex-sftp-readiness/infra", so
 * importing the checks never loads the Pulumi SDK.
 */
export { HKEX_SITES, SFTP_PORT, type Endpoint, type SiteDefinition, type SiteName, endpointsOf } from "../catalogue";
export { InputError, type InputProblem } from "../core/errors";
export { type Config, ConfigError, DEFAULT_TIMEOUTS, loadConfig, parseConfigText, type Timeouts } from "./config";
export { type PhaseEvent, type ProbeOptions, type ProbeResult, type ProbeTarget, probeEndpoint } from "./probe";
export {
  CAUSE_CODES,
  type CauseCode,
  type EndpointReport,
  failureLines,
  PHASES,
  type PhaseName,
  type PhaseResult,
  type PhaseStatus,
  REPORT_SCHEMA_VERSION,
  type Report,
  type SiteStatus,
  type SiteSummary,
  summariseSites,
} from "./report";
export { buildReport, type RunContext, runSites, type SiteRun } from "./run";
export { runSession, type SessionOptions, sessionSteps, type WeatherDecision } from "./session";
