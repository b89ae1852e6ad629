/**
 * The report seen as rows: one per endpoint run and phase, the way the CI
 * formats, the HTML matrix and the metrics all count. A skip stays a skip.
 */
import type { RunPart } from "../../catalogue";
import type { DownloadRecord, EndpointReport, PhaseResult, Report } from "../report";

/**
 * After `session --part 1` the session is not over yet: Part 2 has no entry.
 * "Not completed" is then not a failure, only not yet known.
 */
export function sessionPending(report: Report): boolean {
  return report.session !== undefined && !report.session.parts.some((p) => p.part === 2) && !report.interrupted;
}

export interface PhaseRow {
  readonly endpoint: EndpointReport;
  readonly phase: PhaseResult;
}

export function phaseRows(report: Report): PhaseRow[] {
  return report.endpoints.flatMap((endpoint) => endpoint.phases.map((phase) => ({ endpoint, phase })));
}

/** The endpoint runs grouped by part, in the order they ran. */
export function runsByPart(report: Report): { part: RunPart; endpoints: EndpointReport[] }[] {
  const groups: { part: RunPart; endpoints: EndpointReport[] }[] = [];
  for (const e of report.endpoints) {
    const g = groups.find((x) => x.part === e.part);
    if (g) g.endpoints.push(e);
    else groups.push({ part: e.part, endpoints: [e] });
  }
  return groups;
}

export interface FileCopy {
  readonly part?: DownloadRecord["part"];
  readonly site: DownloadRecord["site"];
  readonly host: string;
  readonly port: number;
  readonly bytes: number;
  readonly sha256: string;
}

export interface FileComparison {
  readonly file: string;
  readonly copies: readonly FileCopy[];
  /**
   * identical: every copy from both sites has the same SHA-256; different: at
   * least two copies differ (flagged); single-site: downloaded from one site
   * only, so there is nothing to compare across sites.
   */
  readonly status: "identical" | "different" | "single-site";
}

/** The same file name from primary and secondary should hash the same. */
export function compareDownloads(downloads: readonly DownloadRecord[]): FileComparison[] {
  const byName = new Map<string, FileCopy[]>();
  for (const d of downloads) {
    const copies = byName.get(d.file) ?? [];
    copies.push({
      ...(d.part !== undefined ? { part: d.part } : {}),
      site: d.site,
      host: d.host,
      port: d.port,
      bytes: d.bytes,
      sha256: d.sha256,
    });
    byName.set(d.file, copies);
  }
  return [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([file, copies]) => {
      const hashes = new Set(copies.map((c) => c.sha256));
      const sites = new Set(copies.map((c) => c.site));
      const status = hashes.size > 1 ? "different" : sites.size > 1 ? "identical" : "single-site";
      return { file, copies, status };
    });
}
