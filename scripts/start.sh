#!/usr/bin/env bash
# Starts Slipway locally: Temporal dev server with its Web UI (state in .slipway/temporal.db),
# the ECS sandbox seeded with the Openverse services, a worker, and demo deploys to watch.
set -euo pipefail
cd "$(dirname "$0")/.."
# The @aws-sdk packages are pinned to releases that support Node 20; their notice about later ones is noise here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
./scripts/setup.sh
exec node --import tsx scripts/dev.ts "$@"
