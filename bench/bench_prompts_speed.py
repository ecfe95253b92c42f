"""Prompts: seconds per prompt, and what one click does with and without the appearance model.

1. Speed: `Session.recrf` with 1..20 prompts (each call holds every prompt so far, as a session of
   clicks does), from saliency maps already computed, on the bundled coffee photo resized to 0.25,
   1 and 4 Mpx, at the CPU's default working size and the CRF's default iterations; median and
   largest wall seconds and median CPU seconds (all threads; a busy machine disturbs them less) per
   prompt, appearance model on (the default) and off, in one run side by side.
2. One click: IoU of the labels after one positive click at the centre of a square of one
   scikit-image texture on another, with flat zero saliency (the classifier sees nothing), with the
   appearance model and without it.
Usage: python bench/bench_prompts_speed.py [--threads 2] [--prompts 20] [--mpx 0.25 1 4]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from skimage import data, transform

from napari_partial_style import samples
from napari_partial_style.api import Prompt, Prompts, Session
from napari_partial_style.core.params import CRFParams, SessionParams

TEXTURES = ("grass", "brick", "gravel")


def photo(mpx: float) -> np.ndarray:
    coffee = samples.coffee()
    h, w = coffee.shape[:2]
    scale = (mpx * 1e6 / (h * w)) ** 0.5
    shape = (round(h * scale), round(w * scale))
    return transform.resize(coffee, shape, anti_aliasing=False).astype(np.float32)


def cup_map(shape: tuple[int, int]) -> np.ndarray:
    """A smooth blob where the cup is: saliency as the CRF receives it."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    cy, cx = 0.5 * shape[0], 0.55 * shape[1]
    blob = np.exp(-(((yy - cy) / (0.3 * shape[0])) ** 2 + ((xx - cx) / (0.25 * shape[1])) ** 2))
    return blob[None].astype(np.float32)


def speed(session: Session, mpx: float, count: int) -> dict[str, list[float]]:
    image = photo(mpx)
    maps = cup_map(image.shape[:2])
    rng = np.random.default_rng(0)
    times: dict[str, list[float]] = {f"{name} {clock}": [] for name in ("on", "off") for clock in ("wall", "cpu")}
    session.recrf(image, maps, ["cup"]).result()  # the spatial lattice and torch's first call
    prompts = Prompts()
    for index in range(count):
        row, col = (rng.integers(0, n) for n in image.shape[:2])
        prompts = prompts.add(Prompt(index % 2 == 0, "cup", np.array([row]), np.array([col]), radius=4))
        for name, weight in (("on", 1.0), ("off", 0.0)):
            start, cpu = time.perf_counter(), time.process_time()
            session.recrf(image, maps, ["cup"], CRFParams(appearance=weight), prompts).result()
            times[f"{name} wall"].append(time.perf_counter() - start)
            times[f"{name} cpu"].append(time.process_time() - cpu)
    return times


def scene(fg: str, bg: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    inner = transform.resize(getattr(data, fg)(), (n, n), anti_aliasing=True)
    outer = transform.resize(getattr(data, bg)(), (n, n), anti_aliasing=True)
    truth = np.zeros((n, n), bool)
    truth[n // 4 : 3 * n // 4, n // 4 : 3 * n // 4] = True
    return np.dstack([np.where(truth, inner, outer)] * 3).astype(np.float32), truth


def one_click(n: int) -> None:
    session = Session(SessionParams(device="cpu", size=n))
    print(f"\n## One positive click, flat zero saliency, {n}×{n}: IoU with the square")
    print("| square | around it | appearance on | appearance off |\n|---|---|---|---|")
    on_all, off_all = [], []
    for fg in TEXTURES:
        for bg in TEXTURES:
            if fg == bg:
                continue
            image, truth = scene(fg, bg, n)
            click = Prompts((Prompt(True, "square", np.array([n // 2]), np.array([n // 2]), radius=2),))
            row = []
            for weight in (1.0, 0.0):
                labels = (
                    session.recrf(
                        image, np.zeros((1, n, n), np.float32), ["square"], CRFParams(appearance=weight), click
                    )
                    .result()
                    .labels
                )
                got = labels == 1
                row.append((got & truth).sum() / (got | truth).sum())
            on_all.append(row[0])
            off_all.append(row[1])
            print(f"| {fg} | {bg} | {row[0]:.3f} | {row[1]:.3f} |")
    print(f"| mean | | {np.mean(on_all):.3f} | {np.mean(off_all):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prompts", type=int, default=20)
    parser.add_argument("--mpx", type=float, nargs="+", default=[0.25, 1.0, 4.0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[128, 256], help="one-click scenes' sides")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    session = Session(SessionParams(device="cpu"))
    print(f"torch {torch.__version__}, {args.threads} threads, CPU working size {session.size_for((1000, 1000))} px")
    print("\n## Seconds per prompt (Session.recrf, default CRF iterations)")
    print("| photo | appearance on: median | largest | CPU median | appearance off: median | largest | CPU median |")
    print("|---|---|---|---|---|---|---|")
    for mpx in args.mpx:
        t = speed(session, mpx, args.prompts)
        cells = [
            f"{f(t[f'{name} {clock}']):.3f}"
            for name in ("on", "off")
            for clock, f in (("wall", statistics.median), ("wall", max), ("cpu", statistics.median))
        ]
        print(f"| {mpx:g} Mpx | " + " | ".join(cells) + " |")
    for n in args.sizes:
        one_click(n)


if __name__ == "__main__":
    main()
