"""A small texture dataset from scikit-image's bundled textures, for an evaluation that runs offline.

    python scripts/make_texture_proxy.py --out DIR

Writes DIR/train/<class>/ (crops from the top 60% of each texture, for `train`), DIR/styles/<class>/
(crops from the bottom 40%, never seen in training) and DIR/contents/: scenes of one texture with a
region of another, each with its `<name>_mask.png`. Classes: brick, grass, gravel. A proxy for FMD,
which cannot be downloaded here; docs/evaluation.md says what it can and cannot show.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from skimage import data

from napari_partial_style.core.io.image_files import write_image_file

CLASSES = ("brick", "grass", "gravel")
CROP = 160


def crops(image: np.ndarray, rows: tuple[int, int], n: int, rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for _ in range(n):
        top = int(rng.integers(rows[0], rows[1] - CROP))
        left = int(rng.integers(0, image.shape[1] - CROP))
        crop = image[top : top + CROP, left : left + CROP]
        out.append(np.rot90(crop, int(rng.integers(4))).copy())
    return out


def scene(background: np.ndarray, inside: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """`background` with an ellipse of `inside` in the middle, and the ellipse as a mask."""
    h, w = shape
    yy, xx = np.mgrid[:h, :w]
    mask = ((yy - h / 2) / (h * 0.3)) ** 2 + ((xx - w / 2) / (w * 0.25)) ** 2 <= 1
    out = background[:h, :w].copy()
    out[mask] = inside[:h, :w][mask]
    return out, (mask * 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--per-class", type=int, default=20, help="training crops per class")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    textures = {name: getattr(data, name)() for name in CLASSES}
    split = int(0.6 * 512)
    for name, image in textures.items():
        for kind in ("train", "styles"):
            (args.out / kind / name).mkdir(parents=True, exist_ok=True)
        for i, crop in enumerate(crops(image, (0, split), args.per_class, rng)):
            write_image_file(args.out / "train" / name / f"{name}{i:02d}.png", crop)
        for i, crop in enumerate(crops(image, (split, 512), 2, rng)):
            write_image_file(args.out / "styles" / name / f"{name}_style{i}.png", crop)
    (args.out / "contents").mkdir(parents=True, exist_ok=True)
    for name, (outside, inside) in {
        "brick_with_gravel": ("brick", "gravel"),
        "grass_with_brick": ("grass", "brick"),
    }.items():
        image, mask = scene(textures[outside][split:], textures[inside][split:][::-1], (200, 256))
        write_image_file(args.out / "contents" / f"{name}.png", image)
        write_image_file(args.out / "contents" / f"{name}_mask.png", mask)
    print(f"wrote {args.out}/train, styles and contents")


if __name__ == "__main__":
    main()
