/**
 * How every output names an endpoint and a step of the session: the text
 * summary, TAP, JUnit, report.html, the progress display, trust, the policy
 * pack's messages. One spelling, here, next to the facts it names.
 */
import { HKEX_SITES, SESSION_PARTS, type Endpoint, type PartNumber } from "./index";

/** A step of the connectivity session: the kit's primary pre-check, then the circular's two parts. */
export type SessionStep = PartNumber | "precheck";

/** The step an endpoint run belongs to; undefined for a plain readiness check. */
export type RunPart = SessionStep | undefined;

/**
 * "10.151.14.141:18801". An IPv6 address goes in brackets, "[::1]:18802", as
 * URIs (RFC 3986, section 3.2.2) and OpenSSH write it; otherwise the port
 * would read as the address's last group. A host name never holds a colon.
 */
export function hostPort(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** "primary 10.151.14.141:18801". */
export function endpointLabel(e: Pick<Endpoint, "site" | "host" | "port">): string {
  return `${e.site} ${hostPort(e.host, e.port)}`;
}

/** "Pre-check", "Part 1", "Part 2"; "Check" for a plain readiness check. */
export function partTitle(part: RunPart): string {
  if (part === undefined) return "Check";
  return part === "precheck" ? "Pre-check" : `Part ${part}`;
}

/** "pre-check", "Part 1": the step inside a sentence ("pre-check primary pass 2/2"). */
export function partInline(part: SessionStep): string {
  return part === "precheck" ? "pre-check" : `Part ${part}`;
}

/** "precheck", "part1", "part2" or "check": for ids, data attributes, metric labels and JUnit class names. */
export function partKey(part: RunPart): string {
  if (part === undefined) return "check";
  return part === "precheck" ? "precheck" : `part${part}`;
}

/** "Part 1 (Secondary Data Centre)": the part with the data centre the circular schedules it on. */
export function partWithDataCentre(part: PartNumber): string {
  const window = SESSION_PARTS.find((w) => w.part === part);
  return window ? `${partTitle(part)} (${HKEX_SITES[window.site].dataCentre})` : partTitle(part);
}
