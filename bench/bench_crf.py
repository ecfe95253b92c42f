"""Dense CRF: seconds vs image size, and the background exponent α measured where evidence is known.

1. Seconds of 10 mean-field iterations (stepped, as the pipeline runs them) at several sizes.
2. α: the tiny hand-built classifier of tests/tiny_classifier.py (red pixels are class 0) looks at
   a textured red ellipse on a textured grey-blue background; larger pooling windows route the
   gradients to fewer pixels, as VGG16's four pooling layers do. Its DCSM map is computed as in a real
   job; the CRF (and the plain argmax) then label the image for each α, and mean IU against the
   ellipse is reported, averaged over seeds.
Usage: python bench/bench_crf.py [--sizes 128 256 512 1024] [--seeds 5] [--pools 2 8 16]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from napari_partial_style.core.crf import CRFParams, crf_stage
from napari_partial_style.core.images import to_uint8
from napari_partial_style.core.metrics import confusion, mean_iu
from napari_partial_style.core.progress import drain
from napari_partial_style.core.saliency import SaliencyParams, dcsm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from tiny_classifier import TinyTapped  # noqa: E402

ALPHAS = (1, 2, 4, 8, 16, 32)


def crf_seconds(size: int) -> float:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    maps = rng.random((2, size, size)).astype(np.float32)
    start = time.perf_counter()
    drain(crf_stage(img, maps, CRFParams()))
    return time.perf_counter() - start


def textured_scene(seed: int, h: int = 96, w: int = 128) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    truth = ((yy - h / 2) / (h / 3)) ** 2 + ((xx - w / 2) / (w / 4)) ** 2 < 1
    blocks = np.kron(rng.random((h // 4, w // 4)), np.ones((4, 4)))
    img = np.empty((h, w, 3), np.float32)
    img[..., 0] = np.where(truth, 0.3 + 0.7 * blocks, 0.35 + 0.2 * blocks)
    img[..., 1] = np.where(truth, 0.1 * blocks, 0.35 + 0.2 * blocks)
    img[..., 2] = np.where(truth, 0.1 * blocks, 0.45 + 0.3 * blocks)
    return np.clip(img + rng.normal(0, 0.03, img.shape), 0, 1).astype(np.float32), truth


def alpha_table(seeds: int, pool: int) -> None:
    results = {(method, a): [] for method in ("pydensecrf", "none") for a in ALPHAS}
    mean_map = []
    for seed in range(seeds):
        img, truth = textured_scene(seed)
        sal = drain(dcsm(TinyTapped(pool), img, SaliencyParams(targets=("red thing",)), torch.device("cpu")))
        mean_map.append(float(sal.maps[0][truth].mean()))
        for (method, a), scores in results.items():
            labels, _ = drain(crf_stage(to_uint8(img), sal.maps, CRFParams(method=method, background_alpha=a)))
            hist = confusion(truth.astype(np.int64), (labels > 0).astype(np.int64), 2)
            scores.append(mean_iu(hist))
    print(f"{pool}x{pool} max pooling: mean DCSM value inside the object {np.mean(mean_map):.2f}")
    print(f"{'alpha':>5} {'mean IU, CRF':>13} {'mean IU, argmax':>16}")
    for a in ALPHAS:
        print(f"{a:>5} {np.mean(results[('pydensecrf', a)]):>13.3f} {np.mean(results[('none', a)]):>16.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512, 1024])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pools", type=int, nargs="+", default=[2, 8, 16])
    args = parser.parse_args()
    print("dense CRF, 2 labels, 10 iterations, stepped")
    print(f"{'size':>6} {'seconds':>8} {'s per Mpx':>10}")
    for size in args.sizes:
        s = crf_seconds(size)
        print(f"{size:>6} {s:>8.3f} {s / (size * size / 1e6):>10.2f}")
    for pool in args.pools:
        print()
        alpha_table(args.seeds, pool)


if __name__ == "__main__":
    main()
