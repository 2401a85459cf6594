#!/usr/bin/env bash
# `make lab`: JupyterLab on example_notebooks/, against Kimi when a key is set, else the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(pwd)/.venv/bin"

if [[ -n "${KIMI_API_KEY:-}${MOONSHOT_API_KEY:-}${ANYFAST_API_KEY:-}" ]]; then
  echo "kimi-jupyter: using Kimi at ${KIMI_BASE_URL:-https://www.anyfast.ai/v1}"
else
  port="${KIMI_SIMULATOR_PORT:-8765}"
  "$BIN/python" -m kimi_jupyter.simulator --port "$port" --api-key sk-simulator &
  sim_pid=$!
  trap 'kill "$sim_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 50); do
    curl -fs -o /dev/null -H "Authorization: Bearer sk-simulator" "http://127.0.0.1:$port/v1/models" && break
    sleep 0.1
  done
  export KIMI_BASE_URL="http://127.0.0.1:$port/v1" KIMI_API_KEY="sk-simulator"
  echo "kimi-jupyter: no KIMI_API_KEY set, so answers come from the offline simulator at $KIMI_BASE_URL"
  echo "kimi-jupyter: set KIMI_API_KEY (or MOONSHOT_API_KEY / ANYFAST_API_KEY) to talk to Kimi"
fi
extra=()
[[ "$(id -u)" == 0 ]] && extra+=(--allow-root)  # containers and CI machines run as root
"$BIN/jupyter" lab --notebook-dir=example_notebooks "${extra[@]}" "$@"
