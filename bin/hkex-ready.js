#!/usr/bin/env node

// Thin launcher: the CLI is compiled to dist/ by `npm run build`.
const path = require("node:path");
const entry = path.join(__dirname, "..", "dist", "cli", "main.js");
try {
  require.resolve(entry);
} catch {
  process.stderr.write("hkex-ready: not built yet; run `npm run build` first\n");
  process.exit(2);
}
require(entry)
  .main(process.argv)
  .then((code) => {
    // The run is over and its output written: exit even if a handle was left open,
    // so a session-day command can never hang after its verdict.
    process.exit(code);
  });
