/**
 * Whether a host is this machine: 127.0.0.0/8 (Linux routes all of it to the
 * loopback interface, so aliases such as 127.0.151.141 count), ::1, an
 * IPv4-mapped ::ffff:127.x.y.z, or the name "localhost". Other names are
 * refused, because resolving them could lead anywhere. The exporter's listen
 * check and the test harness's loopback guard both ask this.
 */
import { isIP } from "node:net";

export function isLoopbackAddress(host: string): boolean {
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
