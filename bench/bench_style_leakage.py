"""Style-statistics leakage from a style photo's background, with and without a style region.

    TORCH_HOME=/tmp/scratch/th python bench/bench_style_leakage.py [--size 256]

The style photo is the bundled stone texture with its right 40% replaced by part of the coffee
photo (a table, a cup, a wall: what a real photo of a material also shows). The reference is the
stone part alone. For each style layer, the relative distance ‖G − G_stone‖ / ‖G_stone‖ between the
Gram targets the job would use and the stone's own: the whole photo (today's default), and the photo
with its stone region as the style mask (what --style-mask, a painted style layer or a correct
--style-region gives). Lower is less leakage. This measures the targets themselves, which every
step of the transfer is pulled towards, so it holds for any number of steps. The VGG19 weights are
whatever the hub holds: with random weights (bench/make_random_weights.py) the numbers describe a
random network's features, so rerun with the real weights before quoting them as VGG19's.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def style_photo(size: int) -> tuple[np.ndarray, np.ndarray]:
    from napari_partial_style.core.images import resize_native, resize_plane
    from napari_partial_style.samples import coffee, stone

    grey = stone()[:400]  # the coffee photo's height
    photo = np.repeat(grey[..., None], 3, axis=2)
    h, w = photo.shape[:2]
    cut = round(w * 0.6)
    distraction = coffee()[:h, 100 : 100 + w - cut]
    photo[:, cut:] = distraction
    mask = np.zeros((h, w), bool)
    mask[:, :cut] = True
    scale = size / max(h, w)
    shape = (round(h * scale), round(w * scale))
    return (resize_native(photo, shape) * 255).round().astype(np.uint8), resize_plane(
        mask.astype(np.float32), shape
    ) > 0.5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    from napari_partial_style.api import Session
    from napari_partial_style.core.images import as_source_image
    from napari_partial_style.core.io import weights
    from napari_partial_style.core.params import SessionParams, StyleParams
    from napari_partial_style.core.progress import drain
    from napari_partial_style.core.style.objectives.gatys import STYLE_LAYERS
    from napari_partial_style.core.style.pyramid import _style_stats
    from napari_partial_style.core.style.regions import StyleRegion, with_style_region

    session = Session(SessionParams(device="cpu"))
    net = drain(session.style_network("gatys"))
    photo, mask = style_photo(args.size)
    params = StyleParams()
    source = as_source_image(photo)
    stone_only = as_source_image(np.ascontiguousarray(photo[:, : mask.any(axis=0).sum()]))
    cases = {"whole photo (default)": source, "stone region as the style mask": with_style_region(source, mask)}
    reference = _style_stats(net, StyleRegion(stone_only), max(stone_only.shape), params, session.device)
    print(
        f"VGG19: {weights.hub_folder() / weights.VGG19.filename}; style photo {photo.shape[1]}×{photo.shape[0]}, "
        f"stone {mask.mean():.0%} of it"
    )
    print("| style targets | " + " | ".join(STYLE_LAYERS) + " | mean | seconds |")
    print("|---|" + "---|" * (len(STYLE_LAYERS) + 2))
    for name, image in cases.items():
        start = time.perf_counter()
        stats = _style_stats(net, StyleRegion(image), args.size, params, session.device)
        seconds = time.perf_counter() - start
        distances = [
            float(torch.linalg.norm(stats[n] - reference[n]) / torch.linalg.norm(reference[n])) for n in STYLE_LAYERS
        ]
        print(
            f"| {name} | " + " | ".join(f"{d:.3f}" for d in distances) + f" | {np.mean(distances):.3f} | "
            f"{seconds:.2f} |"
        )


if __name__ == "__main__":
    main()
