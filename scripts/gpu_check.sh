#!/usr/bin/env bash
# One command for a lent GPU machine (or CI with --device cpu): the tiny LTX pipeline in keyframe
# mode (bf16 on CUDA; checks + frames/s), the warp benchmark, and with --model DIR one
# paper-preset clip with its timing. Prints a short report; report.json goes to --out (default
# $OUT when set, else a temporary folder). Options: see benchmarks/gpu_check.py --help.
#   bash scripts/gpu_check.sh --device cpu            # CI: under 2 minutes on 2 cores
#   bash scripts/gpu_check.sh --model /path/LTX-Video --sweep
# Python: $PYTHON, else .venv/bin/python, else python3 (e.g. a GPU image's own torch).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
# Wheels carried to a machine without a registry (pip download diffusers ... -d .gpu/wheels)
if [ -d .gpu/wheels ] && ! "$PYTHON" -c "import diffusers" 2>/dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps .gpu/wheels/*.whl
fi
out=()
if [ -n "${OUT:-}" ] && [[ " $* " != *" --out "* ]]; then out=(--out "$OUT"); fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
start=$(date +%s)
"$PYTHON" benchmarks/gpu_check.py "${out[@]}" "$@"
echo "gpu_check: passed in $(($(date +%s) - start)) s"
