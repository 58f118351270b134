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
# The test run must leave the working tree as it found it (tests write only under tmp_path):
# git status before and after, ignored paths included (a runs/ or equime-ui/ folder is a
# leftover too), Python's and the tools' caches left out. On a clean checkout (CI) this is
# "git status is empty after the tests".
tree_state() {
  git status --porcelain --untracked-files=all --ignored=matching \
    | grep -v -E '^.. (.*/)?(__pycache__|\.pytest_cache|\.ruff_cache|\.venv|[^/]*\.egg-info)(/|$)' \
    | sort || true
}
git rev-parse --is-inside-work-tree >/dev/null || { echo "test.sh: not a git checkout" >&2; exit 1; }
before=$(tree_state)
status=0
.venv/bin/python -m pytest -q -n "${PYTEST_WORKERS:-2}" "$@" || status=$?
left=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$(tree_state)") | sed '/^$/d')
if [ -n "$left" ]; then
  echo "test.sh: the test run changed the working tree (tests must write only under tmp_path):" >&2
  printf '  %s\n' "$left" >&2
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
