#!/usr/bin/env bash
# Shared set-up: a virtual env in .venv with equime installed (extras in $1, e.g. "test"),
# torch pinned to the CPU wheel (constraints.txt), and the face landmarker model fetched once.
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
extras=${1:+[$1]}
pip_install() {
  .venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt "$@" 2>&1 \
    | grep -v -E "^WARNING: Location|^$" || true
}
pip_install torch==2.13.0
pip_install -e ".${extras}"
.venv/bin/equime fetch-models >/dev/null
