#!/usr/bin/env bash
# The test command: installs what is missing, builds the debug preset, runs every ctest
# (unit, scenario, fuzz-corpus replay, benchmark smoke runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
preset="${1:-debug}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
