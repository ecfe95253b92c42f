"""--precision against float32, side by side in one run (issue 39; docs/benchmarks.md and docs/quality.md, "Precision").

pass: one forward+backward of the network alone at each level and precision, nothing else.

speed: seconds per L-BFGS step of `core.style.transfer.optimise` (the demo's objective: the stone's Grams,
realism 10) on the coffee photo at 256², 512² and the demo's full-resolution level (the cup's box at 600 px,
461×400), each precision beside float32 on the same network; a precision over `--give-up` times float32's
time at one size is not run at the larger ones (its ratio is already known to be a loss).

quality: the demo's first level (the coffee's cup labels, the stone, masked, realism 10, the same seed and
start) at `--size` for `--steps` steps under each precision: the style and content loss after each of
`--at` steps, as each run computes them, relative to float32's, and the result's PSNR against float32's
inside the cup.

The network is VGG19 with random weights (seed 0) unless --vgg19 names torchvision's checkpoint: step times
do not depend on the weights, the quality numbers do. Usage:
    python bench/bench_precision.py pass|speed [--sizes 256 512 full] [--precisions float32 bfloat16 float16]
    python bench/bench_precision.py quality [--size 256] [--steps 300] [--at 50 150 300]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import numpy as np
import torch

from napari_partial_style import samples
from napari_partial_style.core.images import as_source_image, resize_native
from napari_partial_style.core.nets.vgg import TappedVGG, load_tapped_vgg
from napari_partial_style.core.params import StyleParams
from napari_partial_style.core.progress import drain
from napari_partial_style.core.runtime.device import get_device
from napari_partial_style.core.runtime.precision import at_precision, auto_precision
from napari_partial_style.core.style.objectives.gatys import TAPS
from napari_partial_style.core.style.pyramid import PyramidRequest, _Plan, stylize_regions
from napari_partial_style.core.style.regions import StyleRegion
from napari_partial_style.core.style.transfer import LevelRequest, optimise, style_stats

DEMO_WORKING, DEMO_FINAL = 256, 600


def network(device: torch.device, path: str | None) -> TappedVGG:
    torch.manual_seed(0)
    net = TappedVGG("vgg19", TAPS) if path is None else load_tapped_vgg(path, "vgg19", TAPS)
    net = net.to(device).eval().requires_grad_(False)
    return net.channels_last() if device.type == "cpu" else net  # as core.nets.vgg.tapped_vgg runs it


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def demo_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The demo's coffee (H×W×3 in [0, 1]), its cup labels and the stone (RGB in [0, 1])."""
    coffee = samples.coffee().astype(np.float32) / 255
    stone = np.repeat(samples.stone()[..., None], 3, axis=2).astype(np.float32) / 255
    return coffee, samples.coffee_cup_labels(), stone


def level_shape(size: str, coffee: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """256 → 256×256; "full" → the demo's last level over the cup's box (as the pyramid plans it)."""
    if size != "full":
        return int(size), int(size)
    plan = _Plan(StyleParams(), DEMO_WORKING, DEMO_FINAL, coffee.shape[:2], [labels > 0])
    return plan.layouts[0].shapes[-1]


def step_seconds(net, precision: str, content: np.ndarray, stone: np.ndarray, device, steps: int) -> float:
    """Median seconds of `steps` steps after one warm-up step."""
    params = StyleParams(precision=precision)
    wrapped = at_precision(net, precision, device)
    stats = style_stats(wrapped, [(resize_native(stone, content.shape[:2]), 1.0, None)], params, device)
    run = optimise(LevelRequest(wrapped, content, [(stats, None)], params, device, steps + 1))
    times = []
    for _ in range(steps + 1):
        sync(device)
        start = time.perf_counter()
        next(run)
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def pass_seconds(args, device, net) -> None:
    """One forward+backward of the network alone (what a step costs at least), best of `--steps` after one."""
    coffee, labels, _ = demo_inputs()
    print("| level (H×W) | " + " | ".join(f"{p} s" for p in args.precisions) + " |")
    for size in args.sizes:
        shape = level_shape(size, coffee, labels)
        image = torch.from_numpy(resize_native(coffee, shape)).permute(2, 0, 1)[None].to(device).requires_grad_(True)
        seconds = {}
        for precision in args.precisions:
            wrapped = at_precision(net, precision, device)
            times = []
            for _ in range(args.steps + 1):
                sync(device)
                start = time.perf_counter()
                sum(f.square().mean() for f in wrapped(image).values()).backward()
                sync(device)
                times.append(time.perf_counter() - start)
            seconds[precision] = min(times[1:])
        cells = [f"{seconds[p]:.3g} ({seconds[p] / seconds['float32']:.2f}×)" for p in args.precisions]
        print(f"| {size} ({shape[0]}×{shape[1]}) | " + " | ".join(cells) + " |", flush=True)


def speed(args, device, net) -> None:
    coffee, labels, stone = demo_inputs()
    slow: set[str] = set()
    print(
        "| level (H×W) | "
        + " | ".join(f"{p} s/step" for p in args.precisions)
        + " | "
        + " | ".join(f"{p} / float32" for p in args.precisions if p != "float32")
        + " |"
    )
    for size in args.sizes:
        shape = level_shape(size, coffee, labels)
        content = resize_native(coffee, shape)
        seconds = {
            p: step_seconds(net, p, content, stone, device, args.steps) for p in args.precisions if p not in slow
        }
        ratios = {p: seconds[p] / seconds["float32"] for p in seconds if p != "float32"}
        slow |= {p for p, r in ratios.items() if r > args.give_up}
        cells = [f"{seconds[p]:.3g}" if p in seconds else "not run" for p in args.precisions]
        cells += [f"{ratios[p]:.2f}×" if p in ratios else "not run" for p in args.precisions if p != "float32"]
        print(f"| {size} ({shape[0]}×{shape[1]}) | " + " | ".join(cells) + " |", flush=True)


def stylize(net, precision: str, size: int, steps: int, at: list[int], device) -> tuple[dict, np.ndarray]:
    """The demo's first level under `precision`: its losses at the `at` steps, and its result."""
    coffee, labels, stone = demo_inputs()
    params = StyleParams(steps=steps, precision=precision)
    region = StyleRegion(as_source_image(stone), labels)
    request = PyramidRequest(net, as_source_image(coffee), [region], params, device, size, size)
    losses: dict[int, dict[str, float]] = {}
    stylized = drain(stylize_regions(request), lambda e: e.step in at and losses.__setitem__(e.step, e.values))
    return losses, stylized.image


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else 10 * np.log10(1.0 / error)  # images in [0, 1]


def quality(args, device, net) -> None:
    mask = samples.coffee_cup_labels() > 0
    runs = {}
    variants = [(p, p, net) for p in args.precisions]
    if args.noise_floor:  # float32 again, summed in another order: how far two float32 runs drift apart
        nchw = copy.deepcopy(net).to(memory_format=torch.contiguous_format)
        nchw.memory_format = torch.contiguous_format
        variants.append(("float32, NCHW", "float32", nchw))
    for name, precision, variant in variants:
        start = time.perf_counter()
        runs[name] = stylize(variant, precision, args.size, args.steps, args.at, device)
        print(f"{name}: {time.perf_counter() - start:.0f} s for {args.steps} steps at {args.size} px", flush=True)
    base_losses, base_image = runs["float32"]
    print("| precision | step | style / float32's | content / float32's | PSNR in the cup (dB) |")
    for precision, (losses, image) in runs.items():
        if precision == "float32":
            continue
        for step in args.at:
            style = losses[step]["style"] / base_losses[step]["style"]
            content = losses[step]["content"] / base_losses[step]["content"]
            shown = f"{psnr(image[mask], base_image[mask]):.1f}" if step == args.at[-1] else ""
            print(f"| {precision} | {step} | {style:.4f} | {content:.4f} | {shown} |")
    for step in args.at:
        print(
            f"float32 at step {step}: style {base_losses[step]['style']:.4g}, content {base_losses[step]['content']:.4g}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("pass", "speed", "quality"))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precisions", nargs="+", default=["float32", "bfloat16", "float16"])
    parser.add_argument("--vgg19", help="torchvision's VGG19 checkpoint (default: random weights)")
    parser.add_argument("--sizes", nargs="+", default=["256", "512", "full"])
    parser.add_argument("--steps", type=int, default=None, help="speed: timed steps (3); quality: steps (300)")
    parser.add_argument("--give-up", type=float, default=4.0)
    parser.add_argument("--size", type=int, default=DEMO_WORKING)
    parser.add_argument("--at", type=int, nargs="+", default=[50, 150, 300])
    parser.add_argument(
        "--noise-floor", action="store_true", help="quality: also float32 with the network in NCHW layout (CPU)"
    )
    args = parser.parse_args()
    if "float32" not in args.precisions:
        args.precisions.insert(0, "float32")
    device = get_device(args.device)
    chosen, why = auto_precision(device)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads; auto: {chosen} ({why})")
    print("weights:", args.vgg19 or "random (seed 0)")
    net = network(device, args.vgg19)
    if args.what in ("pass", "speed"):
        args.steps = args.steps or 3
        (pass_seconds if args.what == "pass" else speed)(args, device, net)
    else:
        args.steps = args.steps or max(args.at)
        args.at = [a for a in args.at if a <= args.steps]
        quality(args, device, net)


if __name__ == "__main__":
    main()
