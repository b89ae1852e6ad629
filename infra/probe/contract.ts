/**
 * What the VPC probe's AWS resources (infra/probe/) and its Lambda handler
 * (checks/vpcProbe/) agree on: the bundle, the environment variables the
 * handler reads, the CloudWatch namespace and metric it prints in Embedded
 * Metric Format, and the tag that marks the function as the probe.
 *
 * The Pulumi program may not import the checks (test/infra/layering.test.ts),
 * and the policy pack reads the tag and the variable name, so this file has
 * no imports; test/infra/probe/contract.test.ts holds each value to the
 * handler's own, and runs the handler with the declared event and environment.
 */

/** `npm run bundle:vpc-probe` writes the handler here, relative to the project root (where Pulumi.yaml is). */
export const PROBE_BUNDLE_DIR = "dist/vpc-probe";
export const PROBE_HANDLER = "index.handler";
export const PROBE_RUNTIME = "nodejs20.x";
/** ssh2 and the SDK client fit with room to spare (docs/monitoring.md). */
export const PROBE_MEMORY_MB = 256;

/** The environment variables the handler reads (checks/vpcProbe/handler.ts). */
export const PROBE_ENV = Object.freeze({
  /** The Secrets Manager secret holding the login key: its ARN, never its value. */
  keySecretId: "HKEX_KEY_SECRET_ID",
  /** The `probe` dimension on every metric. */
  probeName: "HKEX_PROBE_NAME",
  namespace: "HKEX_METRICS_NAMESPACE",
});

/** checks/vpcProbe/emf.ts DEFAULT_NAMESPACE. */
export const PROBE_METRICS_NAMESPACE = "HKEX/SFTPReadiness";
/** checks/metrics.ts METRICS.probeSuccess: 1 when the endpoint passed every phase, else 0. */
export const PROBE_SUCCESS_METRIC = "hkex_sftp_probe_success";
/** The dimensions that metric is printed with, in the handler's order. */
export const PROBE_SUCCESS_DIMENSIONS = ["probe", "site", "host", "port"] as const;

/** Tag on the probe function; its value is the probe's name (the `probe` dimension). */
export const PROBE_TAG = "hkex:probe";
