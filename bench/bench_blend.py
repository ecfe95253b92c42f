"""Blends land where their weights say: the result's Gram distance to each style, by blend weight.

    TORCH_HOME=/tmp/scratch/th python bench/bench_blend.py [--size 128] [--steps 60]

The coffee photo (whole frame) stylized with a blend of two bundled textures, gravel (A) and brick
(B), at shares 1/0, 0.7/0.3, 0.3/0.7 and 0/1. For each result, the relative distance of its Gram
matrices to each style's, ‖G(result) − G(style)‖ / ‖G(style)‖ summed over the five style layers, in
the same network the loss uses. A blend works when the distance to A grows and the distance to B
shrinks as B's share grows. With random weights (bench/make_random_weights.py) this checks the
mechanism in a random network's feature space, not VGG19's.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    from skimage import data

    from napari_partial_style.api import Session, StyleRegion
    from napari_partial_style.core.images import as_source_image, resize_native, working_shape
    from napari_partial_style.core.nets.tensors import to_tensor
    from napari_partial_style.core.params import SessionParams, StyleParams
    from napari_partial_style.core.progress import drain
    from napari_partial_style.core.style.objectives.gatys import STYLE_LAYERS, gram
    from napari_partial_style.samples import coffee

    session = Session(SessionParams(device="cpu", size=args.size))
    net = drain(session.style_network("gatys"))
    content = coffee()
    a, b = (as_source_image(np.repeat(texture[..., None], 3, axis=2)) for texture in (data.gravel(), data.brick()))

    def grams(image: np.ndarray) -> dict[str, torch.Tensor]:
        work = resize_native(image, working_shape(image.shape[:2], args.size))
        with torch.no_grad():
            features = net(to_tensor(work, session.device))
        return {name: gram(features[name]) for name in STYLE_LAYERS}

    targets = {"A": grams(a.native), "B": grams(b.native)}

    def distance(g: dict, to: dict) -> float:
        return sum(float(torch.linalg.norm(g[n] - to[n]) / torch.linalg.norm(to[n])) for n in STYLE_LAYERS)

    params = StyleParams(steps=args.steps, max_size=args.size)
    print(f"coffee at {args.size} px, {args.steps} steps; distance = Σ over layers ‖G − G_style‖ / ‖G_style‖")
    print("| share of A (gravel) / B (brick) | to A | to B |")
    print("|---|---|---|")
    for share in (1.0, 0.7, 0.3, 0.0):
        if share in (0.0, 1.0):
            region = StyleRegion(a if share else b)
        else:
            region = StyleRegion(a, weight=share, blend=((b, 1.0 - share),))
        result = session.stylize(content, [region], params).result()
        g = grams(result)
        print(f"| {share:g} / {1 - share:g} | {distance(g, targets['A']):.3f} | {distance(g, targets['B']):.3f} |")


if __name__ == "__main__":
    main()
