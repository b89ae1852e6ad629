import { isIP } from "node:net";
import { isLoopbackAddress } from "../../core/loopback";

/**
 * The test harness may only bind to or connect to this machine: the kit's own
 * loopback test (core/loopback.ts), aliases such as 127.0.151.141 included.
 */
export const isLoopbackHost = isLoopbackAddress;

/** Throws unless `host` is a loopback address; `field` names the option in the message. */
export function assertLoopbackHost(field: string, host: string): void {
  if (!isLoopbackHost(host)) {
    throw new Error(
      `'${field}' must be a loopback address (127.0.0.0/8, ::1 or localhost), got '${host}': the test harness never touches other hosts.`,
    );
  }
}

/** How a host is written in "host:port" forms such as sshd's ListenAddress and known_hosts. */
export function bracketIfIpv6(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}
