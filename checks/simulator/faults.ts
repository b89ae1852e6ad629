/**
 * The fault switches of the simulator. Each one breaks exactly one layer so
 * that a check can be shown to name that layer (tcp, banner, hostkey, auth,
 * sftp, list, download) when the real facility misbehaves the same way.
 */
import { HKEX_SITES, SITE_NAMES, type SiteTable } from "../../catalogue";
import { InputError, type InputProblem } from "../../core/errors";
import { printable } from "../../core/text";
import type { PhaseName } from "../report";

export type Fault =
  | "down"
  | "refuse"
  | "silent"
  | "blackhole"
  | "non-ssh-banner"
  | "close-during-kex"
  | "no-common-algorithm"
  | "hostkey-changed"
  | "reject-auth"
  | "sftp-refused"
  | "folder-missing"
  | "file-missing"
  | "permission-denied"
  | "drop-mid-transfer"
  | "stall-mid-transfer"
  | "grow-during-download"
  | "symlink-escape";

export interface FaultDescription {
  readonly fault: Fault;
  /** The layer a client should see break first. */
  readonly layer: PhaseName;
  readonly description: string;
}

export const FAULTS: readonly FaultDescription[] = Object.freeze([
  { fault: "down", layer: "tcp", description: "nothing listens on the port: connect() fails at once with ECONNREFUSED" },
  {
    fault: "refuse",
    layer: "tcp",
    description: "the TCP connection is accepted, then reset (RST) before a byte is sent: the client sees ECONNRESET, not ECONNREFUSED",
  },
  { fault: "silent", layer: "banner", description: "accepts TCP and never sends a byte (no SSH identification line)" },
  {
    fault: "blackhole",
    layer: "tcp",
    description: "SYNs are never answered, like a firewall that drops: connect() hangs until the client's own timeout",
  },
  {
    fault: "non-ssh-banner",
    layer: "banner",
    description: 'answers "HTTP/1.1 400 Bad Request" and closes, as a wrong service on the port would',
  },
  {
    fault: "close-during-kex",
    layer: "hostkey",
    description: "sends a valid SSH identification line, then closes as soon as the client starts the key exchange",
  },
  {
    fault: "no-common-algorithm",
    layer: "hostkey",
    description: "offers only diffie-hellman-group1-sha1 key exchange, which current clients refuse, so the handshake fails",
  },
  { fault: "hostkey-changed", layer: "hostkey", description: "presents a host key other than the one in knownHosts()" },
  { fault: "reject-auth", layer: "auth", description: "rejects every authentication attempt, even with an authorised key" },
  { fault: "sftp-refused", layer: "sftp", description: "authenticates, then rejects the sftp subsystem request" },
  { fault: "folder-missing", layer: "list", description: "the remote folder does not exist (NO_SUCH_FILE)" },
  { fault: "file-missing", layer: "list", description: "TP002 is absent from the remote folder" },
  { fault: "permission-denied", layer: "download", description: "the folder lists, but opening any file returns PERMISSION_DENIED" },
  {
    fault: "drop-mid-transfer",
    layer: "download",
    description: "once a read reaches half of a file, the connection is reset; nothing after the first half is sent",
  },
  {
    fault: "stall-mid-transfer",
    layer: "download",
    description: "reads below half of a file are answered, reads from half onwards never are; the connection stays open",
  },
  {
    fault: "grow-during-download",
    layer: "download",
    description: "after the first read of a file, it serves more bytes than the size STAT and the listing reported",
  },
  {
    fault: "symlink-escape",
    layer: "list",
    description: "the folder also holds TP003, a symlink to /etc/passwd (a fake one: the host's files are never served)",
  },
] satisfies FaultDescription[]);

export const FAULT_NAMES: readonly Fault[] = Object.freeze(FAULTS.map((f) => f.fault));

function isFault(value: string): value is Fault {
  return (FAULT_NAMES as readonly string[]).includes(value);
}

/** Faults that change what listens on the port, so switching them re-binds the listener. */
export function isListenerFault(fault: Fault | "none"): boolean {
  return fault === "down" || fault === "blackhole";
}

function catalogueHosts(sites: SiteTable): string[] {
  return SITE_NAMES.flatMap((name) => sites[name].hosts);
}

/** Checks a host-to-fault map; every problem is reported at once under `path`. */
export function validateFaults(
  faults: Readonly<Record<string, string>>,
  sites: SiteTable = HKEX_SITES,
  path = "faults",
): Record<string, Fault> {
  const hosts = catalogueHosts(sites);
  const problems: InputProblem[] = [];
  const out: Record<string, Fault> = {};
  for (const [host, fault] of Object.entries(faults)) {
    if (!hosts.includes(host))
      problems.push({
        path: `${path}.${printable(host)}`,
        message: `unknown host "${printable(host)}" (the endpoints are ${hosts.join(", ")})`,
      });
    else if (!isFault(fault))
      problems.push({
        path: `${path}.${printable(host)}`,
        message: `unknown fault "${printable(fault)}" (one of ${FAULT_NAMES.join(", ")})`,
      });
    else out[host] = fault;
  }
  if (problems.length > 0) throw new InputError(problems);
  return out;
}

/** Parses repeated `--fault host=fault` values, e.g. "10.152.14.142=refuse". */
export function parseFaultFlags(values: readonly string[], sites: SiteTable = HKEX_SITES): Record<string, Fault> {
  const hosts = catalogueHosts(sites);
  const problems: InputProblem[] = [];
  const out: Record<string, Fault> = {};
  for (const value of values) {
    const eq = value.indexOf("=");
    const host = eq < 0 ? "" : value.slice(0, eq).trim();
    const fault = eq < 0 ? "" : value.slice(eq + 1).trim();
    if (eq < 0 || host === "" || fault === "") {
      problems.push({ path: "--fault", message: `"${printable(value)}" is not host=fault (e.g. ${hosts.at(-1) ?? "<host>"}=refuse)` });
    } else if (!hosts.includes(host)) {
      problems.push({
        path: "--fault",
        message: `"${printable(value)}": unknown host "${printable(host)}" (the endpoints are ${hosts.join(", ")})`,
      });
    } else if (!isFault(fault)) {
      problems.push({
        path: "--fault",
        message: `"${printable(value)}": unknown fault "${printable(fault)}" (one of ${FAULT_NAMES.join(", ")})`,
      });
    } else if (host in out && out[host] !== fault) {
      problems.push({ path: "--fault", message: `"${printable(value)}": ${host} already has fault "${out[host]}"` });
    } else {
      out[host] = fault;
    }
  }
  if (problems.length > 0) throw new InputError(problems);
  return out;
}
