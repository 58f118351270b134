#!/usr/bin/env bash
# Shared set-up: a virtual env in .venv with equime installed (extras in $1, e.g. "test"),
# and the face landmarker model fetched once into the cache. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
extras=${1:+[$1]}
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}" 2>&1 \
  | grep -v -E "^WARNING: Location|^$" || true
.venv/bin/equime fetch-models >/dev/null
