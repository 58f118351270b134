#!/usr/bin/env bash
# One command on a fresh machine: set up, then make the demo dataset (2 faces x 5 emotions) in runs/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/equime generate --demo --out runs/demo "$@"
echo "Look at runs/demo/contact_sheet.png, runs/demo/README.md and runs/demo/videos/"
