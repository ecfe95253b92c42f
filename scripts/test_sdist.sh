#!/usr/bin/env bash
# The sdist alone → a fresh venv → its quick tests, run from the unpacked sdist (not the checkout):
# what a packager (conda-forge, a distribution) does. Usage: scripts/test_sdist.sh dist/X.tar.gz
set -euo pipefail
sdist=$(realpath "$1")
work=$(mktemp -d)
tar -xzf "$sdist" -C "$work"
cd "$work"/*/
python3 -m venv .venv
.venv/bin/pip install -q "${sdist}[testing]"
NAPARI_PARTIAL_STYLE_OFFLINE=1 xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python -m pytest -q -m "not slow" -n auto
