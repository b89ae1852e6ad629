/**
 * What a `GET /probe` may ask for, checked against the config before anything
 * is contacted. Only names the config already holds are accepted: a site
 * (primary, secondary, all) and, optionally, one of that site's configured
 * hosts. No parameter can name an address of its own choosing, so an exporter
 * cannot be turned into a scanner of other hosts.
 */
import { SITE_NAMES, type SiteName } from "../../catalogue";
import type { Config, TargetHost } from "../config";

export type SiteParam = SiteName | "all";

export interface ProbeRequest {
  readonly site: SiteParam;
  readonly sites: readonly SiteName[];
  /** One configured endpoint of the site, when `host` was given. */
  readonly only?: TargetHost & { readonly site: SiteName };
  readonly download: boolean;
  /** Requests with the same key share one probe. */
  readonly key: string;
}

/** Why a request is refused: the HTTP status and a sentence naming the parameter. */
export interface RequestProblem {
  readonly status: 400 | 403;
  readonly message: string;
}

const PARAMS = ["site", "host", "download"] as const;
const MAX_PARAM_CHARS = 128;

function printableParam(v: string): string {
  const cut = v.length > 40 ? `${v.slice(0, 40)}…` : v;
  return JSON.stringify(cut);
}

/** "10.0.0.1", "10.0.0.1:2222", "[::1]:2222": the forms a config's hosts take, matched exactly. */
function matchesTarget(value: string, t: TargetHost): boolean {
  const bracketed = t.host.includes(":") ? `[${t.host}]` : t.host;
  return value === t.host || value === `${t.host}:${t.port}` || value === `${bracketed}:${t.port}` || value === bracketed;
}

export function parseProbeRequest(query: URLSearchParams, config: Config): ProbeRequest | RequestProblem {
  for (const name of new Set(query.keys())) {
    if (!(PARAMS as readonly string[]).includes(name)) {
      return { status: 400, message: `${printableParam(name)} is not a parameter of /probe (site, host, download)` };
    }
    if (query.getAll(name).length > 1) return { status: 400, message: `${name}: given more than once` };
  }
  for (const [name, value] of query) {
    if (value.length > MAX_PARAM_CHARS) return { status: 400, message: `${name}: longer than ${MAX_PARAM_CHARS} characters` };
  }
  const siteValue = query.get("site");
  if (siteValue === null || siteValue === "") return { status: 400, message: "site: required (primary, secondary or all)" };
  if (siteValue !== "all" && !(SITE_NAMES as readonly string[]).includes(siteValue)) {
    return { status: 400, message: `site: ${printableParam(siteValue)} is not primary, secondary or all` };
  }
  const site = siteValue as SiteParam;
  const sites = site === "all" ? SITE_NAMES : [site];

  let only: ProbeRequest["only"];
  const hostValue = query.get("host");
  if (hostValue !== null) {
    const found = sites.flatMap((s) => config.sites[s].targets.map((t) => ({ ...t, site: s }))).find((t) => matchesTarget(hostValue, t));
    if (!found) {
      return {
        status: 400,
        message: `host: ${printableParam(hostValue)} is not an endpoint of ${site === "all" ? "any site" : `site ${site}`} in the config; nothing was contacted`,
      };
    }
    only = found;
  }

  const downloadValue = query.get("download");
  let download = false;
  if (downloadValue !== null) {
    if (["1", "true"].includes(downloadValue)) download = true;
    else if (!["0", "false"].includes(downloadValue)) {
      return { status: 400, message: `download: ${printableParam(downloadValue)} is not 1, true, 0 or false` };
    }
  }
  if (download && !config.monitoring.allowDownload) {
    return {
      status: 403,
      message: "download: downloads on scrape are off; set monitoring.allowDownload: true in the config to allow them",
    };
  }
  const key = `${site}|${only ? `${only.site}/${only.host}:${only.port}` : "*"}|${download ? "download" : "list"}`;
  return { site, sites: only ? [only.site] : sites, ...(only ? { only } : {}), download, key };
}

/**
 * How long a probe may take: the scrape's timeout
 * (`X-Prometheus-Scrape-Timeout-Seconds`, which Prometheus sends with every
 * scrape) less a margin for the answer to travel back, as blackbox_exporter's
 * `--timeout-offset` does. Undefined without the header: the config's
 * timeouts alone bound the probe.
 */
export function probeBudgetMs(header: string | string[] | undefined, marginMs: number): number | RequestProblem | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header[0]! : header;
  const seconds = Number(text);
  if (text.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
    return { status: 400, message: `X-Prometheus-Scrape-Timeout-Seconds: ${printableParam(text)} is not a positive number of seconds` };
  }
  const timeoutMs = seconds * 1000;
  // A very short scrape timeout still leaves the probe half of it.
  return Math.max(1, Math.round(Math.max(timeoutMs - marginMs, timeoutMs / 2)));
}
