"""Training throughput: images per second of `Trainer.step` (load, letterbox, forward, backward,
SGD) on generated images, so the time of an FMD epoch can be estimated. Random weights and data:
speed does not depend on them. Usage:
    python bench/bench_training.py [--device auto] [--size 448] [--batch-size 16] [--steps 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from napari_partial_style.core.io.image_files import write_image_file
from napari_partial_style.core.runtime.device import get_device
from napari_partial_style.core.train.datasets import load_dataset
from napari_partial_style.core.train.training import Trainer, TrainParams


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="auto")
    parser.add_argument("--size", type=int, default=448)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    device = get_device(args.device)
    root = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    for c in range(10):
        folder = root / f"class{c}"
        folder.mkdir()
        for i in range(args.batch_size):
            write_image_file(folder / f"{i}.png", rng.integers(0, 256, (384, 512, 3), dtype=np.uint8))
    dataset = load_dataset(root)
    params = TrainParams(epochs=1, size=args.size, batch_size=args.batch_size, pretrained=False, val_fraction=0)
    trainer = Trainer(dataset, params, root / "m.pt", device)
    batches = [np.arange(i * args.batch_size, (i + 1) * args.batch_size) % len(dataset) for i in range(args.steps + 1)]
    trainer.step(batches[0], augment=True)  # warm-up, and images decoded once as in an epoch after the first
    for b in batches[1:]:
        for i in b:
            trainer.image(int(i))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for b in batches[1:]:
        trainer.step(b, augment=True)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = (time.perf_counter() - start) / args.steps
    per_second = args.batch_size / seconds
    print(f"device {device}, torch {torch.__version__}, size {args.size}, batch {args.batch_size}")
    print(f"{seconds:.3f} s per step, {per_second:.1f} images/s; an 800-image FMD epoch ≈ {800 / per_second:.0f} s")


if __name__ == "__main__":
    main()
