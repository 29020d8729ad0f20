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
files=${SLIPWAY_TEST_FILES:-$(ls test/*.test.ts)}
logs=.slipway/test-logs
rm -rf "$logs"
mkdir -p "$logs"

# Each file runs in a test runner of its own, two files at a time (SLIPWAY_TEST_CONCURRENCY):
# each starts its own servers on free ports, and most of a file's time is spent waiting on
# them, so two share 2 cores well. A file's report is printed whole when the file ends, so
# one file can neither interleave with nor hold back another's. A test fails after 5 minutes;
# a file's process that something keeps open after its last test says what and exits
# (test/lingering.ts); a file still running after SLIPWAY_FILE_TIMEOUT seconds (default 900)
# is interrupted, and its report so far shows the tests it finished.
run_file() {
  local file=$1 name status
  name=$(basename "$file" .test.ts)
  set +e
  timeout --signal=INT --kill-after=30 "${SLIPWAY_FILE_TIMEOUT:-900}" \
    node --import tsx --import ./test/lingering.ts --test --test-timeout=300000 \
    --test-reporter=spec --test-reporter-destination="$logs/$name.log" \
    --test-reporter=tap --test-reporter-destination="$logs/$name.tap" \
    "$file" >"$logs/$name.out" 2>&1
  status=$?
  set -e
  echo "$status" >"$logs/$name.status"
  {
    flock 9
    cat "$logs/$name.log" "$logs/$name.out"
    if [ "$status" = 124 ] || [ "$status" = 137 ]; then
      echo "✖ $file was still running after ${SLIPWAY_FILE_TIMEOUT:-900} s and was interrupted"
    elif [ "$status" != 0 ]; then
      echo "✖ $file: the test runner exited with status $status"
    fi
  } 9>>"$logs/.print-lock"
}
export -f run_file
export logs

set +e
# shellcheck disable=SC2086
printf '%s\n' $files | xargs -P "${SLIPWAY_TEST_CONCURRENCY:-2}" -I{} bash -c 'run_file "$1"' _ {}
set -e

pass=0
fail=0
status=0
for f in $files; do
  name=$(basename "$f" .test.ts)
  [ -f "$logs/$name.tap" ] || : >"$logs/$name.tap"
  p=$(awk '/^# pass /{s+=$3} END {print s+0}' "$logs/$name.tap")
  x=$(awk '/^# fail /{s+=$3} END {print s+0}' "$logs/$name.tap")
  s=$(cat "$logs/$name.status" 2>/dev/null || echo 1)
  # A runner that ended badly with no failed test counted (interrupted, crashed) is one failure.
  if [ "$s" != 0 ] && [ "$x" = 0 ]; then x=1; fi
  [ "$s" = 0 ] || status=1
  pass=$((pass + p))
  fail=$((fail + x))
done
cat "$logs"/*.tap >.slipway/test-results.tap 2>/dev/null || true
echo "${pass} passed, ${fail} failed"
exit $status
