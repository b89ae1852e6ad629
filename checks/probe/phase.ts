/**
 * What one phase of the probe's table is and sees (ProbePhase, PhaseContext):
 * its name, the timeout it runs under, what it needs from the phases before it
 * and what it yields to those after it, the causes it can report, and its run
 * function. The phases import only this (and the records they leave), never
 * the report or the table, whose phase names and cause codes derive from them.
 */
import type { Socket } from "node:net";
import type { ConnectConfig, SFTPWrapper } from "ssh2";
import type { PartNumber, SiteName } from "../../catalogue";
import type { Timeouts } from "../config";
import type { DownloadTuning, PhaseError } from "../download";
import type { UserKey } from "../keys";
import type { KnownHostEntry } from "../knownHosts";
import type { DownloadRecord, HostKeyRecord } from "../records";
import type { Handshake } from "./handshake";
import type { SshSession } from "./sshSession";

export interface ProbeTarget {
  readonly site: SiteName;
  readonly host: string;
  readonly port: number;
}

/** What a phase reads of the caller's options. */
export interface PhaseOptions {
  readonly target: ProbeTarget;
  readonly part?: PartNumber | "precheck";
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
  /**
   * `hkex-ready trust`: accept any host key, record it, stop after the key exchange. The key
   * recorded is the one negotiated, in OpenSSH's order (a type already pinned for the host first).
   */
  readonly trustOnly?: boolean;
  readonly algorithms?: ConnectConfig["algorithms"];
  readonly tuning?: DownloadTuning;
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
  /** banner: ssh2's key exchange, started as soon as the socket connected (handshake.ts). */
  readonly handshake: Handshake;
  /** hostkey: the ssh2 client, with the key exchange done and the host key verified. */
  readonly ssh: SshSession;
  /** sftp: the SFTP channel. */
  readonly sftp: SFTPWrapper;
  /** list: the files to download, chosen from the listing. */
  readonly files: readonly RemoteFile[];
  /** list: the quicker of its two round trips (milliseconds), from which the download sizes its channels. */
  readonly roundTripMs: number;
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
  readonly opts: PhaseOptions;
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
export interface PhaseSkip<C extends string = string> {
  readonly code: C;
  readonly cause: string;
}

/** Everything about a phase except the types of what it needs and yields. */
export interface PhaseShape<N extends string, Causes extends readonly string[]> {
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
  skip?(opts: PhaseOptions): PhaseSkip<Causes[number]> | undefined;
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
