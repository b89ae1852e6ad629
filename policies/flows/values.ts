/**
 * Reading provider properties as the pack receives them: exported state,
 * preview steps, or the policy SDK's props. A value may be unknown until the
 * update runs; it then arrives as one of the engine's unknown sentinels (its
 * string form in `pulumi preview --json` and in state files), or, in the
 * policy SDK, as a getter that throws UnknownValueError. Both read as UNKNOWN
 * here so that a hop can say "not known until apply" instead of guessing.
 *
 * The read-back state of the AWS provider writes "" for an unset string
 * attribute (e.g. `prefixListId: ""` on a CIDR rule); that reads as absent.
 */

/** The engine's sentinel for an unknown value (string form); every other kind is listed below. */
export const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const UNKNOWN_SENTINELS = new Set([
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  UNKNOWN_SENTINEL,
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;
export type Maybe<T> = T | Unknown | undefined;

export function isUnknownValue(v: unknown): boolean {
  return typeof v === "string" && UNKNOWN_SENTINELS.has(v);
}

/** One property; UNKNOWN for a sentinel or a getter that throws the SDK's unknown error. */
export function get(obj: unknown, key: string): unknown {
  if (obj === null || typeof obj !== "object") return undefined;
  try {
    const v = (obj as Record<string, unknown>)[key];
    return isUnknownValue(v) ? UNKNOWN : v;
  } catch (err) {
    const name = (err as Error)?.name ?? (err as Error)?.constructor?.name;
    if (name === "UnknownValueError" || (err as Error)?.constructor?.name === "UnknownValueError") return UNKNOWN;
    throw err;
  }
}

/** True when the key is present at all (an explicit empty list counts). */
export function has(obj: unknown, key: string): boolean {
  return obj !== null && typeof obj === "object" && key in (obj as Record<string, unknown>) && get(obj, key) !== undefined;
}

export function str(obj: unknown, key: string): Maybe<string> {
  const v = get(obj, key);
  if (v === UNKNOWN) return UNKNOWN;
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function num(obj: unknown, key: string): Maybe<number> {
  const v = get(obj, key);
  if (v === UNKNOWN) return UNKNOWN;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

export function bool(obj: unknown, key: string): Maybe<boolean> {
  const v = get(obj, key);
  if (v === UNKNOWN) return UNKNOWN;
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "false") return v === "true";
  return undefined;
}

/** A list property: undefined when absent, UNKNOWN when the whole list is unknown, elements read with `get`. */
export function list(obj: unknown, key: string): unknown[] | Unknown | undefined {
  const v = get(obj, key);
  if (v === UNKNOWN) return UNKNOWN;
  if (!Array.isArray(v)) return undefined;
  const out: unknown[] = [];
  for (let i = 0; i < v.length; i++) out.push(get(v, String(i)));
  return out;
}

/** The strings of a list property, each possibly UNKNOWN; "" entries are dropped. */
export function strings(obj: unknown, key: string): (string | Unknown)[] | Unknown | undefined {
  const l = list(obj, key);
  if (l === UNKNOWN || l === undefined) return l;
  return l.filter((x): x is string | Unknown => x === UNKNOWN || (typeof x === "string" && x !== ""));
}

// ---------------------------------------------------------------------------
// Protocols

/** IANA protocol number, or ALL for "-1"/"all". */
export const ALL = -1;
export const TCP = 6;
export const UDP = 17;
export const ICMP = 1;
const ICMPV6 = 58;

const PROTOCOL_NAMES: Record<string, number> = { tcp: TCP, udp: UDP, icmp: ICMP, icmpv6: ICMPV6, all: ALL, "-1": ALL };

/**
 * The provider takes names or numbers (`"tcp"`, `"6"`, `"-1"`, `"all"`); a
 * network ACL rule reads back as the number ("6", "-1"). Undefined when the
 * value is not a protocol at all.
 */
export function protocolOf(v: unknown): Maybe<number> {
  if (v === UNKNOWN) return UNKNOWN;
  if (typeof v === "number" && Number.isInteger(v)) return v < 0 ? ALL : v;
  if (typeof v !== "string") return undefined;
  const s = v.trim().toLowerCase();
  if (s in PROTOCOL_NAMES) return PROTOCOL_NAMES[s];
  if (/^\d{1,3}$/.test(s) && Number(s) <= 255) return Number(s);
  return undefined;
}

/** Ports mean something for TCP and UDP only; ICMP's type and code ride in the same fields and are not ports. */
export function hasPorts(protocol: number): boolean {
  return protocol === TCP || protocol === UDP;
}

export function protocolLabel(p: number): string {
  if (p === ALL) return "all";
  if (p === TCP) return "tcp";
  if (p === UDP) return "udp";
  if (p === ICMP) return "icmp";
  if (p === ICMPV6) return "icmpv6";
  return `protocol ${p}`;
}
