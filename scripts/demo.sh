#!/usr/bin/env bash
# Fresh Debian/Ubuntu machine → the demo: a virtual environment with the package, then `demo`.
# The environment lives in the checkout (.venv); the result is written where you started the script.
# Arguments go to `napari-partial-style demo` (e.g. --labels, -o NAME.pstyle, --overwrite).
set -euo pipefail
here="$PWD"
checkout="$(cd "$(dirname "$0")/.." && pwd)"

# The bundle `demo` will write (its --out, default demo.pstyle), absolute from where we started.
out=demo.pstyle overwrite=0 help=0
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    -o | --out) out="${args[i + 1]:-$out}" ;;
    --out=*) out="${args[i]#--out=}" ;;
    -o?*) out="${args[i]#-o}" ;;
    --overwrite) overwrite=1 ;;
    -h | --help) help=1 ;;
  esac
done
target="$(realpath -m -- "$out")"
if [ "$help" -eq 0 ] && [ -e "$target" ] && [ "$overwrite" -eq 0 ]; then
  echo "demo.sh: $target exists; \`bash $0 ${*:+$* }--overwrite\` replaces it, or \`-o OTHER.pstyle\` writes another." >&2
  exit 2
fi

cd "$checkout"
bash scripts/system-packages.sh
[ -x .venv/bin/python ] || python3 -m venv .venv
cpu_index="$(bash scripts/cpu-torch-index.sh)"
if [ -n "$cpu_index" ]; then
  .venv/bin/pip install -q --index-url "$cpu_index" torch torchvision
fi
.venv/bin/pip install -q -e .

cd "$here"
if [ "$help" -eq 1 ]; then
  exec "$checkout/.venv/bin/napari-partial-style" demo "$@"
fi
echo "demo.sh: the full job on the 600×400 coffee photo (300 style steps at 256 px, 60 at 600 px, composite, score)" \
  "takes about 5 min on a quiet 2-core CPU, longer on a busy one, seconds with a GPU; a first run also" \
  "downloads the VGG weights (up to 1.1 GB). It writes $target"
"$checkout/.venv/bin/napari-partial-style" demo "$@"
echo "demo.sh: the result is $target"
