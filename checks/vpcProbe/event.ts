/**
 * The VPC probe's input: the schedule's constant event. It carries the same
 * config keys as the YAML config, validated by the same schema
 * (checks/config.ts), except the file-valued ones: the key comes from a
 * secret (keySecretId), the pinned host keys come in the event itself
 * (knownHosts, OpenSSH known_hosts text), and downloads go to the Lambda's
 * /tmp and are removed after the run.
 *
 *   {
 *     "config": { "user": "CP0001", "files": ["TP001"], "sites": {...}, "timeouts": {...} },
 *     "knownHosts": "[10.151.14.141]:18801 ssh-ed25519 AAAA...\n...",
 *     "site": "all",
 *     "keySecretId": "arn:aws:secretsmanager:...:secret:hkex-sftp-key",
 *     "probe": "vpc-0abc1234"
 *   }
 */
import { z } from "zod";
import { SITE_NAMES, type SiteName } from "../../catalogue";
import { InputError, type InputProblem } from "../../core/errors";
import { normaliseConfig, type Config } from "../config";
import { parseKnownHosts, type KnownHostEntry } from "../knownHosts";

/** Where a Lambda function may write. */
const LAMBDA_DOWNLOAD_DIR = "/tmp/hkex-vpc-probe";

/** Config keys that name files or local services: meaningless in a Lambda, refused with the reason. */
const NOT_IN_EVENT: Record<string, string> = {
  identityFile: "the key comes from the secret named by keySecretId (or HKEX_KEY_SECRET_ID)",
  passphraseEnv: 'an encrypted key\'s passphrase goes in the secret, as {"privateKey": …, "passphrase": …}',
  agent: "there is no ssh-agent in a Lambda function",
  knownHostsFile: "put the known_hosts lines in the event's knownHosts",
  downloadDir: `downloads go to ${LAMBDA_DOWNLOAD_DIR} and are removed after the run`,
  sshConfig: "the switchover is a session step, not a probe's",
  email: "the probe sends no e-mail",
  smtp: "the probe sends no e-mail",
};

const probeName = z.string().regex(/^[A-Za-z0-9._:/-]{1,128}$/, "must be 1-128 letters, digits or . _ : / -");

const eventSchema = z.strictObject({
  config: z.record(z.string(), z.unknown()),
  knownHosts: z
    .string()
    .min(1, "must hold the pinned host keys (OpenSSH known_hosts lines)")
    .max(1024 * 1024, "is larger than 1 MiB"),
  site: z.enum(["all", ...SITE_NAMES]).default("all"),
  download: z.boolean().default(false),
  keySecretId: z.string().min(1).max(2048).optional(),
  probe: probeName.optional(),
});

export interface ProbeSetup {
  readonly config: Config;
  readonly knownHosts: readonly KnownHostEntry[];
  readonly sites: readonly SiteName[];
  readonly download: boolean;
  readonly keySecretId: string;
  readonly probe: string;
}

/** Validates the event; every problem at once, as `event.<key>: message`. */
export function parseProbeEvent(event: unknown, env: NodeJS.ProcessEnv = process.env): ProbeSetup {
  const parsed = eventSchema.safeParse(event ?? {});
  if (!parsed.success) {
    throw new InputError(
      parsed.error.issues.flatMap((i): InputProblem[] =>
        i.code === "unrecognized_keys"
          ? i.keys.map((k) => ({ path: `event.${k}`, message: "unknown key" }))
          : [{ path: ["event", ...i.path.map(String)].join("."), message: i.message }],
      ),
    );
  }
  const e = parsed.data;
  const problems: InputProblem[] = [];
  for (const key of Object.keys(e.config)) {
    if (NOT_IN_EVENT[key]) problems.push({ path: `event.config.${key}`, message: `not used by the VPC probe: ${NOT_IN_EVENT[key]}` });
  }
  const keySecretId = e.keySecretId ?? env.HKEX_KEY_SECRET_ID;
  if (!keySecretId)
    problems.push({ path: "event.keySecretId", message: "is required (or set HKEX_KEY_SECRET_ID): the secret holding the login key" });
  const probe = e.probe ?? env.HKEX_PROBE_NAME ?? env.AWS_LAMBDA_FUNCTION_NAME ?? "vpc-probe";
  const probeOk = probeName.safeParse(probe);
  if (!probeOk.success) problems.push({ path: e.probe ? "event.probe" : "HKEX_PROBE_NAME", message: probeOk.error.issues[0]!.message });

  let config: Config | undefined;
  try {
    // The probe never reads these two paths: they only satisfy the file config's schema.
    const allowed = Object.fromEntries(Object.entries(e.config).filter(([k]) => !NOT_IN_EVENT[k]));
    config = normaliseConfig(
      { ...allowed, identityFile: "(secret)", knownHostsFile: "(event.knownHosts)", downloadDir: LAMBDA_DOWNLOAD_DIR },
      "event.config",
    );
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    problems.push(...err.problems.map((p) => ({ path: `event.config.${p.path}`, message: p.message })));
  }
  let knownHosts: KnownHostEntry[] = [];
  try {
    knownHosts = parseKnownHosts(e.knownHosts, "event.knownHosts");
    if (knownHosts.length === 0)
      problems.push({ path: "event.knownHosts", message: "has no host key lines: every host key would be unknown" });
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    problems.push(...err.problems);
  }
  if (e.download && config && !config.monitoring.allowDownload) {
    problems.push({ path: "event.download", message: "needs monitoring.allowDownload: true in event.config" });
  }
  if (problems.length > 0 || !config) throw new InputError(problems);
  return {
    config,
    knownHosts,
    sites: e.site === "all" ? SITE_NAMES : [e.site as SiteName],
    download: e.download,
    keySecretId: keySecretId!,
    probe,
  };
}
