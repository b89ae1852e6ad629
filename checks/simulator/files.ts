/**
 * The files the simulator serves. TP001 and TP002 look like DCASS report
 * text (the layout is made up and every page says SIMULATED); extra files are
 * either given as bytes or generated from their offset, so a 1 GiB file costs
 * no memory and any range can be produced on its own.
 */

/** A file the SFTP server can read from. */
export interface ServedFile {
  readonly name: string;
  readonly size: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  /**
   * Bytes [offset, offset + length) clipped to the size. The result may be a
   * view of the file's own buffer or of `scratch`, so it is valid only until
   * the next call that is given the same scratch buffer.
   */
  bytes(offset: number, length: number, scratch: Buffer): Buffer;
}

export type FileSpec = Buffer | { size: number };

/** 18:30 Hong Kong time on Friday 15 November 2024, the business day before the first session. */
export const SAMPLE_MTIME = Date.UTC(2024, 10, 15, 10, 30, 0) / 1000;

export const SAMPLE_FILE_NAMES = ["TP001", "TP002"] as const;

// ---------------------------------------------------------------------------
// Deterministic pseudo-random numbers

/** FNV-1a of a string, as a seed. */
function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** lowbias32 (C. Wellons): a cheap 32-bit mixer with good avalanche. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

const TWO_32 = 2 ** 32;

/** The 32-bit word number `word` of the stream named by `seed`. */
function wordAt(seed: number, word: number): number {
  const high = Math.floor(word / TWO_32);
  return mix32((word >>> 0) ^ mix32(seed ^ Math.imul(high, 0x9e3779b9)));
}

/**
 * Writes bytes [offset, offset + out.length) of the generated stream into
 * `out`. Byte i is byte (i mod 4) of word floor(i / 4), little-endian, so any
 * range can be produced without the bytes before it.
 */
export function fillGenerated(seed: number, offset: number, out: Buffer): void {
  let pos = 0;
  let word = Math.floor(offset / 4);
  let skip = offset % 4;
  const end = out.length;
  const seedMix = mix32(seed);
  while (pos < end) {
    // wordAt inlined for the common case (files under 16 GiB).
    const v = word < TWO_32 ? mix32(word ^ seedMix) : wordAt(seed, word);
    if (skip === 0 && pos + 4 <= end) {
      out[pos] = v & 0xff;
      out[pos + 1] = (v >>> 8) & 0xff;
      out[pos + 2] = (v >>> 16) & 0xff;
      out[pos + 3] = v >>> 24;
      pos += 4;
    } else {
      for (let b = skip; b < 4 && pos < end; b++) out[pos++] = (v >>> (8 * b)) & 0xff;
      skip = 0;
    }
    word++;
  }
}

/** A small PRNG for building the sample reports (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_32;
  };
}

// ---------------------------------------------------------------------------
// Served files

export function bufferFile(name: string, data: Buffer, mtime = SAMPLE_MTIME): ServedFile {
  return {
    name,
    size: data.length,
    mtime,
    bytes: (offset, length) => data.subarray(offset, Math.min(data.length, offset + length)),
  };
}

export function generatedFile(name: string, size: number, mtime = SAMPLE_MTIME): ServedFile {
  const seed = seedOf(name);
  return {
    name,
    size,
    mtime,
    bytes(offset, length, scratch) {
      const n = Math.max(0, Math.min(length, size - offset, scratch.length));
      const out = scratch.subarray(0, n);
      fillGenerated(seed, offset, out);
      return out;
    },
  };
}

/**
 * The same file with `extra` bytes after its end, as if the producer were
 * still appending to it. The extra bytes come from their own generated stream.
 */
export function withAppended(file: ServedFile, extra: number): ServedFile {
  const seed = seedOf(`${file.name}+appended`);
  return {
    name: file.name,
    size: file.size + extra,
    mtime: file.mtime,
    bytes(offset, length, scratch) {
      if (offset + length <= file.size) return file.bytes(offset, length, scratch);
      const n = Math.max(0, Math.min(length, file.size + extra - offset, scratch.length));
      const out = scratch.subarray(0, n);
      let pos = 0;
      if (offset < file.size) {
        const head = file.bytes(offset, file.size - offset, scratch);
        if (head.buffer !== out.buffer || head.byteOffset !== out.byteOffset) out.set(head, 0);
        pos = head.length;
      }
      fillGenerated(seed, offset + pos - file.size, out.subarray(pos));
      return out;
    },
  };
}

// ---------------------------------------------------------------------------
// The sample reports

const CP_CODE = "SIM01";
const FUTURES = ["HSI", "HHI", "MHI", "MCH", "HTI"];
const OPTIONS = ["HSI", "HHI", "MHI"];
/** HKATS month letters: futures Nov X, Dec Z; calls Nov K, Dec L; puts Nov W, Dec X. */
const MONTHS = [
  { future: "X", call: "K", put: "W" },
  { future: "Z", call: "L", put: "X" },
];
const WIDTH = 96;

function line(left: string, right = ""): string {
  return `${left}${" ".repeat(Math.max(1, WIDTH - left.length - right.length))}${right}`;
}

function header(reportId: string, title: string, page: number): string[] {
  return [
    line("HKFE CLEARING CORPORATION LIMITED", `REPORT ID : ${reportId}`),
    line("DERIVATIVES CLEARING AND SETTLEMENT SYSTEM (DCASS)", `PAGE      : ${String(page).padStart(4)}`),
    line(`${title} -- SIMULATED, NOT ISSUED BY HKEX`, "RUN DATE  : 15/11/2024 18:25"),
    line(`CLEARING PARTICIPANT : ${CP_CODE}   SIMULATED CLEARING PARTICIPANT LIMITED`, "BUSINESS DATE : 15/11/2024"),
    "=".repeat(WIDTH),
  ];
}

function pick<T>(list: readonly T[], next: () => number): T {
  return list[Math.floor(next() * list.length)]!;
}

function seriesName(next: () => number): string {
  const month = pick(MONTHS, next);
  if (next() < 0.5) return `${pick(FUTURES, next)}${month.future}4`;
  const strike = 17000 + Math.floor(next() * 40) * 100;
  return `${pick(OPTIONS, next)}${strike}${next() < 0.5 ? month.call : month.put}4`;
}

function tradeReport(): string {
  const next = prng(seedOf("TP001"));
  const lines = header("TP001", "TRADE REPORT", 1);
  lines.push(
    `${"TRADE NO".padEnd(12)}${"SERIES".padEnd(18)}${"B/S".padEnd(5)}${"QTY".padStart(6)}${"PRICE".padStart(12)}${"TIME".padStart(11)}  ${"ACCOUNT".padEnd(10)}TYPE`,
    "-".repeat(WIDTH),
  );
  let contracts = 0;
  for (let i = 0; i < 48; i++) {
    const qty = 1 + Math.floor(next() * 20);
    contracts += qty;
    const price = (15000 + Math.floor(next() * 6000)).toFixed(0);
    const secs = 9 * 3600 + 15 * 60 + Math.floor(next() * 7 * 3600);
    const time = [Math.floor(secs / 3600), Math.floor(secs / 60) % 60, secs % 60].map((n) => String(n).padStart(2, "0")).join(":");
    lines.push(
      `${String(2411150000 + i * 7 + Math.floor(next() * 7)).padEnd(12)}${seriesName(next).padEnd(18)}${(next() < 0.5 ? "B" : "S").padEnd(5)}${String(qty).padStart(6)}${price.padStart(12)}${time.padStart(11)}  ${`C${String(Math.floor(next() * 900) + 100)}`.padEnd(10)}${next() < 0.8 ? "AUTO" : "T/O"}`,
    );
  }
  lines.push("-".repeat(WIDTH), line(`TOTAL TRADES : 48`, `TOTAL CONTRACTS : ${contracts}`), "", "*** END OF REPORT TP001 ***", "");
  return lines.join("\r\n");
}

function positionReport(): string {
  const next = prng(seedOf("TP002"));
  const lines = header("TP002", "POSITION REPORT", 1);
  lines.push(
    `${"ACCOUNT".padEnd(10)}${"SERIES".padEnd(18)}${"LONG".padStart(8)}${"SHORT".padStart(8)}${"NET".padStart(8)}${"SETTLEMENT PX".padStart(16)}${"VARIATION (HKD)".padStart(18)}`,
    "-".repeat(WIDTH),
  );
  let total = 0;
  for (let i = 0; i < 44; i++) {
    const long = Math.floor(next() * 60);
    const short = Math.floor(next() * 60);
    const variation = Math.round((next() - 0.5) * 2_000_000) / 100;
    total += variation;
    lines.push(
      `${`C${String(100 + Math.floor(next() * 900))}`.padEnd(10)}${seriesName(next).padEnd(18)}${String(long).padStart(8)}${String(short).padStart(8)}${String(long - short).padStart(8)}${(15000 + Math.floor(next() * 6000)).toFixed(2).padStart(16)}${variation.toFixed(2).padStart(18)}`,
    );
  }
  lines.push("-".repeat(WIDTH), line("TOTAL VARIATION ADJUSTMENT (HKD)", total.toFixed(2)), "", "*** END OF REPORT TP002 ***", "");
  return lines.join("\r\n");
}

let samples: Readonly<Record<(typeof SAMPLE_FILE_NAMES)[number], Buffer>> | undefined;

/** The bytes of TP001 and TP002; the same on every run and every machine. */
export function sampleFiles(): Readonly<Record<(typeof SAMPLE_FILE_NAMES)[number], Buffer>> {
  samples ??= Object.freeze({ TP001: Buffer.from(tradeReport(), "latin1"), TP002: Buffer.from(positionReport(), "latin1") });
  return samples;
}

/** The fake /etc/passwd that the symlink-escape fault points at. Never the host's own file. */
export const FAKE_PASSWD = Buffer.from(
  [
    "root:x:0:0:root:/root:/bin/bash",
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
    "sshd:x:74:74:Privilege-separated SSH:/var/empty/sshd:/sbin/nologin",
    "# SIMULATED: served by the hkex-sftp-readiness simulator through the TP003 symlink",
    "",
  ].join("\n"),
);

export function validateFileName(name: string): string | undefined {
  if (name === "" || name === "." || name === "..") return "is not a file name";
  if (/[/\0]/.test(name)) return "must be a plain file name (no '/' or NUL)";
  return undefined;
}

/** The served files: TP001, TP002, then the extra ones (which may replace them). */
export function buildFileSet(extra: Readonly<Record<string, FileSpec>> = {}): Map<string, ServedFile> {
  const files = new Map<string, ServedFile>();
  for (const [name, data] of Object.entries(sampleFiles())) files.set(name, bufferFile(name, data));
  for (const [name, spec] of Object.entries(extra)) {
    files.set(name, Buffer.isBuffer(spec) ? bufferFile(name, spec) : generatedFile(name, spec.size));
  }
  return files;
}

/** The whole content of a served file (for tests and checksums of small files). */
export function readWhole(file: ServedFile): Buffer {
  const out = Buffer.alloc(file.size);
  const scratch = Buffer.allocUnsafe(Math.min(file.size, 1 << 20) || 1);
  for (let off = 0; off < file.size; ) {
    const chunk = file.bytes(off, scratch.length, scratch);
    if (chunk.length === 0) break;
    chunk.copy(out, off);
    off += chunk.length;
  }
  return out;
}
