#!/usr/bin/env node
// Bundles the VPC probe's Lambda handler (checks/vpcProbe/handler.ts) and
// everything it imports (ssh2, the AWS SDK's Secrets Manager client, ...) into
// one CommonJS file for the Lambda Node.js 20 runtime: dist/vpc-probe/index.js,
// handler "index.handler". `npm run bundle:vpc-probe [-- OUTDIR]`.
//
// ssh2's optional native parts (cpu-features, its sshcrypto binding) stay out:
// ssh2 loads them inside try/catch and uses its pure-JS code without them, as
// it does everywhere else the kit runs.
const { build } = require("esbuild");
const { join, resolve } = require("node:path");

const root = resolve(__dirname, "..");

async function bundle(outdir = join(root, "dist", "vpc-probe")) {
  const outfile = join(resolve(outdir), "index.js");
  const result = await build({
    entryPoints: [join(root, "checks", "vpcProbe", "handler.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    external: ["cpu-features", "*.node"],
    sourcemap: "linked",
    legalComments: "linked",
    minify: true,
    keepNames: true,
    logLevel: "warning",
    metafile: true,
  });
  return { outfile, inputs: Object.keys(result.metafile.inputs).length };
}

module.exports = { bundle };

if (require.main === module) {
  bundle(process.argv[2]).then(
    ({ outfile, inputs }) => process.stdout.write(`bundled ${inputs} modules into ${outfile} (handler: index.handler)\n`),
    (err) => {
      process.stderr.write(`bundle-vpc-probe: ${err.message}\n`);
      process.exit(1);
    },
  );
}
