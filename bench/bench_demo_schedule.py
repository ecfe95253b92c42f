"""The demo's style stage under a step schedule: its losses after every step of each level and its result,
so schedules can be compared with today's (300 steps at 256 px, 60 at 600 px) on quality as well as time.

The demo's job with the bundled cup labels (no segmentation: the region is the same in every run): the coffee
photo, the stone, the default StyleParams but `--steps`/`--fine-steps`, working size 256 and result 600 as the
demo runs on a CPU. A fine level that starts from the same coarse result follows the same path whatever its
step count, so one run with N fine steps also gives every schedule with fewer; the losses of each fine step
and the images at `--save-at` fine steps are written to `--out` (an .npz) for `compare`.

Usage:
    python bench/bench_demo_schedule.py run --steps 300 --fine-steps 60 --out base.npz [--threads 1]
    python bench/bench_demo_schedule.py compare base.npz other.npz [--fine 20 30 40 60] [--coarse 150 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from napari_partial_style import samples
from napari_partial_style.core.images import as_source_image
from napari_partial_style.core.params import StyleParams
from napari_partial_style.core.progress import drain
from napari_partial_style.core.runtime.device import get_device
from napari_partial_style.core.style.pyramid import PyramidRequest, stylize_regions
from napari_partial_style.core.style.regions import StyleRegion

WORKING, FINAL = 256, 600  # the demo's levels on a CPU
SAVE_EVERY = 10


def run(args: argparse.Namespace) -> None:
    from bench_precision import network  # the truncated VGG19, channels-last on the CPU, as jobs load it

    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device("cpu")
    net = network(device, args.vgg19)
    params = StyleParams(steps=args.steps, fine_steps=args.fine_steps)
    region = StyleRegion(as_source_image(samples.stone()), samples.coffee_cup_labels())
    request = PyramidRequest(
        net, as_source_image(samples.coffee()), [region], params, device, WORKING, FINAL, SAVE_EVERY
    )
    losses: list[dict[str, float]] = []
    images: dict[int, np.ndarray] = {}
    times: list[float] = []
    clock = [time.process_time()]

    def seen(event) -> None:
        now = time.process_time()
        times.append(now - clock[0])
        clock[0] = now
        losses.append(event.values)
        fine = event.step - args.steps
        if event.preview is not None and fine > 0:
            images[fine] = np.asarray(event.preview, np.float32)

    result = drain(stylize_regions(request), seen)
    names = sorted(losses[-1])
    np.savez(
        args.out,
        names=np.array(names),
        losses=np.array([[v.get(n, np.nan) for n in names] for v in losses]),
        cpu=np.array(times),
        coarse=args.steps,
        result=np.asarray(result.image, np.float32),
        fine_at=np.array(sorted(images)),
        fine_images=np.stack([images[k] for k in sorted(images)]),
    )
    print(
        f"{args.out}: {len(losses)} steps, CPU s per coarse step {np.median(times[1 : args.steps]):.3f}, per fine step "
        f"{np.median(times[args.steps + 1 :]):.3f}, {torch.get_num_threads()} threads"
    )


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else float(10 * np.log10(1.0 / error))


def compare(args: argparse.Namespace) -> None:
    base = np.load(args.base)
    names = list(base["names"])
    mask = samples.coffee_cup_labels() > 0
    final = base["losses"][-1]
    reference = base["fine_images"][-1]  # today's result at its last fine step, before rounding to the content's dtype
    print(
        f"today: {int(base['coarse'])} + {len(base['losses']) - int(base['coarse'])} steps; "
        + ", ".join(f"{n} {final[names.index(n)]:.4g}" for n in ("style", "content", "total"))
    )
    coarse_end = base["losses"][int(base["coarse"]) - 1]
    for k in args.coarse:
        row = base["losses"][k - 1]
        print(
            f"coarse level after {k} steps / after {int(base['coarse'])}: "
            + ", ".join(
                f"{n} {row[names.index(n)] / coarse_end[names.index(n)]:.4f}" for n in ("style", "content", "total")
            )
        )
    print("| schedule | style / today's | content / today's | total / today's | PSNR in the cup vs today's (dB) |")
    print("|---|---|---|---|---|")
    for path in args.others:
        other = np.load(path)
        coarse = int(other["coarse"])
        fine_at = list(other["fine_at"])
        for k in args.fine:
            row = other["losses"][coarse + k - 1]
            cells = [row[names.index(n)] / final[names.index(n)] for n in ("style", "content", "total")]
            shown = ""
            if k in fine_at:
                image = other["fine_images"][fine_at.index(k)]
                shown = f"{psnr(image[mask], reference[mask]):.1f}"
            print(f"| {coarse} + {k} | " + " | ".join(f"{c:.4f}" for c in cells) + f" | {shown} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("run")
    one.add_argument("--steps", type=int, default=300)
    one.add_argument("--fine-steps", type=int, default=60)
    one.add_argument("--out", required=True)
    one.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    one.add_argument("--vgg19", help="torchvision's VGG19 checkpoint (default: random weights, seed 0)")
    two = sub.add_parser("compare")
    two.add_argument("base")
    two.add_argument("others", nargs="+")
    two.add_argument("--fine", type=int, nargs="+", default=[10, 20, 30, 40, 50, 60])
    two.add_argument("--coarse", type=int, nargs="+", default=[100, 150, 200, 250], help="base's coarse steps to show")
    args = parser.parse_args()
    run(args) if args.what == "run" else compare(args)


if __name__ == "__main__":
    main()
