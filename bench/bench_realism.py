"""Photorealism (issue 28): the cost of a style step with `--realism`, and what the options change.

`--part step`: seconds and peak memory per L-BFGS step of `optimise` on a square region (512² and
1024² by default) with realism 0 and > 0, each case in a process of its own; the ratio is the cost
of the term (random VGG19 weights: time does not depend on their values; memory is the peak
allocated on a CUDA device, or the process's peak RSS on the CPU).

`--part term`: the realism term alone (build the content's Laplacian, then one energy and gradient),
each size in a process of its own.

`--part quality`: the bundled coffee photo, its cup labels and the stone sample through
`Session.run`, with each option off and on, measured without any pretrained judgement:
  - affine residual: the result's matting energy on the content's Laplacian inside the region's box
    (Luan's measure; 0 = locally an affine recolouring of the photo);
  - edge preservation: correlation of the result's and the content's gradient magnitudes on the
    content's strongest edges inside the region;
  - colour bleed: mean ΔE (CIELAB) against the content in a 4 px band outside the region (0 where
    pixels are kept);
  - texture: the standard deviation of the result's fine detail (minus its Gaussian blur, σ 1.5 px)
    inside the region over the content's: above 1 where the style brought texture the photo lacked,
    which is what the realism term resists on a smooth object.
With random weights (TORCH_HOME of bench/make_random_weights.py) the look means nothing; the
numbers above do. Usage:

    TORCH_HOME=/tmp/scratch/th python bench/bench_realism.py --part step [--sizes 512 1024] [--device cpu]
    python bench/bench_realism.py --part term [--sizes 512 1024] [--device cpu]
    TORCH_HOME=/tmp/scratch/th python bench/bench_realism.py --part quality [--realism 1 100 1e4] [--smooth 1 10]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import torch

from napari_partial_style.core.params import StyleParams
from napari_partial_style.core.progress import drain
from napari_partial_style.core.runtime.device import get_device


def step_cost(size: int, realism: float, device: torch.device, steps: int) -> tuple[float, float]:
    """Seconds per step (after a warm-up step) and peak memory (GB) of `optimise` at size²: on
    CUDA the peak allocated, on the CPU the process's peak RSS (run one case per process)."""
    from napari_partial_style.core.style.transfer import LevelRequest, optimise, style_stats

    rng = np.random.default_rng(0)
    content = rng.random((size, size, 3)).astype(np.float32)
    style = rng.random((256, 256, 3)).astype(np.float32)
    params = StyleParams(realism=realism)
    net = _random_vgg19(device)
    targets = [(style_stats(net, [(style, 1.0, None)], params, device), None)]
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    events = optimise(LevelRequest(net, content, targets, params, device, steps + 1))
    next(events)  # the first step builds the L-BFGS memory and the Laplacian
    start = time.perf_counter()
    drain(events)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = (time.perf_counter() - start) / steps
    if device.type == "cuda":
        return seconds, torch.cuda.max_memory_allocated(device) / 1e9
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # Linux: KiB


def term_cost(size: int, device: torch.device, repeats: int = 3) -> tuple[float, float, float]:
    """The realism term alone at size²: seconds to build the Laplacian, seconds per energy and
    gradient (the fastest of `repeats`), and the peak memory it adds (GB; run one size per process)."""
    from napari_partial_style.core.style.matting import MattingLaplacian

    content = torch.rand(3, size, size, device=device)
    image = torch.rand(3, size, size, device=device, requires_grad=True)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    laplacian = MattingLaplacian(content)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    build = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        laplacian.energy(image).backward()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    if device.type == "cuda":
        return build, min(times), (torch.cuda.max_memory_allocated(device) - base) / 1e9
    return build, min(times), (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024 / 1e9


def _random_vgg19(device: torch.device):
    from napari_partial_style.core.nets.vgg import TappedVGG
    from napari_partial_style.core.style.objectives.gatys import TAPS

    torch.manual_seed(0)
    return TappedVGG("vgg19", TAPS).eval().requires_grad_(False).to(device)


def quality(realisms: list[float], smooths: list[float]) -> None:
    from scipy.ndimage import binary_dilation, gaussian_filter, sobel
    from skimage.color import rgb2lab

    from napari_partial_style import samples
    from napari_partial_style.api import Session
    from napari_partial_style.core.params import CompositeParams, JobParams, ScoreParams, SessionParams
    from napari_partial_style.core.style.matting import MattingLaplacian

    content, style, labels = samples.coffee(), samples.stone(), samples.coffee_cup_labels()
    mask = labels > 0
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    box = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    laplacian = MattingLaplacian(torch.from_numpy(content[box].transpose(2, 0, 1) / 255.0))
    grey = content.astype(np.float32).mean(2)
    edges = np.hypot(sobel(grey, 0), sobel(grey, 1))
    strong = mask & (edges > np.percentile(edges[mask], 90))
    band = binary_dilation(mask, iterations=4) & ~mask

    def detail(image: np.ndarray) -> float:
        grey = image.astype(np.float32).mean(2)
        return float((grey - gaussian_filter(grey, 1.5))[mask].std())

    print(
        "| realism | smooth | affine residual | edge preservation | colour bleed ΔE | texture | seconds |\n"
        "|---|---|---|---|---|---|---|"
    )
    cases = [(0.0, 0.0)] + [(r, 0.0) for r in realisms] + [(0.0, s) for s in smooths]
    for r, s in cases:
        params = JobParams(
            session=SessionParams(device="cpu", size=128),
            style=StyleParams(realism=r, max_size=256),
            composite=CompositeParams(smooth=s),
            score=ScoreParams(enabled=False),
        )
        start = time.perf_counter()
        result = Session(params.session).run(content, style, params, labels).result()
        seconds = time.perf_counter() - start
        out = result.composite
        residual = float(laplacian.energy(torch.from_numpy(out[box].transpose(2, 0, 1) / 255.0)))
        out_edges = np.hypot(sobel(out.astype(np.float32).mean(2), 0), sobel(out.astype(np.float32).mean(2), 1))
        preservation = float(np.corrcoef(edges[strong], out_edges[strong])[0, 1])
        bleed = float(np.linalg.norm(rgb2lab(out)[band] - rgb2lab(content)[band], axis=1).mean())
        texture = detail(out) / detail(content)
        print(
            f"| {r:g} | {s:g} | {residual:.5f} | {preservation:.3f} | {bleed:.3f} | {texture:.2f} | {seconds:.1f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("step", "term", "quality"), required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--realism", type=float, nargs="+", default=[1.0, 100.0, 1e4])
    parser.add_argument("--smooth", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--one", type=float, nargs=2, metavar=("SIZE", "REALISM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # one case in this process, so its peak memory is its own
        size, device = int(args.one[0]), get_device(args.device)
        if args.part == "term":
            cost = term_cost(size, device)
        else:
            cost = step_cost(size, args.one[1], device, args.steps)
        print(json.dumps(cost))
        return
    if args.part == "quality":
        quality(args.realism, args.smooth)
        return
    device = get_device(args.device)

    def case(size: int, realism: float) -> tuple[float, ...]:
        command = [sys.executable, __file__, "--part", args.part, "--device", args.device, "--steps", str(args.steps)]
        out = subprocess.run([*command, "--one", str(size), str(realism)], capture_output=True, text=True, check=True)
        return tuple(json.loads(out.stdout.strip().splitlines()[-1]))

    if args.part == "term":
        print(f"device {device}\n\n| region | build s | energy and gradient s | peak added GB |\n|---|---|---|---|")
        for size in args.sizes:
            build, step, peak = case(size, 0.0)
            print(f"| {size}² | {build:.2f} | {step:.3f} | {peak:.2f} |", flush=True)
        return
    print(
        f"device {device}\n\n| region | realism 0: s/step, GB | realism {args.realism[-1]:g}: s/step, GB | ratio (time) |\n|---|---|---|---|"
    )

    for size in args.sizes:
        plain = case(size, 0.0)
        real = case(size, args.realism[-1])
        print(
            f"| {size}² | {plain[0]:.2f}, {plain[1]:.2f} | {real[0]:.2f}, {real[1]:.2f} | {real[0] / plain[0]:.2f}× |",
            flush=True,
        )


if __name__ == "__main__":
    main()
