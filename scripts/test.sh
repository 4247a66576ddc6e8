#!/usr/bin/env bash
# The one test command (npm test): installs what is missing, then typecheck, lint and every
# tap tier (unit, integration, e2e, tools), ending with a line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
export PATH="$PWD/node_modules/.bin:$PATH"
checks=()

echo "== typecheck (tsc --noEmit)"
if tsc --noEmit -p .; then checks+=("typecheck=pass"); else checks+=("typecheck=fail"); fi
echo "== lint (eslint)"
if eslint .; then checks+=("lint=pass"); else checks+=("lint=fail"); fi

echo "== tests (tap)"
rm -rf .tap/test-results
reporter=()
# Outside a terminal the animated reporter is unreadable; plain TAP keeps every result and diagnostic readable in a log.
[ -t 1 ] || reporter=(--reporter=tap)
tap "${reporter[@]}" "$@"
tap_code=$?
node scripts/reap-stale-runs.ts

node scripts/count-results.ts "${checks[@]}"
count_code=$?
[ $tap_code -eq 0 ] && [ $count_code -eq 0 ]
