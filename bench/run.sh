#!/usr/bin/env bash
# npm run bench: Slipway against its peers (AWS CLI waiter and script, Temporal CLI).
# Sets up the tools, makes sure an AWS CLI is there, then runs bench/main.ts, which prints
# the tables and writes docs/benchmarks.md. Not part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

AWSCLI_VERSION=1.46.3   # PyPI awscli, installed into .tools/venv only when `aws` is not on PATH

root=$(pwd)
./scripts/setup.sh
# shellcheck source=scripts/node.sh
. scripts/node.sh   # Node 22+ first on PATH (setup installs Node 24 when the machine's is older)

if [ -z "${BENCH_AWS_CLI:-}" ] && ! command -v aws >/dev/null 2>&1; then
  venv=.tools/venv
  if [ ! -x "$venv/bin/aws" ]; then
    printf 'bench: installing awscli==%s from PyPI into %s\n' "$AWSCLI_VERSION" "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "awscli==$AWSCLI_VERSION" >&2
  fi
  export BENCH_AWS_CLI="$PWD/$venv/bin/aws"
fi

exec node --import tsx bench/main.ts "$@"
