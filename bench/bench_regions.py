"""Region-guided style transfer measured side by side in one run: methods, crop, pyramid.

    TORCH_HOME=/tmp/scratch/th python bench/bench_regions.py [--size 1024] [--steps 10] [--only 'full frame'] [--only crop]

Each case runs in its own process so its peak memory (ru_maxrss) is its own. Content: a generated
photo-like image (smooth gradients plus noise) with a disc covering about 20% of the frame as the
region. Style: stripes. The VGG19 weights are whatever the hub folder holds: with random weights
(bench/make_random_weights.py) the times and memory are real, the pictures are not.

Reported per case: seconds, seconds per step once set up (the style's targets and the first steps
are a fixed cost that a short run overweights; a real job's hundreds of steps follow the per-step
ratio), peak RSS, pixels changed beyond the region's free band (must be 0 for `masked`) and the
seam score (core/composite.py).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

CASES = {
    "composite, full frame": {"method": "composite", "crop": False},
    "masked, full frame": {"method": "masked", "crop": False},
    "masked, crop": {"method": "masked", "crop": True},
    "composite, crop": {"method": "composite", "crop": True},
    "masked, tiles of 512 over the frame": {"method": "masked", "crop": False, "tile": 512},
}


def scene(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h, w = size * 3 // 4, size
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    rng = np.random.default_rng(0)
    content = np.stack([0.3 + 0.4 * x, 0.5 - 0.2 * y, 0.4 + 0.3 * x * y], axis=2) + 0.03 * rng.standard_normal(
        (h, w, 3)
    )
    radius = np.sqrt(0.2 * h * w / np.pi)
    mask = np.hypot(*np.mgrid[0:h, 0:w] - np.array([h / 2, w / 2])[:, None, None]) < radius
    stripes = (np.arange(256)[:, None] // 8 % 2) * np.ones((256, 256))
    style = np.stack([0.2 + 0.6 * stripes, 0.3 * stripes, 0.8 - 0.5 * stripes], axis=2)
    return (np.clip(content, 0, 1) * 255).astype(np.uint8), mask, (style * 255).astype(np.uint8)


def run_case(name: str, size: int, steps: int) -> dict:
    from napari_partial_style.api import Session
    from napari_partial_style.core.composite import seam_score
    from napari_partial_style.core.params import CompositeParams, SessionParams, StyleParams
    from napari_partial_style.core.style.pyramid import within

    content, mask, style = scene(size)
    session = Session(SessionParams(device="cpu", size=size))
    params = StyleParams(steps=steps, max_size=size, **CASES[name])
    start = time.perf_counter()
    ticks = []
    stylized = session.stylize(content, style, params, mask).result(lambda event: ticks.append(time.perf_counter()))
    seconds = time.perf_counter() - start
    step = float(np.median(np.diff(ticks[-max(2, steps - 2) :])))  # steady state: after the set-up and first steps
    composite, _ = session.composite(content, stylized, mask, CompositeParams())
    free = within(mask.astype(np.float32), params.band)
    return {
        "case": name,
        "seconds": round(seconds, 2),
        "step_s": round(step, 3),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "stylized_changed_beyond_band": int((stylized != content).any(axis=2)[~free].sum()),
        "composite_seam_score": round(seam_score(composite, mask), 3),
        "original_seam_score": round(seam_score(content, mask), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument(
        "--only",
        action="append",
        help="run only the cases whose name contains this (e.g. 'full frame'); repeat it for several",
    )
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.size, args.steps)))
        return
    rows = []
    for name in [n for n in CASES if args.only is None or any(part in n for part in args.only)]:
        out = subprocess.run(
            [sys.executable, __file__, "--case", name, "--size", str(args.size), "--steps", str(args.steps)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rows.append(json.loads(out.splitlines()[-1]))
    base = rows[0]
    print(
        f"| case | s | s vs first | s per step | per step vs first | peak RSS GB | memory vs first | stylized px changed beyond the band | "
        f"composite seam (original {base['original_seam_score']}) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['case']} | {r['seconds']} | {r['seconds'] / base['seconds']:.2f} | {r['step_s']} | "
            f"{r['step_s'] / base['step_s']:.2f} | {r['peak_rss_gb']} | "
            f"{r['peak_rss_gb'] / base['peak_rss_gb']:.2f} | {r['stylized_changed_beyond_band']} | "
            f"{r['composite_seam_score']} |"
        )


if __name__ == "__main__":
    main()
