/**
 * The shapes the probe is built from: what a caller asks for (ProbeOptions)
 * and gets back (ProbeResult), and what one phase of the table is (ProbePhase):
 * its name, the timeout it runs under, what it needs from the phases before
 * it and what it yields to those after it, the causes it can report, and its
 * run function.
 */
import type { Socket } from "node:net";
import type { ConnectConfig, SFTPWrapper } from "ssh2";
import type { SiteName } from "../../catalogue";
import type { Timeouts } from "../config";
import type { DownloadTuning, PhaseError } from "../download";
import type { UserKey } from "../keys";
import type { KnownHostEntry } from "../knownHosts";
import type { CauseCode, DownloadRecord, EndpointReport, HostKeyRecord, PartReport, PhaseName, PhaseResult } from "../report";
import type { SshSession } from "./sshSession";

export interface ProbeTarget {
  readonly site: SiteName;
  readonly host: string;
  readonly port: number;
}

export type PhaseEvent =
  | { readonly kind: "start"; readonly target: ProbeTarget; readonly phase: PhaseName }
  | { readonly kind: "end"; readonly target: ProbeTarget; readonly result: PhaseResult };

export interface ProbeOptions {
  readonly target: ProbeTarget;
  readonly part?: PartReport["part"];
  readonly user: string;
  readonly key: UserKey;
  readonly knownHosts: readonly KnownHostEntry[];
  /** The resolved path the pins came from, for the messages. */
  readonly knownHostsFile?: string;
  readonly timeouts: Timeouts;
  readonly remoteDir: string;
  readonly files: readonly string[];
  /** Without it the probe stops after `list` (download is a skip, logout still runs). */
  readonly download: boolean;
  /** This endpoint's own download folder. */
  readonly downloadDir: string;
  /** Why `download` is skipped when not asked for, in the caller's words. */
  readonly downloadSkipReason?: string;
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: PhaseEvent) => void;
  /**
   * `hkex-ready trust`: accept any host key, record it, stop after the key exchange. The key
   * recorded is the one negotiated, in OpenSSH's order (a type already pinned for the host first).
   */
  readonly trustOnly?: boolean;
  readonly algorithms?: ConnectConfig["algorithms"];
  readonly tuning?: DownloadTuning;
}

export interface ProbeResult {
  readonly report: EndpointReport;
  readonly downloads: readonly DownloadRecord[];
  /** The raw host key blob presented, for `trust`. */
  readonly presentedHostKey?: Buffer;
}

/** A remote file chosen by `list` for `download`. */
export interface RemoteFile {
  readonly name: string;
  readonly path: string;
  readonly size: number;
}

/** What phases hand on to later phases; each is yielded by exactly one phase. */
export interface PhaseProducts {
  /** tcp: the connected socket. */
  readonly socket: Socket;
  /** banner: the server's SSH identification line (printable). */
  readonly banner: string;
  /** hostkey: the ssh2 client, with the key exchange done and the host key verified. */
  readonly ssh: SshSession;
  /** sftp: the SFTP channel. */
  readonly sftp: SFTPWrapper;
  /** list: the files to download, chosen from the listing. */
  readonly files: readonly RemoteFile[];
}

export type ProductName = keyof PhaseProducts;

/**
 * What the report shows beside the phase results. Unlike products, these are
 * kept when the phase that found them fails (a mismatching host key, the
 * listing of a folder without the wanted file, the files downloaded before
 * another one failed).
 */
export interface Evidence {
  hostKey?: HostKeyRecord;
  presentedHostKey?: Buffer;
  listing?: string[];
  readonly downloads: DownloadRecord[];
}

/** Something the probe opened and must close when it ends (or when a phase is aborted). */
export interface Closeable {
  destroy(): void;
}

/** What a phase's run function is given besides its inputs. */
export interface PhaseContext {
  readonly opts: ProbeOptions;
  readonly target: ProbeTarget;
  /** Aborted on the phase's timeout (with its timeout error) or on the caller's signal (interrupted). */
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  readonly evidence: Evidence;
  /** Hands a socket or client to the probe, which closes it on abort and at the end. */
  own(resource: Closeable): void;
  /** An ssh2 error, named as a failure of this phase. */
  sshError(err: unknown): PhaseError;
}

/** What to do instead of running a phase. */
export interface PhaseSkip {
  readonly code: CauseCode;
  readonly cause: string;
}

/** Everything about a phase except the types of what it needs and yields. */
interface PhaseShape<N extends string, Causes extends readonly string[]> {
  readonly name: N;
  /** Which of the config's timeouts applies. */
  readonly timeout: keyof Timeouts;
  /** The cause codes this phase reports; the report's CauseCode is the union of every phase's. */
  readonly causes: Causes;
  /** Part of `hkex-ready trust`, which stops after the key exchange. */
  readonly inTrustRun: boolean;
  /** Runs inside the logged-in session: a dropped connection here is `connection-lost`. */
  readonly afterLogin: boolean;
  /** How the cause names what the phase was doing ("during key exchange"); the phase name by default. */
  readonly activity?: string;
  /** What the phase fails with when it runs past its timeout. */
  timeoutError(timeoutMs: number, target: ProbeTarget): PhaseError;
  /**
   * Whether the session is still up after this phase failed with `error`, so
   * that the clean-up phases still run. Absent: it is not.
   */
  connectionSurvives?(error: PhaseError): boolean;
  /** A clean-up phase (logout) also runs after a failure the connection survived. */
  readonly cleanup?: boolean;
  /** The phase removes what it made itself when aborted; otherwise the probe closes the connection. */
  readonly cleansUpOnAbort?: boolean;
  /** A reason not to run at all, though nothing failed. */
  skip?(opts: ProbeOptions): PhaseSkip | undefined;
}

/**
 * One phase of the table. `Need` and `Give` name the products it takes and
 * hands on; `needs` and `yields` list them again for the runner.
 */
export interface ProbePhase<N extends string, Need extends ProductName, Give extends ProductName, Causes extends readonly string[]>
  extends PhaseShape<N, Causes> {
  readonly needs: readonly Need[];
  readonly yields: readonly Give[];
  run(input: Pick<PhaseProducts, Need>, ctx: PhaseContext): Promise<Pick<PhaseProducts, Give>>;
}

/** A phase as the runner sees it, whatever it needs and yields. */
export interface RunnablePhase extends PhaseShape<PhaseName, readonly string[]> {
  readonly needs: readonly ProductName[];
  readonly yields: readonly ProductName[];
  run(input: Partial<PhaseProducts>, ctx: PhaseContext): Promise<Partial<PhaseProducts>>;
}
