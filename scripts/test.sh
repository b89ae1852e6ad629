#!/usr/bin/env bash
# The project's test command (`npm test`): system tools, build, then vitest.
# Extra arguments go to vitest, e.g. `npm test -- test/harness`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/ensure-deps.sh
# The CLI tests run the compiled output in dist/.
npx --no -- tsc -p tsconfig.json
npx --no -- vitest run "$@"
