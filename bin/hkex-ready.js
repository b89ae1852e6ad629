#!/usr/bin/env node

// Thin launcher: `npm run build` compiles the CLI to dist/ and bundles it with a
// V8 code cache; dist/cli/launch.js (cli/launch.ts) loads the bundle through its
// cache when both are up to date, else the bundle alone, else the compiled modules.
const path = require("node:path");
const dir = path.join(__dirname, "..", "dist", "cli");
const launcher = path.join(dir, "launch.js");
const modules = path.join(dir, "main.js");
function built(file) {
  try {
    require.resolve(file);
    return true;
  } catch {
    return false;
  }
}
// A dist/ built before the launcher existed has main.js only.
const loaded = built(launcher) ? require(launcher).loadCli(dir) : built(modules) ? { cli: require(modules) } : undefined;
if (!loaded) {
  process.stderr.write("hkex-ready: not built yet; run `npm run build` first\n");
  process.exit(2);
}
loaded.cli.main(process.argv).then((code) => {
  // The run is over and its output written: exit even if a handle was left open,
  // so a session-day command can never hang after its verdict.
  process.exit(code);
});
