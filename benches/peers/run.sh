#!/usr/bin/env bash
# Times physgrad, PyTorch and JAX on the same workloads in one run on this machine and writes
# the table of ratios into docs/benchmarks.md. Run by hand when benchmarks change, never by CI
# (PyTorch from PyPI pulls several GB of CUDA libraries even for CPU use).
#
#   bash benches/peers/run.sh            # full run (a few minutes)
#   bash benches/peers/run.sh --quick    # smoke test, fewer samples
#
# The virtualenv lives outside the repository: $PHYSGRAD_PEERS_VENV, default
# ~/.cache/physgrad-peers-venv. It is created on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${PHYSGRAD_PEERS_VENV:-$HOME/.cache/physgrad-peers-venv}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import jax, torch" 2>/dev/null; then
    echo "creating $VENV (jax[cpu], torch, numpy, scipy, pot)" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet -r benches/peers/requirements.txt
fi
exec "$VENV/bin/python" benches/peers/compare.py --python "$VENV/bin/python" "$@"
