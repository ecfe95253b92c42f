"""DCSM per-class gradients: batched (`is_grads_batched`) vs looped, measured side by side.

One guided forward of the VGG16 FCN, then the gradients of K classes' summed fc8 maps with
respect to the nine tap tensors, both ways, at 288 and 512 px canvases with 4 and 10 classes.
Random weights: time does not depend on their values. Usage:
    python bench/bench_dcsm.py [--device cpu] [--repeats 3] [--canvases 288 512] [--classes 4 10]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from napari_partial_style.core.runtime.device import get_device
from napari_partial_style.core.segment.fcn import FCNClassifier
from napari_partial_style.core.segment.guided_relu import guided
from napari_partial_style.core.segment.saliency import tap_gradients


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds(model, x, classes, batched, device, repeats) -> float:
    times = []
    for _ in range(repeats + 1):
        sync(device)
        start = time.perf_counter()
        with guided(model):
            logits, taps = model.forward_taps(x.requires_grad_(True))
            tap_gradients(logits, taps, classes, batched)
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--canvases", type=int, nargs="+", default=[288, 512])
    parser.add_argument("--classes", type=int, nargs="+", default=[4, 10])
    args = parser.parse_args()
    device = get_device(args.device)
    torch.manual_seed(0)
    model = FCNClassifier([f"c{i}" for i in range(10)]).to(device).eval().requires_grad_(False)
    print(f"device {device}, torch {torch.__version__}, median of {args.repeats}")
    print(f"{'canvas':>6} {'K':>3} {'looped s':>9} {'batched s':>10} {'looped/batched':>15}")
    for side in args.canvases:
        x = torch.rand(1, 3, side, side, device=device)
        for k in args.classes:
            classes = list(range(k))
            looped = seconds(model, x, classes, False, device, args.repeats)
            batched = seconds(model, x, classes, True, device, args.repeats)
            print(f"{side:>6} {k:>3} {looped:>9.3f} {batched:>10.3f} {looped / batched:>15.2f}")


if __name__ == "__main__":
    main()
