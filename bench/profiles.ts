/**
 * The lines the bench downloads over. Participants reach HKEX over leased
 * lines and VPNs with tens to a hundred and more milliseconds of round trip;
 * there, throughput is set by the data in flight, not by CPU. Each profile is
 * the test harness's TCP proxy (latency each way, and a token bucket per
 * direction for a capped line) in front of the same loopback sshd; loopback
 * itself has no proxy.
 */

export const MiB = 1024 * 1024;

/** The files the bench serves, random (incompressible) data. */
export const SIZES = {
  BIG16: 16 * MiB,
  BIG32: 32 * MiB,
  BIG64: 64 * MiB,
  BIG256: 256 * MiB,
  BIG1G: 1024 * MiB,
} as const;
export type BigFile = keyof typeof SIZES;

export interface LineProfile {
  /** Short key in bench/results.json. */
  readonly id: string;
  readonly label: string;
  /** One way; the round trip is twice this. 0 for loopback without a proxy. */
  readonly latencyMs: number;
  /** The line's capacity in each direction; undefined for an unlimited line. */
  readonly bitsPerSecond?: number;
  /**
   * What one download moves: big enough for the transfer to dominate, small
   * enough that a profile takes seconds (at 20 Mbit/s 16 MiB is 6.7 s of line time).
   */
  readonly file: BigFile;
  /** Whether the 1 GiB memory run is made by default (at 20 Mbit/s it takes over 7 minutes: `--all-memory`). */
  readonly memoryByDefault: boolean;
}

export const LINE_PROFILES: readonly LineProfile[] = [
  { id: "loopback", label: "loopback", latencyMs: 0, file: "BIG256", memoryByDefault: true },
  { id: "20ms", label: "20 ms one way", latencyMs: 20, file: "BIG32", memoryByDefault: true },
  { id: "50ms", label: "50 ms one way", latencyMs: 50, file: "BIG32", memoryByDefault: true },
  { id: "20ms-100mbit", label: "20 ms one way, 100 Mbit/s", latencyMs: 20, bitsPerSecond: 100e6, file: "BIG32", memoryByDefault: true },
  { id: "50ms-20mbit", label: "50 ms one way, 20 Mbit/s", latencyMs: 50, bitsPerSecond: 20e6, file: "BIG16", memoryByDefault: false },
];

export function lineBytesPerSecond(p: LineProfile): number | undefined {
  return p.bitsPerSecond === undefined ? undefined : p.bitsPerSecond / 8;
}
