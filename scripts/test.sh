#!/usr/bin/env bash
# Fresh Debian/Ubuntu machine → the whole test suite: system packages, tox, then tox under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-packages.sh
# torch takes ~6 GB in .tox and the tests ~2 GB more in the temp folder; a full disk shows up as
# write errors deep inside torch.save, so say it first.
for dir in . "${TMPDIR:-/tmp}"; do
    free_gb=$(df -Pk "$dir" | awk 'NR == 2 { print int($4 / 1048576) }')
    [ "$free_gb" -ge 8 ] || echo "warning: only ${free_gb} GB free under $dir; the tests need about 8 GB (torch in .tox, 2 GB of random-weight checkpoints)" >&2
done
# The test environment takes torch's CPU-only build where there is no NVIDIA GPU (1.3 GB instead of
# 5.7 GB); pip prefers its +cpu versions over PyPI's when both indexes are offered.
cpu_index="$(bash scripts/cpu-torch-index.sh)"
[ -z "$cpu_index" ] || export PIP_EXTRA_INDEX_URL="${PIP_EXTRA_INDEX_URL:+$PIP_EXTRA_INDEX_URL }$cpu_index"
[ -x .tox-runner/bin/tox ] || { python3 -m venv .tox-runner && .tox-runner/bin/pip install -q "tox>=4"; }
# Whatever hangs, the run ends with a report inside CI's 90 minutes (it takes ~15 on 2 cores).
# lint and docs first (seconds), so the run ends with pytest's own summary line.
exec timeout -k 30 80m xvfb-run -a -s "-screen 0 1280x1024x24" .tox-runner/bin/tox -e lint,docs,py -- --durations=10 "$@"
