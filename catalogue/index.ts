/**
 * The one catalogue of the HKEX derivatives Report Retrieval SFTP facility.
 *
 * infra/, policies/ and checks/ all import these values; nothing else in the
 * project spells out the addresses, the port, the windows or the e-mail text.
 * Source: HKEX circular PT/OEC/SEOCH/293/2024 (21 October 2024) and its
 * information package (shared/seeds/000_347d5b8e0eb5065a.txt). Text quoted from
 * the circular is kept word for word.
 */

export const SFTP_PORT = 18801;
export const HKEX_TIME_ZONE = "Asia/Hong_Kong";

export type SiteName = "primary" | "secondary";
export const SITE_NAMES: readonly SiteName[] = ["primary", "secondary"];

/** One value per site, keyed by site name in catalogue order: how schemas spell out the sites without naming them. */
export function perSite<T>(valueFor: (site: SiteName) => T): Record<SiteName, T> {
  return Object.fromEntries(SITE_NAMES.map((site) => [site, valueFor(site)])) as Record<SiteName, T>;
}

export interface SiteDefinition {
  readonly name: SiteName;
  /** As the circular names it. */
  readonly dataCentre: string;
  readonly hosts: readonly string[];
  readonly port: number;
  /** The /24 that holds the site's hosts; routes and NACL rules use it. */
  readonly range: string;
}

export interface Endpoint {
  readonly site: SiteName;
  readonly host: string;
  readonly port: number;
}

export type SiteTable = Readonly<Record<SiteName, SiteDefinition>>;

export const HKEX_SITES: SiteTable = Object.freeze({
  primary: Object.freeze({
    name: "primary",
    dataCentre: "Primary Data Centre",
    hosts: Object.freeze(["10.151.14.141", "10.151.14.142"]),
    port: SFTP_PORT,
    range: "10.151.14.0/24",
  }),
  secondary: Object.freeze({
    name: "secondary",
    dataCentre: "Secondary Data Centre",
    hosts: Object.freeze(["10.152.14.141", "10.152.14.142"]),
    port: SFTP_PORT,
    range: "10.152.14.0/24",
  }),
} as const);

/** Every endpoint of the given sites, primary first, in catalogue order. */
export function endpointsOf(sites: SiteTable = HKEX_SITES, only?: readonly SiteName[]): Endpoint[] {
  const names = only ?? SITE_NAMES;
  return names.flatMap((site) => sites[site].hosts.map((host) => ({ site, host, port: sites[site].port })));
}

// ---------------------------------------------------------------------------
// Session schedule (Hong Kong time, "HH:MM" and ISO dates)

export type PartNumber = 1 | 2;

export interface PartWindow {
  readonly part: PartNumber;
  readonly site: SiteName;
  readonly start: string;
  readonly end: string;
  /** As the circular's rundown labels it. */
  readonly title: string;
}

export interface SessionDay {
  readonly date: string;
  readonly registrationDeadline: string;
  readonly parts: readonly PartWindow[];
  /** The reference of the HKEX circular that announced the day. */
  readonly circular: string;
}

export const SESSION_PARTS: readonly PartWindow[] = Object.freeze([
  Object.freeze({ part: 1, site: "secondary", start: "12:00", end: "14:00", title: "Part 1 - Secondary Data Centre" }),
  Object.freeze({ part: 2, site: "primary", start: "15:00", end: "17:00", title: "Part 2 - Primary Data Centre" }),
] as const);

/**
 * The days of circular PT/OEC/SEOCH/293/2024. HKEX runs such sessions again
 * with new circulars: the config's `sessionDays` gives the next ones, and these
 * are its default.
 */
export const SESSION_DAYS: readonly SessionDay[] = Object.freeze([
  Object.freeze({ date: "2024-11-16", registrationDeadline: "2024-11-06", parts: SESSION_PARTS, circular: "PT/OEC/SEOCH/293/2024" }),
  Object.freeze({ date: "2024-11-30", registrationDeadline: "2024-11-20", parts: SESSION_PARTS, circular: "PT/OEC/SEOCH/293/2024" }),
]);

/** The site the CP's client must point at when the day is over. */
export const NEXT_BUSINESS_DAY_SITE: SiteName = "primary";

// ---------------------------------------------------------------------------
// The circular's words

export const CIRCULAR = Object.freeze({
  reference: "PT/OEC/SEOCH/293/2024",
  date: "2024-10-21",
  subject: "Upgraded Report Retrieval Solution for Derivatives Markets – Secondary Data Centre Connectivity Sessions",
  hotline: "2979 7222",
  email: "clearingpsd@hkex.com.hk",
  keyRenewal: "CPs please DO NOT renew SSH keys during the Connectivity Sessions.",
  keepPrimary:
    "Upon completion of the Connectivity Session(s), CPs should keep the primary IP addresses for production use on the next business day.",
});

/**
 * The prescribed e-mail template (information package, section 4). "[]" is
 * the day of the month the CP fills in; the kit replaces "[] November 2024"
 * with the actual session date.
 */
export const EMAIL_TEMPLATE = Object.freeze({
  to: CIRCULAR.email,
  subject:
    "Confirmation - Secondary Data Centre Connectivity Test Session for the upgraded Report Retrieval Solution for Derivatives Markets",
  completed:
    "We have participated in and successfully completed the Secondary Data Centre Connectivity Test Session for the upgraded Report Retrieval Solution for Derivatives Markets on [] November 2024.",
  notCompleted:
    "We did NOT complete the Secondary Data Centre Connectivity Test Session for the upgraded Report Retrieval Solution for Derivatives Markets on [] November 2024 due to the following reasons:",
  datePlaceholder: "[] November 2024",
});

/** Section 5 of the information package, word for word. */
export const WEATHER_RULES = Object.freeze({
  cancelAt: "09:00",
  terminateAfterMinutes: 15,
  cancelled:
    "If Typhoon Signal No. 8 (or above) or Extreme Conditions or Black Rainstorm Warning is issued or continue to be in force at or after 9:00 a.m. on either day of the Connectivity Session, the Connectivity Session will be cancelled and will not be resumed for the rest of the day.",
  terminated:
    "In case Typhoon Signal No. 8 (or above) or Extreme Conditions is issued after the start of the Connectivity Session, the Connectivity Session will be terminated 15 minutes thereafter.",
  blackRainstormDuring:
    "In case Black Rainstorm Warning is issued during the Connectivity Session, all scheduled activities of the Connectivity Session will continue as normal.",
});

// How every output names an endpoint and a step of the session: the text
// summary, TAP, JUnit, report.html, the progress display, trust, the policy
// pack's messages. One spelling, here, next to the facts it names.

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
