#!/usr/bin/env bash
# One command on a fresh machine: set up with the test extras, lint, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
# tests/test_ui_browser.py drives Debian's Chromium headless; install it when missing.
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  { $sudo apt-get update && $sudo apt-get install -y chromium; } || echo "could not install chromium: the browser tests will fail"
fi
.venv/bin/python -m pytest -q -n "${PYTEST_WORKERS:-2}" "$@"
