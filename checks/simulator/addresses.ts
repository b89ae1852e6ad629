/**
 * Where the simulator listens. Each catalogue host a.b.c.d gets the loopback
 * alias 127.0.b.d, so 10.151.14.141 becomes 127.0.151.141: the two sites stay
 * apart by their second octet and the hosts by their last, and Linux routes
 * the whole of 127.0.0.0/8 to the loopback interface without any setup.
 */
import { isIP } from "node:net";

export const LOCALHOST = "127.0.0.1";

export function loopbackAliasFor(host: string): string {
  if (isIP(host) !== 4) throw new Error(`'${host}' is not an IPv4 address, so it has no 127.0.b.d loopback alias`);
  const [, b, , d] = host.split(".");
  return `127.0.${Number(b)}.${Number(d)}`;
}

/** A `sites.<name>.hosts` entry for the config: "127.0.151.141:40123". */
export function hostPortEntry(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
