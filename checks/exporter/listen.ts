/**
 * Where the exporter listens. Every `/probe` request makes this machine log in
 * to HKEX, so by default only this machine may ask: a non-loopback address is
 * refused unless the operator says --allow-remote (and puts a firewall or a
 * reverse proxy with authentication in front; docs/monitoring.md).
 */
import { isIP } from "node:net";
import { isLoopbackAddress } from "../../core/loopback";
import { InputError } from "../../core/errors";

const DEFAULT_LISTEN = "127.0.0.1:9918";

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** "127.0.0.1:9918", "[::1]:9918", "0.0.0.0:9918", "localhost:9918". */
export function parseListen(value: string, allowRemote: boolean): ListenAddress {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:[\]]+):(\d+)$/.exec(value);
  if (!m) throw new InputError({ path: "--listen", message: `"${value}" is not HOST:PORT (e.g. 127.0.0.1:9918 or [::1]:9918)` });
  const host = m[1]!;
  const port = Number(m[2]);
  if (host !== "localhost" && isIP(host) === 0) {
    throw new InputError({ path: "--listen", message: `"${host}" is not an IP address (or localhost)` });
  }
  if (!Number.isInteger(port) || port > 65535)
    throw new InputError({ path: "--listen", message: `port ${m[2]} is out of range (0-65535)` });
  if (!allowRemote && !isLoopbackAddress(host)) {
    throw new InputError({
      path: "--listen",
      message: `${value} is reachable from other machines, and every scrape logs in to HKEX: add --allow-remote to listen there (behind a firewall), or listen on loopback (${DEFAULT_LISTEN})`,
    });
  }
  return { host, port };
}
