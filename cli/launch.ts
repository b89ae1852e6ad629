/**
 * How bin/hkex-ready.js starts the CLI (docs/performance.md, "Start-up").
 *
 * `npm run build` leaves two forms of the same CLI in dist/cli/: the modules
 * tsc compiles (main.js and everything it imports, one file each) and one
 * esbuild bundle of them (main.bundle.js) with a V8 code cache made for it at
 * build time (main.bundle.cache, scripts/bundle-cli.js). For any command that
 * does work, loading one minified file whose bytecode is already compiled costs
 * far less than resolving, reading and compiling some 300 files, and every
 * `hkex-ready` run pays it (--version and --help, which load a dozen modules,
 * pay ~30 ms more than from the modules).
 *
 * The bundle is used while it is not older than main.js: a plain `tsc` after
 * an edit makes main.js newer, and the modules then run until the next full
 * build. The cache is used only when its header names this very bundle (its
 * length and CRC-32, since V8 itself checks no more than the source's length)
 * and its bytes are intact (release builds of V8 do not checksum a code
 * cache: --verify-snapshot-checksum is off); V8 may still reject it (another
 * Node.js version or other V8 flags), and then the bundle runs without it. The
 * cache is a build artifact: nothing here ever writes it.
 *
 * `NODE_DEBUG=hkex-ready` says on stderr which form ran and why.
 */
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { debuglog } from "node:util";
import { Script } from "node:vm";
import { crc32 } from "node:zlib";

export const MODULES_FILE = "main.js";
export const BUNDLE_FILE = "main.bundle.js";
export const CACHE_FILE = "main.bundle.cache";

/** What cli/main.ts exports, in whichever form it was loaded. */
export interface Cli {
  main(argv: readonly string[]): Promise<number>;
}

export type LoadedFrom = "bundle with code cache" | "bundle" | "modules";

export interface LoadedCli {
  readonly cli: Cli;
  readonly from: LoadedFrom;
  /** Why the faster form was not used, when it was not. */
  readonly why?: string;
}

const log = debuglog("hkex-ready");

/**
 * Loads the CLI from `dir` (dist/cli): the bundle with its code cache, the
 * bundle alone, or the compiled modules; undefined when none of them is there.
 */
export function loadCli(dir: string): LoadedCli | undefined {
  const bundle = statSync(join(dir, BUNDLE_FILE), { throwIfNoEntry: false });
  const modules = statSync(join(dir, MODULES_FILE), { throwIfNoEntry: false });
  let loaded: LoadedCli | undefined;
  if (bundle && (!modules || bundle.mtimeMs >= modules.mtimeMs)) {
    loaded = loadBundle(join(dir, BUNDLE_FILE), join(dir, CACHE_FILE));
  } else if (modules) {
    loaded = {
      cli: require(join(dir, MODULES_FILE)) as Cli,
      from: "modules",
      why: bundle ? `${BUNDLE_FILE} is older than ${MODULES_FILE} (compiled again since the last build)` : `no ${BUNDLE_FILE}`,
    };
  }
  if (loaded) log("loaded the %s%s", loaded.from, loaded.why ? `: ${loaded.why}` : "");
  return loaded;
}

function loadBundle(bundleFile: string, cacheFile: string): LoadedCli {
  const source = readFileSync(bundleFile);
  const cache = readCache(cacheFile, source);
  const script = compileBundle(bundleFile, source, cache.data);
  const cli = runBundle(script, bundleFile);
  if (cache.data === undefined) return { cli, from: "bundle", why: cache.why };
  if (script.cachedDataRejected === true) {
    return { cli, from: "bundle", why: `V8 rejected ${CACHE_FILE} (made by another Node.js version or with other V8 flags)` };
  }
  return { cli, from: "bundle with code cache" };
}

// The cache file: a header naming the bundle it was made for, then V8's data.
// magic, bundle length, CRC-32 of the bundle, CRC-32 of the data (uint32 big-endian each).
const CACHE_MAGIC = 0x484b4331; // "HKC1"
const CACHE_HEADER_BYTES = 16;

/** The cache file's bytes for V8's `data`, made from `bundle`'s exact bytes. */
export function cacheFileContent(bundle: Buffer, data: Buffer): Buffer {
  const header = Buffer.alloc(CACHE_HEADER_BYTES);
  header.writeUInt32BE(CACHE_MAGIC, 0);
  header.writeUInt32BE(bundle.length, 4);
  header.writeUInt32BE(crc32(bundle), 8);
  header.writeUInt32BE(crc32(data), 12);
  return Buffer.concat([header, data]);
}

/** V8's data from the cache file, or why there is none fit for this bundle. */
export function readCache(cacheFile: string, bundle: Buffer): { data?: Buffer; why?: string } {
  let file: Buffer;
  try {
    file = readFileSync(cacheFile);
  } catch {
    return { why: `no ${CACHE_FILE}` };
  }
  if (file.length < CACHE_HEADER_BYTES || file.readUInt32BE(0) !== CACHE_MAGIC) return { why: `${CACHE_FILE} is not a code cache` };
  if (file.readUInt32BE(4) !== bundle.length || file.readUInt32BE(8) !== crc32(bundle)) {
    return { why: `${CACHE_FILE} was made for another build of ${BUNDLE_FILE}` };
  }
  const data = file.subarray(CACHE_HEADER_BYTES);
  if (file.readUInt32BE(12) !== crc32(data)) return { why: `${CACHE_FILE} is damaged` };
  return { data };
}

// CommonJS's wrapper, with the bundle's first line kept as line 1 in stack traces and source maps.
const WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname) {\n";
const WRAPPER_TAIL = "\n})";

/**
 * Compiles the bundle as Node's CommonJS loader would, with V8's cached data
 * when given. The build compiles it through here too, so the source V8 sees
 * at build time and at run time is the same, byte for byte.
 */
export function compileBundle(bundleFile: string, source: Buffer, cachedData?: Buffer): Script {
  return new Script(`${WRAPPER_HEAD}${source.toString("utf8")}${WRAPPER_TAIL}`, { filename: bundleFile, lineOffset: -1, cachedData });
}

/** Runs the bundle's top level as a CommonJS module of its own path; returns its exports. */
export function runBundle(script: Script, bundleFile: string): Cli {
  const module = { exports: {} };
  const wrapper = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: object,
    filename: string,
    dirname: string,
  ) => void;
  wrapper.call(module.exports, module.exports, createRequire(bundleFile), module, bundleFile, dirname(bundleFile));
  return module.exports as Cli;
}
