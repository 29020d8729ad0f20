#!/usr/bin/env bash
# Starts Slipway locally: Temporal dev server with its Web UI (state in .slipway/temporal.db),
# the ECS sandbox seeded with the Openverse services, a worker, and demo deploys to watch.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
./scripts/setup.sh
# shellcheck source=scripts/node.sh
. scripts/node.sh   # Node 22+ first on PATH (setup installs Node 24 when the machine's is older)
exec node --import tsx scripts/dev.ts "$@"
