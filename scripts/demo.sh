#!/usr/bin/env bash
# Fresh Debian/Ubuntu machine → the demo: a virtual environment with the package, then `demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-packages.sh
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -e .
exec .venv/bin/napari-partial-style demo "$@"
