/** Evidence tests: a hand-built session report, and a simulated facility with a config pointing at it (loopback only). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { EMAIL_TEMPLATE } from "../../catalogue";
import type { Config } from "../../checks/config";
import { confirmationEmail } from "../../checks/email";
import { loadUserKey, type UserKey } from "../../checks/keys";
import { parseKnownHosts, type KnownHostEntry } from "../../checks/knownHosts";
import type { DownloadRecord, EndpointReport, PhaseResult, Report } from "../../checks/report";
import { PHASES, summariseSites } from "../../checks/report";
import { startSimulator, type Fault, type RunningSimulator } from "../../checks/simulator";
import { makeConfig, newUserKey, tempDir } from "./facility";

const SHA_A = "a".repeat(64);
const SHA_B = "b".repeat(64);
const SHA_C = "c".repeat(64);
export const USER_KEY_FP = "SHA256:userKeyFingerprintAAAAAAAAAAAAAAAAAAAAAAAA";

function passed(start: string, ms: number[], skipDownload = false): PhaseResult[] {
  let t = Date.parse(start);
  return PHASES.map((name, i) => {
    if (name === "download" && skipDownload)
      return { name, status: "skip", ms: 0, code: "not-requested", cause: "not requested (run with --download)" };
    const took = ms[i] ?? 0;
    const r: PhaseResult = { name, status: "pass", ms: took, timeoutMs: 5000, startedAt: new Date(t).toISOString().replace("Z", "+00:00") };
    t += took;
    return r;
  });
}

function endpoint(
  site: "primary" | "secondary",
  host: string,
  part: EndpointReport["part"],
  startedAt: string,
  phases: PhaseResult[],
): EndpointReport {
  return {
    site,
    host,
    port: 18801,
    part,
    verdict: phases.some((p) => p.status === "fail") ? "fail" : "pass",
    startedAt,
    ms: phases.reduce((s, p) => s + p.ms, 0),
    banner: "SSH-2.0-HKEX",
    hostKey: {
      type: "ssh-ed25519",
      fingerprint: site === "primary" ? "SHA256:primaryHostKey" : "SHA256:secondaryHostKey",
      status: "match",
    },
    userKeyFingerprint: USER_KEY_FP,
    phases,
  };
}

/**
 * A session on 30 November 2024 inside the published windows: Part 1's
 * 10.152.14.142 fails at auth; TP002 from secondary differs from primary's.
 */
export function sessionReport(): Report {
  const failedAuth: PhaseResult[] = [
    ...passed("2024-11-30T12:05:00.000+08:00", [20, 10, 40]).slice(0, 3),
    {
      name: "auth",
      status: "fail",
      ms: 35,
      code: "auth-rejected",
      cause: 'server rejected publickey login for user "CP0001"',
      timeoutMs: 10000,
      startedAt: "2024-11-30T12:05:00.070+08:00",
    },
    ...(["sftp", "list", "download", "logout"] as const).map(
      (name): PhaseResult => ({ name, status: "skip", ms: 0, code: "earlier-phase-failed", cause: "not run: auth failed" }),
    ),
  ];
  const endpoints: EndpointReport[] = [
    endpoint(
      "primary",
      "10.151.14.141",
      "precheck",
      "2024-11-30T11:50:00.000+08:00",
      passed("2024-11-30T11:50:00.000+08:00", [10, 5, 30, 60, 5, 8, 0, 3], true),
    ),
    endpoint(
      "primary",
      "10.151.14.142",
      "precheck",
      "2024-11-30T11:50:00.000+08:00",
      passed("2024-11-30T11:50:00.000+08:00", [12, 6, 31, 61, 6, 9, 0, 4], true),
    ),
    endpoint(
      "secondary",
      "10.152.14.141",
      1,
      "2024-11-30T12:05:00.000+08:00",
      passed("2024-11-30T12:05:00.000+08:00", [20, 10, 40, 70, 6, 9, 900, 5]),
    ),
    endpoint("secondary", "10.152.14.142", 1, "2024-11-30T12:05:00.000+08:00", failedAuth),
    endpoint(
      "primary",
      "10.151.14.141",
      2,
      "2024-11-30T15:05:00.000+08:00",
      passed("2024-11-30T15:05:00.000+08:00", [11, 5, 30, 60, 5, 8, 800, 3]),
    ),
    endpoint(
      "primary",
      "10.151.14.142",
      2,
      "2024-11-30T15:05:00.000+08:00",
      passed("2024-11-30T15:05:00.000+08:00", [13, 6, 31, 61, 6, 9, 810, 4]),
    ),
  ];
  const dl = (site: "primary" | "secondary", host: string, part: 1 | 2, file: string, sha256: string, bytes: number): DownloadRecord => ({
    site,
    host,
    port: 18801,
    part,
    file,
    bytes,
    sha256,
    path: `/evidence/downloads/part${part}/${site}-${host}/${file}`,
    ms: 400,
  });
  const downloads = [
    dl("secondary", "10.152.14.141", 1, "TP001", SHA_A, 5120),
    dl("secondary", "10.152.14.141", 1, "TP002", SHA_C, 4096),
    dl("primary", "10.151.14.141", 2, "TP001", SHA_A, 5120),
    dl("primary", "10.151.14.141", 2, "TP002", SHA_B, 4097),
    dl("primary", "10.151.14.142", 2, "TP001", SHA_A, 5120),
    dl("primary", "10.151.14.142", 2, "TP002", SHA_B, 4097),
  ];
  const email = confirmationEmail({ date: "2024-11-30", completed: true, reasons: [], participant: "ABC Securities (CP0001)" });
  return {
    schemaVersion: 1,
    tool: { name: "hkex-ready", version: "0.1.0" },
    kind: "session",
    verdict: "fail",
    startedAt: "2024-11-30T11:50:00.000+08:00",
    finishedAt: "2024-11-30T15:06:00.000+08:00",
    from: { hostname: "ops-box", user: "ops" },
    config: "/etc/hkex/hkex.yaml",
    sites: summariseSites(endpoints),
    endpoints,
    downloads,
    warnings: ["a warning with <b>markup</b>"],
    session: {
      date: "2024-11-30",
      rehearsal: false,
      windows: [
        { part: 1, site: "secondary", start: "12:00", end: "14:00" },
        { part: 2, site: "primary", start: "15:00", end: "17:00" },
      ],
      windowsOf: { date: "2024-11-30", circular: "PT/OEC/SEOCH/293/2024", registrationDeadline: "2024-11-20" },
      completed: true,
      parts: [
        {
          part: "precheck",
          site: "primary",
          startedAt: "2024-11-30T11:50:00.000+08:00",
          finishedAt: "2024-11-30T11:50:00.200+08:00",
          status: "pass",
          userKeyFingerprint: USER_KEY_FP,
        },
        {
          part: 1,
          site: "secondary",
          window: { start: "12:00", end: "14:00" },
          startedAt: "2024-11-30T12:04:59.900+08:00",
          finishedAt: "2024-11-30T12:05:01.100+08:00",
          status: "degraded",
          withinWindow: true,
          userKeyFingerprint: USER_KEY_FP,
          switchover: {
            part: 1,
            file: "/home/ops/.ssh/config",
            alias: "hkex-rr",
            before: "10.151.14.141",
            after: "10.152.14.141",
            at: "2024-11-30T12:04:59.950+08:00",
          },
        },
        {
          part: 2,
          site: "primary",
          window: { start: "15:00", end: "17:00" },
          startedAt: "2024-11-30T15:04:59.900+08:00",
          finishedAt: "2024-11-30T15:05:01.000+08:00",
          status: "pass",
          withinWindow: true,
          userKeyFingerprint: USER_KEY_FP,
          switchover: {
            part: 2,
            file: "/home/ops/.ssh/config",
            alias: "hkex-rr",
            before: "10.152.14.141",
            after: "10.151.14.141",
            at: "2024-11-30T15:04:59.950+08:00",
          },
        },
      ],
      keyFingerprints: [USER_KEY_FP],
      sameKeyThroughout: true,
      hostNameAtEnd: "10.151.14.141",
      primaryRestored: true,
      reasons: [],
      email: { ...email, to: EMAIL_TEMPLATE.to },
    },
  };
}

export interface SimulatedSite {
  readonly sim: RunningSimulator;
  readonly dir: string;
  readonly config: Config;
  readonly key: UserKey;
  readonly knownHosts: readonly KnownHostEntry[];
  readonly sshConfig: string;
  readonly keyFile: string;
  close(): Promise<void>;
}

/** The four endpoints simulated on loopback (port 0), a user key, pinned host keys and an ssh client config to switch. */
export async function simulatedFacility(faults: Record<string, Fault> = {}, extra: Record<string, unknown> = {}): Promise<SimulatedSite> {
  const dir = tempDir("evidence");
  const key = newUserKey(dir);
  const sim = await startSimulator({ authorizedKeys: [key.publicLine], user: "CP0001", port: 0, faults });
  writeFileSync(join(dir, "known_hosts"), sim.knownHosts());
  const sshConfig = join(dir, "ssh_config");
  const primary = sim.endpoints.find((e) => e.site === "primary")!;
  writeFileSync(sshConfig, `Host hkex-rr\n  HostName ${primary.bindHost}\n  Port ${primary.port}\n`);
  const config = makeConfig(dir, {
    identityFile: key.privatePath,
    sites: sim.configSites(),
    sshConfig: { file: sshConfig, alias: "hkex-rr" },
    email: { from: "ops@participant.example", participant: "ABC Securities (CP0001)" },
    ...extra,
  });
  const knownHosts = parseKnownHosts(sim.knownHosts());
  return { sim, dir, config, key: loadUserKey(config, {}), knownHosts, sshConfig, keyFile: key.privatePath, close: () => sim.close() };
}
