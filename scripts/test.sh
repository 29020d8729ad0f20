#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing (scripts/setup.sh),
# type-checks, then runs every test file against real servers it starts itself.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
./scripts/setup.sh
# Node 22+ first on PATH (setup installs Node 24 when the machine's is older): the test
# runner and every process the tests spawn run on it.
# shellcheck source=scripts/node.sh
. scripts/node.sh
npx tsc -p tsconfig.json --noEmit
[ -n "${SLIPWAY_TEST_FILES:-}" ] || npm run --silent lint # the whole suite lints first; a chosen subset of files does not
mkdir -p .slipway
files=${SLIPWAY_TEST_FILES:-$(ls test/*.test.ts)}
# Two files at a time (SLIPWAY_TEST_CONCURRENCY): each starts its own servers on free ports,
# and most of a file's time is spent waiting on them, so two share 2 cores well.
concurrency=${SLIPWAY_TEST_CONCURRENCY:-2}
set +e
# shellcheck disable=SC2086
node --import tsx --test --test-timeout=600000 --test-concurrency="$concurrency" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination=.slipway/test-results.tap \
  $files
status=$?
set -e
pass=$(grep -E '^# pass ' .slipway/test-results.tap | awk '{print $3}')
fail=$(grep -E '^# fail ' .slipway/test-results.tap | awk '{print $3}')
echo "${pass:-0} passed, ${fail:-0} failed"
exit $status
