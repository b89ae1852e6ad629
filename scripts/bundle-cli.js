#!/usr/bin/env node
// Bundles the CLI (cli/main.ts and everything it imports) into one minified
// file, dist/cli/main.bundle.js, and makes a V8 code cache for it,
// dist/cli/main.bundle.cache, which bin/hkex-ready.js loads it through
// (cli/launch.ts; docs/performance.md, "Start-up"). Both are build artifacts:
// the cache is written here and nowhere else, never at run time.
//
// Outside the bundle, loaded from node_modules when (and only when) used:
// - @pulumi/*, @aws-sdk/*: the Pulumi SDK and the AWS SDK, for `plan` and
//   `policy` only; bundled they pull in npm's internals (tens of MB).
// - listr2, nodemailer, junit-report-builder, prom-client, netmask: each used by
//   one command or one output format, and required inside the function that uses it.
// - cpu-features: a native addon (ssh2 asks it whether the CPU has AES instructions).
// ssh2 itself is bundled: loaded from node_modules it costs ~50 ms on every
// `check`, bundled its code comes out of the cache. Its optional native crypto
// binding stays loadable: `require("./crypto/build/Release/sshcrypto.node")` in
// ssh2 becomes `require("ssh2/lib/protocol/crypto/build/Release/sshcrypto.node")`,
// which resolves to the file ssh2's own require would load, where it is built,
// and fails inside ssh2's try/catch where it is not (as it does in node_modules).
// The bench's `node -r dist/bench/no-native-binding.js` hides it by that name.
//
// The cache is made in a child process (a plain `node`, without NODE_OPTIONS,
// as users run it), which compiles the bundle exactly as the launcher does,
// runs its top level and a few commands that contact nothing (--version,
// `check --help`, and a check whose config is valid but whose key is missing,
// which stops with exit 2 before any connection, its endpoints on loopback
// anyway), then asks V8 for the bytecode of every function compiled so far.
//
// `npm run build` runs this after tsc (it needs dist/cli/launch.js);
// `node scripts/bundle-cli.js [OUTDIR]` (default dist/cli).
const { build } = require("esbuild");
const { spawnSync } = require("node:child_process");
const { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join, posix, relative, resolve, sep } = require("node:path");

const root = resolve(__dirname, "..");
const EXTERNAL = ["@pulumi/*", "@aws-sdk/*", "listr2", "nodemailer", "junit-report-builder", "prom-client", "netmask", "cpu-features"];

/** A native addon inside a package, required by a relative path: required by its package path instead, from node_modules. */
const nativeAddonsFromTheirPackage = {
  name: "native-addons-from-their-package",
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (args) => {
      const at = args.resolveDir
        .split(sep)
        .join("/")
        .match(/^.*\/node_modules\/((?:@[^/]+\/)?[^/]+)(?:\/(.*))?$/);
      if (!at) return { errors: [{ text: `${args.path}: a native addon outside node_modules cannot be bundled` }] };
      return { path: posix.join(at[1], at[2] ?? "", args.path), external: true };
    });
  },
};

function launcher() {
  return require(join(root, "dist", "cli", "launch.js"));
}

async function bundle(outdir = join(root, "dist", "cli")) {
  const { BUNDLE_FILE, CACHE_FILE } = launcher();
  const outfile = join(resolve(outdir), BUNDLE_FILE);
  const cacheFile = join(resolve(outdir), CACHE_FILE);
  // A cache left from an earlier build names another bundle and would be refused; remove it anyway.
  rmSync(cacheFile, { force: true });
  const result = await build({
    entryPoints: [join(root, "cli", "main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    external: EXTERNAL,
    plugins: [nativeAddonsFromTheirPackage],
    // Minified: every run reads and decodes the whole file. keepNames keeps the
    // function names an internal error's stack shows; the linked source map has the rest.
    minify: true,
    keepNames: true,
    sourcemap: "linked",
    legalComments: "linked",
    logLevel: "warning",
    metafile: true,
  });
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
  // The launcher compiles the bundle with vm.Script, which has no loader for import(): every import() must have become a require.
  const dynamic = output.imports.filter((i) => i.kind === "dynamic-import");
  if (dynamic.length > 0) throw new Error(`the bundle keeps import() of ${dynamic.map((i) => i.path).join(", ")}; make it a require`);
  const inputs = Object.keys(result.metafile.inputs);
  const sdk = inputs.filter((p) => /node_modules\/@(pulumi|aws-sdk)\//.test(p.split(sep).join("/")));
  if (sdk.length > 0) throw new Error(`the bundle would carry a copy of ${sdk[0]}; keep it external`);
  train(outfile, cacheFile);
  return { outfile, cacheFile, inputs: inputs.length };
}

/** Makes the code cache in a plain child process (see the top of this file). */
function train(outfile, cacheFile) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawnSync(process.execPath, [__filename, "--train", outfile, cacheFile], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
    encoding: "utf8",
    timeout: 120_000,
  });
  if (child.status !== 0) throw new Error(`making the code cache failed (${child.signal ?? `exit ${child.status}`}): ${child.stderr}`);
}

/** The commands the cache is made with, and the exit code each must end with; none contacts anything. */
function trainingRuns(dir) {
  const config = join(dir, "hkex.yaml");
  writeFileSync(join(dir, "known_hosts"), "");
  writeFileSync(
    config,
    [
      "user: trainer",
      "identityFile: ./missing-key",
      "knownHostsFile: ./known_hosts",
      "remoteDir: /outgoing",
      "files: [TP001]",
      "downloadDir: ./downloads",
      "sites:",
      "  primary: { hosts: ['127.0.0.1:1'] }",
      "  secondary: { hosts: ['127.0.0.1:1'] }",
      "",
    ].join("\n"),
  );
  return [
    { argv: ["--version"], code: 0 },
    { argv: ["check", "--help"], code: 0 },
    { argv: ["check", "--config", config], code: 2 },
  ];
}

/** In the child: compile and run the bundle as the launcher does, run the training commands, write the cache. */
async function trainInThisProcess(outfile, cacheFile) {
  const { cacheFileContent, compileBundle, runBundle } = launcher();
  const source = readFileSync(outfile);
  const script = compileBundle(outfile, source);
  const cli = runBundle(script, outfile);
  const dir = mkdtempSync(join(tmpdir(), "hkex-ready-cache-"));
  try {
    for (const run of trainingRuns(dir)) {
      const code = await cli.main([process.execPath, "hkex-ready", ...run.argv]);
      if (code !== run.code) throw new Error(`hkex-ready ${run.argv.join(" ")} exited ${code}, expected ${run.code}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const partial = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(partial, cacheFileContent(source, script.createCachedData()));
  renameSync(partial, cacheFile);
}

module.exports = { bundle };

if (require.main === module) {
  if (process.argv[2] === "--train") {
    trainInThisProcess(process.argv[3], process.argv[4]).then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`${err.stack ?? err}\n`);
        process.exit(1);
      },
    );
  } else {
    bundle(process.argv[2]).then(
      ({ outfile, cacheFile, inputs }) => {
        const kib = (file) => `${Math.round(statSync(file).size / 1024)} KiB`;
        const show = (file) => relative(root, file).split(sep).join("/");
        process.stdout.write(
          `bundled ${inputs} modules into ${show(outfile)} (${kib(outfile)}), code cache ${show(cacheFile)} (${kib(cacheFile)})\n`,
        );
      },
      (err) => {
        process.stderr.write(`bundle-cli: ${err.message}\n`);
        process.exit(1);
      },
    );
  }
}
