#!/usr/bin/env bash
# The project's test command (`npm test`): system tools, build, then vitest.
# Extra arguments go to vitest, e.g. `npm test -- test/support`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-deps.sh
# Lint and formatting (Biome): the tree must already be formatted.
npm run --silent lint
# The CLI tests run the compiled output in dist/. Built afresh: a module that became a folder
# (checks/probe.ts -> checks/probe/) must not leave its old .js behind, which Node would load first.
rm -rf dist
npx --no -- tsc -p tsconfig.json
# The policy pack's own entry, policies/dist/index.js (policies/package.json `main`).
rm -rf policies/dist
node scripts/bundle-policy-pack.js
# The CLI's bundle and its V8 code cache, dist/cli/main.bundle.*, which bin/hkex-ready.js loads.
node scripts/bundle-cli.js
# The tests are type-checked too (nothing emitted).
npx --no -- tsc -p tsconfig.test.json
# The direction of imports and no cycles (ARCHITECTURE.md), then no dead exports (knip.json lists the entries).
npm run --silent check:imports
npm run --silent check:dead-code
npx --no -- vitest run "$@"
