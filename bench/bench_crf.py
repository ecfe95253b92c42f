"""Dense CRF: torch against pydensecrf (seconds, agreement), and the background settings where
evidence is known.

1. Seconds of 10 mean-field iterations (stepped, as the pipeline runs them, lattice set-up included)
   at several sizes, on the bundled photo and on random pixels, torch and pydensecrf alternating in
   one run (and torch on CUDA when there is one); torch also with its spatial lattice already built
   for that size (a re-run, a batch, a stack's slices).
   Label agreement and the largest marginal difference between the two on the cases below and on the
   bundled coffee photo.
2. Labels against the truth (mean IU over background and every target), averaged over seeds, for
   each map calibration (none, otsu) and background exponent α, on a suite of known-evidence cases:
   - coarse N: the hand-built classifier of tests/tiny_classifier.py (red pixels are its class 0)
     looks at a textured red ellipse on a textured grey-blue background; its DCSM map is computed as
     in a real job. Larger max-pooling windows N route the gradients to fewer pixels, as VGG16's
     pooling does, so the maps get coarser: α ≥ 4 spilled the target over the image here.
   - peaky: a map whose evidence is concentrated on a few spots: mean 0.44 inside the object while
     its peak is 1 (what the paper's (1 − max M)^α at α = 1 loses entirely).
   - two targets: a strong target and a peaky weaker one (mean 0.3 inside) side by side.
   - two classes (tiny classifier): a red and a green ellipse, both targets, DCSM maps of both.
Usage: python bench/bench_crf.py [--sizes 256 512 1024 2048] [--seeds 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from napari_partial_style.core.images import to_uint8
from napari_partial_style.core.params import CALIBRATIONS, CRFParams
from napari_partial_style.core.progress import drain
from napari_partial_style.core.segment import crf_torch
from napari_partial_style.core.segment.crf import crf_stage
from napari_partial_style.core.segment.metrics import confusion, mean_iu
from napari_partial_style.core.segment.saliency import SaliencyParams, dcsm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from tiny_classifier import TinyTapped  # noqa: E402

ALPHAS = (1, 2, 4, 8)
H, W = 96, 128


def test_image(size: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """`noise`: random pixels, the lattice's worst case (nearly every vertex its own point);
    `photo`: the bundled coffee photo stretched to size², with smooth random maps."""
    from napari_partial_style import samples
    from napari_partial_style.core.images import resize_rgb

    rng = np.random.default_rng(0)
    if kind == "noise":
        return rng.integers(0, 256, (size, size, 3), dtype=np.uint8), rng.random((2, size, size)).astype(np.float32)
    img = to_uint8(resize_rgb(samples.coffee().astype(np.float32) / 255, (size, size)))
    maps = gaussian_filter(rng.random((2, size, size)), size / 32).astype(np.float32)
    return img, maps / maps.max()


def crf_seconds(img: np.ndarray, maps: np.ndarray, method: str, device: str = "cpu", warm: bool = False) -> float:
    """One CRF job; cold unless `warm` (then the spatial lattice of this size is already built)."""
    if not warm:
        crf_torch._cached_spatial_lattice.cache_clear()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    drain(crf_stage(img, maps, CRFParams(method=method), device))
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def speed_table(sizes: list[int], rounds: int = 3) -> None:
    """Best of `rounds` alternating runs per size, image and method."""
    runs = [("torch", "cpu", False), ("torch", "cpu", True), ("pydensecrf", "cpu", False)]
    if torch.cuda.is_available():
        runs.append(("torch", "cuda", False))
        crf_seconds(*test_image(64, "noise"), "torch", "cuda")  # CUDA context and kernels, once
    names = {
        ("torch", "cpu", False): "torch CPU",
        ("torch", "cpu", True): "torch CPU, size seen before",
        ("pydensecrf", "cpu", False): "pydensecrf CPU",
        ("torch", "cuda", False): "torch CUDA",
    }
    print("| image | size | " + " | ".join(f"{names[r]} (s)" for r in runs) + " | torch/pydensecrf (cold) |")
    print("|---|---|" + "---|" * (len(runs) + 1))
    for kind in ("photo", "noise"):
        for size in sizes:
            img, maps = test_image(size, kind)
            times = {r: [] for r in runs}
            for _ in range(rounds):
                for r in runs:  # the warm run follows the cold one, whose spatial lattice it reuses
                    times[r].append(crf_seconds(img, maps, *r))
            best = {r: min(t) for r, t in times.items()}
            ratio = best[runs[0]] / best[runs[2]]
            print(
                f"| {kind} | {size}² | " + " | ".join(f"{best[r]:.3f}" for r in runs) + f" | {ratio:.2f} |", flush=True
            )


def agreement_table(seeds: int) -> None:
    """torch vs pydensecrf on the known-evidence cases (default settings) and the coffee photo."""
    from napari_partial_style import samples
    from napari_partial_style.core.images import resize_rgb, working_shape

    print("| case | label agreement | largest marginal difference |")
    print("|---|---|---|")
    coffee = resize_rgb(samples.coffee().astype(np.float32) / 255, working_shape((400, 600), 256))
    rng = np.random.default_rng(0)
    coffee_maps = gaussian_filter(rng.random((2, *coffee.shape[:2])), 8).astype(np.float32)
    inputs = {name: [case(name, seed)[:2] for seed in range(seeds)] for name in CASES}
    inputs["coffee photo, smooth random maps"] = [(coffee, coffee_maps / coffee_maps.max())]
    for name, pairs in inputs.items():
        agree, worst = [], 0.0
        for img, maps in pairs:
            ours, q1 = drain(crf_stage(to_uint8(img), maps, CRFParams(method="torch")))
            ref, q2 = drain(crf_stage(to_uint8(img), maps, CRFParams(method="pydensecrf")))
            agree.append(float((ours == ref).mean()))
            worst = max(worst, float(np.abs(q1 - q2).max()))
        print(f"| {name} | {np.mean(agree):.4f} | {worst:.1e} |")


def ellipse(cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1


def textured(rng: np.random.Generator, regions: list[tuple[np.ndarray, tuple[float, float, float]]]) -> np.ndarray:
    """Grey-blue textured background with each region painted in its colour, textured too."""
    blocks = np.kron(rng.random((H // 4, W // 4)), np.ones((4, 4)))
    img = np.stack([0.35 + 0.2 * blocks, 0.35 + 0.2 * blocks, 0.45 + 0.3 * blocks], axis=2)
    for mask, colour in regions:
        img[mask] = np.asarray(colour) * (0.45 + 0.55 * blocks[mask, None])
    return np.clip(img + rng.normal(0, 0.03, img.shape), 0, 1).astype(np.float32)


def peaky_map(mask: np.ndarray, rng: np.random.Generator, inside_mean: float) -> np.ndarray:
    """Peak 1 inside `mask`, mean `inside_mean` there, faint and smooth outside."""
    field = gaussian_filter(rng.random(mask.shape), 3)
    field = (field - field[mask].min()) / np.ptp(field[mask])
    lo, hi = 0.05, 20.0
    for _ in range(50):  # the power whose mean inside is inside_mean
        power = (lo + hi) / 2
        lo, hi = (power, hi) if np.mean(np.clip(field[mask], 0, 1) ** power) > inside_mean else (lo, power)
    m = np.where(mask, np.clip(field, 0, 1) ** power, 0.12 * np.clip(field, 0, 1))
    m = gaussian_filter(m, 1.5)
    return np.clip(m / m.max(), 1e-20, 1).astype(np.float32)


def tiny_maps(img: np.ndarray, targets: tuple[str, ...], pool: int) -> np.ndarray:
    params = SaliencyParams(targets=targets, subtract=("red thing", "blue thing", "green thing", "dark thing"))
    return drain(dcsm(TinyTapped(pool), img, params, torch.device("cpu"))).maps


def case(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, maps, truth labels 0..K) of one case."""
    rng = np.random.default_rng(seed)
    red, left, right = (
        ellipse(H / 2, W / 2, H / 3, W / 4),
        ellipse(H / 2, W / 4, H / 3, W / 6),
        ellipse(H / 2, 3 * W / 4, H / 3, W / 6),
    )
    if name.startswith("coarse"):
        img = textured(rng, [(red, (1.0, 0.1, 0.1))])
        return img, tiny_maps(img, ("red thing",), int(name.split()[1])), red.astype(np.int64)
    if name == "peaky":
        img = textured(rng, [(red, (1.0, 0.1, 0.1))])
        return img, peaky_map(red, rng, 0.44)[None], red.astype(np.int64)
    if name == "two targets":
        img = textured(rng, [(left, (1.0, 0.1, 0.1)), (right, (0.1, 0.8, 0.1))])
        maps = np.stack([peaky_map(left, rng, 0.7), peaky_map(right, rng, 0.3)])
        return img, maps, left + 2 * right
    img = textured(rng, [(left, (1.0, 0.1, 0.1)), (right, (0.1, 1.0, 0.1))])
    return img, tiny_maps(img, ("red thing", "green thing"), 8), left + 2 * right


CASES = ("coarse 2", "coarse 8", "coarse 16", "peaky", "two targets", "two classes")


def suite(seeds: int) -> dict[tuple[str, str, str, int], float]:
    """Mean IU per (case, CRF method, calibration, α), averaged over seeds."""
    results: dict[tuple[str, str, str, int], list[float]] = {}
    for name in CASES:
        for seed in range(seeds):
            img, maps, truth = case(name, seed)
            n = maps.shape[0] + 1
            for method in ("torch", "none"):
                for calibration in CALIBRATIONS:
                    for alpha in ALPHAS:
                        params = CRFParams(method=method, calibration=calibration, background_alpha=alpha)
                        labels, _ = drain(crf_stage(to_uint8(img), maps, params))
                        score = mean_iu(confusion(truth, labels.astype(np.int64), n))
                        results.setdefault((name, method, calibration, alpha), []).append(score)
    return {key: float(np.mean(v)) for key, v in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    print("dense CRF, two maps (three labels with the background), 10 iterations, stepped, lattice set-up included")
    speed_table(args.sizes)
    print("\ntorch CRF against pydensecrf, same unaries and image")
    agreement_table(args.seeds)
    results = suite(args.seeds)
    for method in ("torch", "none"):
        print(f"\nmean IU against the truth, {method}, {args.seeds} seeds")
        print("| calibration | α | " + " | ".join(CASES) + " | worst |")
        print("|---|---|" + "---|" * (len(CASES) + 1))
        for calibration in CALIBRATIONS:
            for alpha in ALPHAS:
                row = [results[(name, method, calibration, alpha)] for name in CASES]
                print(f"| {calibration} | {alpha} | " + " | ".join(f"{v:.3f}" for v in row) + f" | {min(row):.3f} |")


if __name__ == "__main__":
    main()
