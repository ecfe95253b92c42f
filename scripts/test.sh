#!/usr/bin/env bash
# Fresh Debian/Ubuntu machine → the whole test suite: system packages, tox, then tox under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-packages.sh
[ -x .tox-runner/bin/tox ] || { python3 -m venv .tox-runner && .tox-runner/bin/pip install -q "tox>=4"; }
exec xvfb-run -a -s "-screen 0 1280x1024x24" .tox-runner/bin/tox -e py -- "$@"
