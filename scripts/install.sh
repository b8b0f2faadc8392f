#!/usr/bin/env bash
# Installs motionlab and everything it needs on a fresh machine.
#   bash scripts/install.sh          the package and its runtime dependencies
#   bash scripts/install.sh test     ... plus the test dependencies (pytest, hypothesis, bvhio, mujoco)
# torch: an already installed build is kept (any CPU or CUDA build works). Otherwise the CPU build
# this machine's pip offers is preferred over the multi-GB CUDA default.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c "import torch" >/dev/null 2>&1; then
  "$PY" -m pip install -q "torch==2.13.0" 2>/dev/null || "$PY" -m pip install -q torch
fi
extra=""
[ "${1:-}" = "test" ] && extra="[test,all]"
"$PY" -m pip install -q -e ".${extra}"
