/** Small pieces of markup and Hong Kong time formatting shared by the sections of report.html. */
import { DateTime } from "luxon";
import { HKEX_TIME_ZONE } from "../../../catalogue";
import type { PhaseResult } from "../../report";

/** Text as HTML: the five characters that could start markup or end an attribute, as entities. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export function hk(iso: string): DateTime {
  return DateTime.fromISO(iso, { zone: HKEX_TIME_ZONE });
}

export function clock(iso: string | undefined, withSeconds = true): string {
  if (!iso) return "";
  const t = hk(iso);
  return t.isValid ? t.toFormat(withSeconds ? "HH:mm:ss" : "HH:mm") : iso;
}

export function when(iso: string | undefined): string {
  if (!iso) return "";
  const t = hk(iso);
  return t.isValid ? t.setLocale("en-GB").toFormat("d LLL yyyy HH:mm:ss 'HKT'") : iso;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export const MARK: Record<PhaseResult["status"], string> = { pass: "✓", fail: "✗", skip: "–" };
export const WORD: Record<PhaseResult["status"], string> = { pass: "pass", fail: "FAIL", skip: "skip" };

export function badge(status: string, text = status): string {
  return `<span class="badge ${esc(status)}">${esc(text)}</span>`;
}
