"""Memory of a job document's history on a 12 Mpx photo: 20 whole steps against 1.

The steps a person makes in an afternoon: brush strokes on the labels, a composite after each,
and now and then a new stylized image; each step keeps the values it replaced (compressed where
that pays) until the history's bound (DEFAULT_LIMIT, 1 GB) forgets the oldest. Prints the
history's own count and the process's resident memory after 1 and after 20 steps.

    python bench/bench_history.py [--megapixels 12] [--steps 20]
"""

from __future__ import annotations

import argparse
import gc

import numpy as np
import psutil

from napari_partial_style.core.images import as_source_image
from napari_partial_style.core.job.document import JobDocument, Stamped
from napari_partial_style.core.job.history import DEFAULT_LIMIT
from napari_partial_style.core.job.pipeline import CompositeResult, StyleResult


def photo(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Smooth shading with fine grain, as a photo has (pure noise would be the worst case)."""
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    base = np.stack([np.sin(x / 300 + c) * np.cos(y / 200 - c) for c in (0, 1, 2)], axis=2) * 90 + 128
    return np.clip(base + rng.normal(0, 6, (*shape, 3)), 0, 255).astype(np.uint8)


def rss() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=12)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    w = int((args.megapixels * 1e6 * 4 / 3) ** 0.5)
    shape = (w * 3 // 4, w)
    content = photo(shape, rng)
    labels = np.zeros(shape, np.uint8)
    labels[shape[0] // 4 : shape[0] * 3 // 4, shape[1] // 4 : shape[1] * 3 // 4] = 1
    doc = JobDocument(as_source_image(content), labels=labels)
    mask = labels > 0

    def stylized() -> StyleResult:
        return StyleResult(photo(shape, rng), mask.copy(), {}, None)

    def composited() -> CompositeResult:
        return CompositeResult(photo(shape, rng), mask.astype(np.float16), mask.copy(), {})

    doc.results["stylize"] = Stamped(stylized(), {})
    doc.results["composite"] = Stamped(composited(), {})
    print(f"{shape[1]}×{shape[0]} ({shape[0] * shape[1] / 1e6:.1f} Mpx), history bound {DEFAULT_LIMIT / 1e9:.2f} GB")
    after: dict[int, tuple[float, float]] = {}
    for step in range(1, args.steps + 1):
        if step % 5 == 0:  # now and then a new style transfer
            doc.history.record(doc, "stylize", {"results.stylize": Stamped(stylized(), {})})
        else:  # a brush stroke and its composite
            edited = doc.labels.copy()
            edited[step * 40 : step * 40 + 60, 100 : shape[1] // 2] = step % 3
            doc.edit_labels(edited)
        doc.history.record(doc, "composite", {"results.composite": Stamped(composited(), {})})
        if step in (1, args.steps):
            after[step] = (doc.history.nbytes / 1e9, rss())
    (h1, r1), (hn, rn) = after[1], after[args.steps]
    print(f"after 1 step: history {h1:.3f} GB, process {r1:.2f} GB")
    print(f"after {args.steps} steps: history {hn:.3f} GB, process {rn:.2f} GB ({len(doc.history.done)} steps kept)")
    print(f"{args.steps} steps cost {rn - r1:.2f} GB more than 1 (history {hn - h1:.3f} GB)")


if __name__ == "__main__":
    main()
