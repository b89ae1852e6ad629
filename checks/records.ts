/**
 * The records a probe phase leaves for the report: a verified download and
 * the host key the server presented. They live apart from report.ts, which
 * takes its phase names and cause codes from the phase table, so that the
 * phases can name them without importing back up.
 */
import type { PartNumber, SiteName } from "../catalogue";

export interface DownloadRecord {
  readonly site: SiteName;
  readonly host: string;
  readonly port: number;
  readonly part?: PartNumber;
  /** Remote file name as listed (made printable). */
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  /** Where it was written locally. */
  readonly path: string;
  readonly ms: number;
  /** What happened to a file that already had this name. */
  readonly previous?: { readonly status: "identical" | "replaced"; readonly sha256: string };
}

export interface HostKeyRecord {
  readonly type?: string;
  readonly fingerprint: string;
  readonly status: "match" | "unknown" | "mismatch" | "revoked";
  readonly expected?: readonly string[];
}

/** The login key's decryption: once, when it is loaded, before any endpoint is contacted, never inside a phase's timeout. */
export interface KeyDecryptionRecord {
  readonly ms: number;
  /** decrypted, or the passphrase did not decrypt it (auth then fails with passphrase-wrong). */
  readonly status: "decrypted" | "wrong-passphrase";
}
