/**
 * Shared helpers of the Pulumi program's tests: stack config as Pulumi hands
 * it to a program, and lookups in what the mock runtime recorded.
 */
import type { CapturedResource } from "../../infra/mockRuntime";

const NS = "hkex-sftp-readiness";

/** Config as Pulumi passes it: namespaced keys (bare keys get the project's), structured values as JSON text. */
export function config(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k.includes(":") ? k : `${NS}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

export const ofType = (rs: readonly CapturedResource[], type: string): CapturedResource[] => rs.filter((r) => r.type === type);

export function named(rs: readonly CapturedResource[], name: string): CapturedResource {
  const found = rs.find((r) => r.name === name);
  if (found === undefined) throw new Error(`no resource named ${name} among ${rs.map((r) => r.name).join(", ")}`);
  return found;
}
