import { isIP } from "node:net";

/**
 * The test harness may only bind to or connect to this machine. Linux routes
 * all of 127.0.0.0/8 to the loopback interface, so aliases such as
 * 127.0.151.141 are allowed; names other than "localhost" are refused because
 * resolving them could lead anywhere.
 */
export function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  const family = isIP(host);
  if (family === 4) return host.split(".")[0] === "127";
  if (family === 6) {
    const lower = host.toLowerCase();
    if (lower === "::1" || lower === "0:0:0:0:0:0:0:1") return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    return mapped !== null && isIP(mapped[1]!) === 4 && mapped[1]!.split(".")[0] === "127";
  }
  return false;
}

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
