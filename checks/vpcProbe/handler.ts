/**
 * The scheduled VPC probe: an AWS Lambda function (Node.js 20 runtime) in a
 * client VPC that runs the same readiness check as `hkex-ready check`
 * (checks/run.ts, one code path) and prints its result as CloudWatch Embedded
 * Metric Format lines, with the metric names the exporter serves.
 *
 * Bundled by `npm run bundle:vpc-probe` into dist/vpc-probe/index.js; the
 * function's handler is `index.handler` (docs/monitoring.md).
 *
 * Environment: HKEX_KEY_SECRET_ID (the secret holding the login key, unless
 * the event names it), HKEX_METRICS_NAMESPACE (default HKEX/SFTPReadiness),
 * HKEX_PROBE_NAME (the `probe` dimension; default the function's name).
 */
import { rm } from "node:fs/promises";
import { cappedTimeouts } from "../config";
import { InputError } from "../../core/errors";
import { hkNow } from "../../core/time";
import { userKeyFromBytes } from "../keys";
import { reportSamples } from "../metrics";
import { failureLines, type Report } from "../report";
import { buildReport, runSites } from "../run";
import { renderEmf, DEFAULT_NAMESPACE } from "./emf";
import { parseProbeEvent } from "./event";
import { secretsManagerReader, type SecretReader } from "./secrets";

/** The part of Lambda's context object the probe reads. */
export interface LambdaContext {
  getRemainingTimeInMillis?(): number;
}

export interface VpcProbeResult {
  readonly verdict: Report["verdict"];
  readonly sites: Report["sites"];
  /** "site host:port phase: cause" for every failed phase. */
  readonly failures: readonly string[];
  readonly emfLines: number;
}

export interface HandlerDeps {
  /** Reads the login key; default AWS Secrets Manager. */
  readonly secrets?: SecretReader;
  /** Writes one log line; default stdout, unwrapped by the Lambda runtime's console. */
  readonly write?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/** Time kept back from the invocation's deadline to print the metrics before Lambda stops the function. */
const DEADLINE_MARGIN_MS = 2000;

/**
 * Straight to stdout: Lambda's patched console.log prefixes a timestamp and
 * request id (and wraps the line in JSON with the JSON log format), which the
 * EMF extraction may not parse (aws-embedded-metrics-node, pull request 158).
 */
const stdoutLine = (line: string) => void process.stdout.write(`${line}\n`);

export function createHandler(deps: HandlerDeps = {}): (event: unknown, context?: LambdaContext) => Promise<VpcProbeResult> {
  const write = deps.write ?? stdoutLine;
  let secrets = deps.secrets;
  return async (event, context) => {
    const env = deps.env ?? process.env;
    const log = (level: "info" | "error", message: string, extra: Record<string, unknown> = {}) =>
      write(JSON.stringify({ level, message, ...extra }));
    let setup: ReturnType<typeof parseProbeEvent>;
    try {
      setup = parseProbeEvent(event, env);
    } catch (err) {
      if (err instanceof InputError) log("error", "hkex-sftp VPC probe: bad event", { problems: err.problems });
      throw err;
    }
    secrets ??= secretsManagerReader();
    const secret = await secrets.read(setup.keySecretId);
    const key = userKeyFromBytes(secret.privateKey, {
      field: "keySecretId",
      where: `secret ${setup.keySecretId}`,
      passphrase: secret.passphrase,
    });

    const remaining = context?.getRemainingTimeInMillis?.();
    const budgetMs = remaining === undefined ? undefined : Math.max(1000, remaining - DEADLINE_MARGIN_MS);
    const stop = new AbortController();
    const timer = budgetMs === undefined ? undefined : setTimeout(() => stop.abort("the Lambda invocation's deadline"), budgetMs);
    const startedAt = hkNow();
    let report: Report;
    try {
      const config = { ...setup.config, timeouts: cappedTimeouts(setup.config.timeouts, budgetMs) };
      const run = await runSites(
        { config, key, knownHosts: setup.knownHosts, signal: stop.signal, tuning: { maxFileBytes: config.monitoring.maxFileBytes } },
        setup.sites,
        { download: setup.download, label: "vpc-probe", downloadSkipReason: "not requested (the event's download is false)" },
      );
      report = buildReport({ kind: "check", startedAt, endpoints: run.endpoints, downloads: run.downloads, warnings: key.warnings });
    } finally {
      clearTimeout(timer);
      secret.privateKey.fill(0);
      await rm(setup.config.downloadDir, { recursive: true, force: true });
    }

    const lines = renderEmf(reportSamples(report, { files: setup.config.files, sessionDays: setup.config.sessionDays }), {
      namespace: env.HKEX_METRICS_NAMESPACE || DEFAULT_NAMESPACE,
      probe: setup.probe,
      timestamp: Date.parse(report.finishedAt) || Date.now(),
    });
    for (const line of lines) write(line);
    const failures = failureLines(report.endpoints);
    log(report.verdict === "pass" ? "info" : "error", `hkex-sftp readiness: ${report.verdict}`, {
      probe: setup.probe,
      sites: report.sites,
      failures,
    });
    return { verdict: report.verdict, sites: report.sites, failures, emfLines: lines.length };
  };
}

/** The Lambda entry point: `index.handler` in the bundle. */
export const handler = createHandler();
