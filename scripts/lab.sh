#!/usr/bin/env bash
# `make lab`: JupyterLab on example_notebooks/, against Kimi when a key is set, else the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(pwd)/.venv/bin"

if [[ -n "${KIMI_API_KEY:-}${MOONSHOT_API_KEY:-}${ANYFAST_API_KEY:-}" ]]; then
  echo "kimi-jupyter: using Kimi at ${KIMI_BASE_URL:-https://www.anyfast.ai/v1}"
else
  # A free port unless KIMI_SIMULATOR_PORT names one; it prints nothing (and says why on
  # stderr, in one line) unless the server at the URL is the simulator it started.
  sim="$("$BIN/python" scripts/start_simulator.py)" || exit 1
  read -r sim_pid KIMI_BASE_URL KIMI_API_KEY sim_log <<<"$sim"
  trap 'kill "$sim_pid" 2>/dev/null || true; rm -f "$sim_log"' EXIT
  export KIMI_BASE_URL KIMI_API_KEY
  echo "kimi-jupyter: no KIMI_API_KEY set, so answers come from the offline simulator at $KIMI_BASE_URL"
  echo "kimi-jupyter: set KIMI_API_KEY (or MOONSHOT_API_KEY / ANYFAST_API_KEY) to talk to Kimi"
fi
extra=()
[[ "$(id -u)" == 0 ]] && extra+=(--allow-root)  # containers and CI machines run as root
# `${extra[@]+…}`: an empty array is "unbound" under `set -u` in bash before 4.4 (macOS).
"$BIN/jupyter" lab --notebook-dir=example_notebooks ${extra[@]+"${extra[@]}"} "$@"
