#!/usr/bin/env node
// Builds the policy pack's entry, policies/dist/index.js, so that policies/ is
// a pack on its own: `pulumi preview --policy-pack policies` starts it from that
// folder, and `pulumi policy publish` packs that folder with `npm pack` and
// uploads it (see docs/network.md, "The policy pack as a package").
//
// esbuild bundles policies/index.ts with everything it imports from the repo
// (catalogue/, core/, infra/ helpers, policies/*) and from small npm packages
// (netmask, ...). The packages that policies/package.json declares as
// dependencies stay external: the CLI installs them next to the pack, and the
// analyzer's launcher resolves @pulumi/pulumi/cmd/run-policy-pack from there.
// Any other @pulumi/* package that found its way into the bundle is an error:
// declare it in policies/package.json instead of shipping a copy of the SDK.
//
// `npm run build` runs this after tsc; `node scripts/bundle-policy-pack.js [OUTDIR]`.
const { build } = require("esbuild");
const { readFileSync } = require("node:fs");
const { join, relative, resolve, sep } = require("node:path");

const root = resolve(__dirname, "..");
const packDir = join(root, "policies");

function declaredDependencies() {
  const manifest = JSON.parse(readFileSync(join(packDir, "package.json"), "utf8"));
  return Object.keys(manifest.dependencies ?? {});
}

async function bundle(outdir = join(packDir, "dist")) {
  const outfile = join(resolve(outdir), "index.js");
  const external = declaredDependencies();
  const result = await build({
    entryPoints: [join(packDir, "index.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    // A declared package and its subpaths (@pulumi/pulumi/...) load from the pack's node_modules.
    external: external.flatMap((name) => [name, `${name}/*`]),
    // Readable on purpose: the published pack is what Pulumi Cloud shows and runs.
    minify: false,
    keepNames: true,
    sourcemap: "linked",
    legalComments: "linked",
    logLevel: "warning",
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs);
  const sdkCopies = inputs.filter((p) => p.split(/[\\/]/).join("/").includes("node_modules/@pulumi/"));
  if (sdkCopies.length > 0) {
    throw new Error(
      `the pack's bundle would carry a copy of ${[...new Set(sdkCopies.map(pulumiPackageOf))].join(", ")}; ` +
        "add it to the dependencies in policies/package.json (at the version the root package.json uses)",
    );
  }
  return { outfile, inputs: inputs.length, external };
}

function pulumiPackageOf(path) {
  const parts = path.split(/[\\/]/);
  const at = parts.lastIndexOf("@pulumi");
  return parts.slice(at, at + 2).join("/");
}

module.exports = { bundle };

if (require.main === module) {
  bundle(process.argv[2]).then(
    ({ outfile, inputs, external }) =>
      process.stdout.write(
        `bundled ${inputs} modules into ${relative(root, outfile).split(sep).join("/")} (external: ${external.join(", ")})\n`,
      ),
    (err) => {
      process.stderr.write(`bundle-policy-pack: ${err.message}\n`);
      process.exit(1);
    },
  );
}
