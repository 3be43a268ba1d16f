#!/usr/bin/env bash
# The project's whole test suite: installs what the integration tests talk to, then runs every
# test of the workspace (unit, property, integration, doc tests, and the fuzz corpus replays).
#
# Usage: ./scripts/test.sh            (from anywhere inside the repository)
set -euo pipefail
cd "$(dirname "$0")/.."

# Real peers for handle-fsm's integration tests (loopback only): curl as an HTTP client, and
# Python's http.server and `websockets` library as HTTP/WebSocket peers.
need_apt=()
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "missing: ${need_apt[*]} (install them, or run as root to let this script do it)" >&2
    exit 1
  fi
fi
if ! python3 -c 'import websockets' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check 'websockets>=12,<16'
fi

cargo test --workspace --all-targets
cargo test --workspace --doc
