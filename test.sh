#!/usr/bin/env bash
# Sets everything up (as ./setup.sh, without the demo) and runs the whole test suite:
# the type check, unit tests and integration tests with real containers (root).
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh --quiet --no-demo
node_modules/.bin/tsc --noEmit -p .
export NODE_COMPILE_CACHE="$PWD/.cache/node"
# One file at a time: integration tests start real containers and measure what they leave behind.
node_modules/node/bin/node --test --test-concurrency=1 'test/unit/*.test.ts' 'test/integration/*.test.ts'
# cri-tools' critest against berth's CRI, only when BERTH_CRITEST names a binary (not built here).
if [ -n "${BERTH_CRITEST:-}" ]; then node_modules/node/bin/node scripts/critest.ts berth; fi
