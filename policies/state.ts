/**
 * Reads the resources of a live or planned stack for the offline runner:
 * `pulumi stack export` (deployment format version 3) or
 * `pulumi preview --json` (its steps' new state).
 */
import { InputError, type InputProblem } from "../core/errors";
import type { StackResource } from "../infra/stackResource";
import { UNKNOWN_SENTINEL } from "./flows/values";

/** Pulumi's marker key of a secret value in serialized state. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Preview steps whose new state does not exist after the update. */
const GONE_OPS = new Set(["delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace", "read-discard"]);

export type StateFormat = "stack-export" | "preview-json";

export interface LoadedState {
  readonly format: StateFormat;
  readonly resources: StackResource[];
}

export function loadStateDocument(doc: unknown, source = "--state"): LoadedState {
  const o = doc as Record<string, unknown> | null;
  if (o !== null && typeof o === "object" && "deployment" in o) {
    if (o.version !== 3) {
      throw new InputError(
        { path: "version", message: `is ${JSON.stringify(o.version)}; only deployment format version 3 is read` },
        source,
      );
    }
    const resources = (o.deployment as Record<string, unknown> | null)?.resources ?? [];
    if (!Array.isArray(resources)) throw new InputError({ path: "deployment.resources", message: "must be a list" }, source);
    const problems: InputProblem[] = [];
    const out = resources.flatMap((r, i) => {
      if ((r as Record<string, unknown>)?.delete === true) return [];
      const res = toResource(r, `deployment.resources[${i}]`, problems);
      return res ? [res] : [];
    });
    if (problems.length > 0) throw new InputError(problems, source);
    return { format: "stack-export", resources: out };
  }
  if (o !== null && typeof o === "object" && Array.isArray(o.steps)) {
    const problems: InputProblem[] = [];
    const out = o.steps.flatMap((step, i) => {
      const s = step as Record<string, unknown>;
      if (typeof s?.op === "string" && GONE_OPS.has(s.op)) return [];
      if (s?.newState === undefined) return [];
      const res = toResource(s.newState, `steps[${i}].newState`, problems);
      return res ? [res] : [];
    });
    if (problems.length > 0) throw new InputError(problems, source);
    return { format: "preview-json", resources: out };
  }
  throw new InputError(
    {
      path: "",
      message: "is neither `pulumi stack export` output (version 3, deployment.resources) nor `pulumi preview --json` output (steps)",
    },
    source,
  );
}

function toResource(raw: unknown, path: string, problems: InputProblem[]): StackResource | undefined {
  const r = raw as Record<string, unknown> | null;
  if (r === null || typeof r !== "object") {
    problems.push({ path, message: "must be an object" });
    return undefined;
  }
  const urn = r.urn;
  const type = r.type;
  if (typeof urn !== "string" || !urn.startsWith("urn:pulumi:")) problems.push({ path: `${path}.urn`, message: "must be a Pulumi URN" });
  if (typeof type !== "string" || type === "") problems.push({ path: `${path}.type`, message: "must be a resource type token" });
  if (typeof urn !== "string" || typeof type !== "string") return undefined;
  return {
    type,
    urn,
    name: urn.slice(urn.lastIndexOf("::") + 2),
    inputs: plain(r.inputs) as Record<string, unknown>,
    outputs: plain(r.outputs) as Record<string, unknown>,
    parent: typeof r.parent === "string" ? r.parent : undefined,
    dependencies: Array.isArray(r.dependencies) ? r.dependencies.filter((d): d is string => typeof d === "string") : [],
    propertyDependencies: propertyDependencies(r.propertyDependencies),
  };
}

/**
 * Unwraps secrets (their plaintext when exported with --show-secrets,
 * otherwise the unknown marker, since the policies cannot read them).
 */
function plain(v: unknown): unknown {
  if (v === undefined || v === null) return v === undefined ? {} : null;
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  if (o[SECRET_SIG_KEY] === SECRET_SIG) {
    if (typeof o.plaintext === "string") {
      try {
        return plain(JSON.parse(o.plaintext));
      } catch {
        return o.plaintext;
      }
    }
    return UNKNOWN_SENTINEL;
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plainValue(x)]));
}

function plainValue(v: unknown): unknown {
  return v === undefined || v === null || typeof v !== "object" ? v : plain(v);
}

function propertyDependencies(v: unknown): Record<string, string[]> {
  if (v === null || typeof v !== "object") return {};
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>).map(([k, urns]) => [
      k,
      Array.isArray(urns) ? urns.filter((u): u is string => typeof u === "string") : [],
    ]),
  );
}
