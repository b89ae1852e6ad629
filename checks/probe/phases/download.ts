/**
 * download: fetches the chosen files side by side over the endpoint's one
 * connection, each verified (checks/download.ts). Needs the SFTP channel, the
 * chosen files and the round trip the listing measured; yields nothing.
 * Skipped when the caller did not ask for downloads.
 */
import type { SFTPWrapper } from "ssh2";
import { downloadVerified, ensureDownloadDir, PhaseError } from "../../download";
import type { DownloadRecord } from "../../records";
import { fromCallback } from "../../../core/callback";
import { printable } from "../../../core/text";
import { timedOut, unlessConnectionEnded } from "../errors";
import type { PhaseContext, ProbePhase, RemoteFile } from "../phase";

const causes = [
  "unsafe-name",
  "connection-lost",
  "transfer-timeout",
  "size-mismatch",
  "file-too-large",
  "file-missing",
  "permission-denied",
  "local-folder",
  "disk-full",
  "local-write",
  "not-requested",
  "cancelled",
] as const;

export const download: ProbePhase<"download", "ssh" | "sftp" | "files" | "roundTripMs", never, typeof causes> = {
  name: "download",
  timeout: "transferMs",
  needs: ["ssh", "sftp", "files", "roundTripMs"],
  yields: [],
  causes,
  inTrustRun: false,
  afterLogin: true,
  // Each download removes its temporary file on the phase's signal; the probe leaves the connection be.
  cleansUpOnAbort: true,
  timeoutError: (ms) => timedOut("download", ms, "transfer-timeout"),
  connectionSurvives: unlessConnectionEnded,
  skip: (opts) =>
    opts.download ? undefined : { code: "not-requested", cause: opts.downloadSkipReason ?? "not requested (run with --download)" },
  // No ssh.wait here: waiting for downloadVerified itself guarantees its
  // temporary file is gone. A dropped connection fails the pending SFTP reads,
  // and `lost` stops a download that is between two requests (or has not sent
  // its first): a request sent after the drop would never be answered.
  async run({ ssh, sftp, files, roundTripMs }, ctx) {
    await ensureDownloadDir(ctx.opts.downloadDir);
    // More SFTP channels over the same connection (one login), for a long line (checks/download.ts).
    const openChannel = () => fromCallback<SFTPWrapper>((cb) => ssh.client.sftp(cb));
    const lost = new AbortController();
    const stopWatching = ssh.onFailure((err) => lost.abort(err));
    const signal = AbortSignal.any([ctx.signal, lost.signal]);
    try {
      const session = { sftp, openChannel, roundTripMs, signal, lost: lost.signal };
      const settled = await Promise.allSettled(files.map((f) => fetchOne(session, f, ctx)));
      for (const one of settled) if (one.status === "fulfilled") ctx.evidence.downloads.push(one.value);
      const failure = settled.find((one): one is PromiseRejectedResult => one.status === "rejected");
      if (failure) throw failure.reason;
      return {};
    } finally {
      stopWatching();
    }
  },
};

interface DownloadSession {
  readonly sftp: SFTPWrapper;
  readonly openChannel: () => Promise<SFTPWrapper>;
  readonly roundTripMs: number;
  /** The phase's signal, also aborted when the connection is lost. */
  readonly signal: AbortSignal;
  readonly lost: AbortSignal;
}

async function fetchOne(session: DownloadSession, f: RemoteFile, ctx: PhaseContext): Promise<DownloadRecord> {
  const { opts, target: t } = ctx;
  const { lost, ...request } = session;
  const started = performance.now();
  const r = await downloadVerified({
    ...request,
    remotePath: f.path,
    name: f.name,
    localDir: opts.downloadDir,
    expectedSize: f.size,
    ...opts.tuning,
  }).catch((err: unknown) => {
    if (!lost.aborted || err !== lost.reason) throw err;
    throw new PhaseError("connection-lost", `${printable(f.name)}: connection lost mid-transfer (${(err as Error).message})`);
  });
  return {
    site: t.site,
    host: t.host,
    port: t.port,
    ...(typeof opts.part === "number" ? { part: opts.part } : {}),
    file: printable(f.name),
    bytes: r.bytes,
    sha256: r.sha256,
    path: r.path,
    ms: Math.round(performance.now() - started),
    ...(r.previous ? { previous: r.previous } : {}),
  };
}
