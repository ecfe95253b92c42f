#!/usr/bin/env bash
# Time per L-BFGS step and peak memory, ours against neural-style-pt's own script, on the same inputs
# and the same VGG19 file (docs/benchmarks.md, "Against neural-style-pt, per step").
#
#   NSPT=/path/to/neural-style-pt VGG19=/path/to/vgg19-dcbb9e9d.pth bash bench/bench_vs_neural_style_pt.sh
#
# NSPT is a checkout of https://github.com/ProGamerGov/neural-style-pt (not shipped here); torchvision's
# VGG19 file loads into its VGG_19 as it is. Each tool runs 5 and 45 iterations in its own process,
# alternating, ROUNDS times; per step = (T45 - T5) / 40, so start-up and loading cancel out.
set -euo pipefail
: "${NSPT:?set NSPT to a neural-style-pt checkout}" "${VGG19:?set VGG19 to a VGG19 checkpoint}"
ROUNDS=${ROUNDS:-4}
PY=${PYTHON:-python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" - "$work" <<'PY'
import sys
import numpy as np
from PIL import Image
from napari_partial_style.samples import coffee, stone
Image.fromarray(coffee()).save(f"{sys.argv[1]}/coffee.png")
Image.fromarray(np.repeat(stone()[..., None], 3, axis=2)).save(f"{sys.argv[1]}/stone.png")
PY
cat > "$work/ours.py" <<'PY'
import sys
import numpy as np
from PIL import Image
from napari_partial_style.api import Session
from napari_partial_style.core.params import SessionParams, StyleParams
folder, steps, vgg19 = sys.argv[1], int(sys.argv[2]), sys.argv[3]
content, style = (np.asarray(Image.open(f"{folder}/{name}.png")) for name in ("coffee", "stone"))
session = Session(SessionParams(device="cpu", size=256), weights={"vgg19": vgg19})
session.stylize(content, style, StyleParams(steps=steps, max_size=256, init="noise")).result()
PY
for round in $(seq "$ROUNDS"); do
  for n in 5 45; do
    /usr/bin/time -f "theirs $n %e %M" "$PY" "$NSPT/neural_style.py" -gpu c -content_image "$work/coffee.png" \
      -style_image "$work/stone.png" -image_size 256 -num_iterations "$n" -print_iter 0 -save_iter 0 \
      -model_file "$VGG19" -output_image "$work/out.png" -backend nn >/dev/null 2>>"$work/times"
    /usr/bin/time -f "ours $n %e %M" "$PY" "$work/ours.py" "$work" "$n" "$VGG19" >/dev/null 2>>"$work/times"
  done
done
"$PY" - "$work/times" "$ROUNDS" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.split()[:1] in (["theirs"], ["ours"])]
runs = {who: {5: [], 45: []} for who in ("theirs", "ours")}
peak = {who: 0 for who in runs}
for who, n, seconds, kb in rows:
    runs[who][int(n)].append(float(seconds))
    peak[who] = max(peak[who], int(kb))
step = {who: [(b - a) / 40 for a, b in zip(runs[who][5], runs[who][45])] for who in runs}
for who in runs:
    print(f"{who}: {statistics.median(step[who]):.3f} s per step (median of {len(step[who])}), peak {peak[who] / 2**20:.2f} GB")
ratios = [o / t for o, t in zip(step["ours"], step["theirs"])]
print("ours / theirs per round:", ", ".join(f"{r:.2f}" for r in ratios), f"(median {statistics.median(ratios):.2f})")
PY
