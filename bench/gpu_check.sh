#!/usr/bin/env bash
# One prepared GPU session: style-step ratios, DCSM batched vs looped, training throughput, the
# realism term's share of a step, --precision against float32 (step time at 256², 512² and the demo's
# full-resolution level; losses after 50/150/300 steps and PSNR in the cup; the demo with auto and float32),
# the demo end to end. Random weights (no internet there); results go to $OUT. Pass stage names to run a subset.
set -uo pipefail
export PYTHONPATH=src PYTHONUNBUFFERED=1 TORCH_HOME=/tmp/torch_home NAPARI_PARTIAL_STYLE_OFFLINE=1
OUT=${OUT:-/tmp/out}
STAGES=${*:-style dcsm training realism precision demo}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$OUT/gpu.txt"
python3 bench/make_random_weights.py
for stage in $STAGES; do
  case $stage in
    style)
      python3 bench/bench_style_step.py --device cuda --size 256 --steps 20 --warmup 100 | tee "$OUT/style_step_256.txt"
      python3 bench/bench_style_step.py --device cuda --size 512 --steps 20 --warmup 100 | tee "$OUT/style_step_512.txt" ;;
    dcsm) python3 bench/bench_dcsm.py --device cuda --repeats 5 | tee "$OUT/dcsm.txt" ;;
    realism)
      python3 bench/bench_realism.py --part step --device cuda --sizes 512 1024 --realism 10 | tee "$OUT/realism_step.txt"
      python3 bench/bench_realism.py --part term --device cuda --sizes 512 1024 | tee "$OUT/realism_term.txt" ;;
    training) python3 bench/bench_training.py --device cuda --size 448 --batch-size 16 --steps 5 | tee "$OUT/training.txt" ;;
    precision)
      python3 bench/bench_precision.py speed --device cuda --steps 20 --give-up 100 | tee "$OUT/precision_speed.txt"
      python3 bench/bench_precision.py quality --device cuda --size 256 --steps 300 | tee "$OUT/precision_quality.txt"
      for precision in float32 auto; do
        /usr/bin/time -f "demo --precision $precision: %e s wall" python3 -m napari_partial_style demo --labels \
          --device cuda --precision $precision --out /tmp/demo-$precision.pstyle --quiet 2>&1 | tail -1 \
          | tee -a "$OUT/precision_demo.txt"
      done ;;
    demo)
      /usr/bin/time -v python3 -m napari_partial_style demo --device cuda --crf none --out /tmp/demo.pstyle 2>&1 \
        | tr '\r' '\n' | grep -vE '^\s*$' | tail -40 | tee "$OUT/demo.txt" ;;
  esac
done
