#!/usr/bin/env bash
# One command on a fresh machine: set up with the test extras, lint, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/python -m pytest -q -n "${PYTEST_WORKERS:-2}" "$@"
