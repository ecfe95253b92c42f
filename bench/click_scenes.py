"""Scenes whose truth is known, for the click protocol: the bundled coffee photo and its cup labels,
and generated scenes (a random ellipse or polygon of one scikit-image texture on a background of
another), each with a saliency map that carries evidence (the true mask blurred, with noise) or
none (a flat map). Seeded: the same seed gives the same scenes."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import numpy as np
from scipy.ndimage import gaussian_filter

TEXTURES = ("brick", "grass", "gravel")
SHAPE = (240, 320)
PAIRS = list(permutations(TEXTURES, 2))  # scene i: object and background textures, every pair in turn
FLAT = 0.5  # a flat map: target and background equally likely everywhere (at the CRF's defaults)


@dataclass(frozen=True)
class Scene:
    name: str
    image: np.ndarray  # H×W×3 uint8
    truth: np.ndarray  # H×W bool
    saliency: np.ndarray  # H×W float32 in [0, 1]


def evidence(truth: np.ndarray, rng: np.random.Generator, noise: float = 0.5) -> np.ndarray:
    """A saliency map with evidence: the true mask plus white noise, blurred as a CNN's coarse map
    is (σ = 1/40 of the long side), stretched to [0, 1]."""
    sigma = max(truth.shape) / 40
    m = gaussian_filter(truth.astype(np.float32) + rng.normal(0, noise, truth.shape).astype(np.float32), sigma)
    return ((m - m.min()) / np.ptp(m)).astype(np.float32)


def flat(truth: np.ndarray) -> np.ndarray:
    return np.full(truth.shape, FLAT, np.float32)


def coffee_scenes(with_evidence: bool, seed: int = 0) -> list[Scene]:
    """The bundled coffee photo and its cup labels, at half size (200×300, near the generated
    scenes' size: random walker's and GrabCut's cost grows with the pixels)."""
    from PIL import Image

    from napari_partial_style import samples

    size = (300, 200)
    image = np.asarray(Image.fromarray(samples.coffee()).resize(size, Image.Resampling.BILINEAR))
    truth = np.asarray(Image.fromarray(samples.coffee_cup_labels()).resize(size, Image.Resampling.NEAREST)) == 1
    saliency = evidence(truth, np.random.default_rng(seed)) if with_evidence else flat(truth)
    return [Scene("coffee cup", image, truth, saliency)]


def _texture(name: str, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    from skimage import data

    full = getattr(data, name)()
    top, left = rng.integers(0, full.shape[0] - shape[0] + 1), rng.integers(0, full.shape[1] - shape[1] + 1)
    return full[top : top + shape[0], left : left + shape[1]]


def _shape_mask(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A random ellipse, or a random star-shaped polygon, well inside the frame (8–35% of it)."""
    from skimage.draw import ellipse, polygon

    h, w = shape
    while True:
        mask = np.zeros(shape, bool)
        cr, cc = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w
        if rng.random() < 0.5:
            rr, col = ellipse(
                cr, cc, rng.uniform(0.12, 0.3) * h, rng.uniform(0.12, 0.3) * w, shape, rng.uniform(0, np.pi)
            )
        else:
            n = int(rng.integers(5, 11))
            angles = np.sort(rng.uniform(0, 2 * np.pi, n))
            radii = rng.uniform(0.4, 1.0, n) * 0.32 * min(h, w)
            rr, col = polygon(cr + radii * np.sin(angles), cc + radii * np.cos(angles), shape)
        mask[rr, col] = True
        if 0.08 <= mask.mean() <= 0.35:
            return mask


def texture_scenes(count: int, with_evidence: bool, seed: int = 0) -> list[Scene]:
    """`count` generated scenes: an object of one texture on a background of another (grey, as RGB)."""
    scenes = []
    for i in range(count):
        rng = np.random.default_rng([seed, i])  # the scene's own stream; its evidence is drawn last
        inside, outside = PAIRS[i % len(PAIRS)]
        truth = _shape_mask(rng, SHAPE)
        grey = np.where(truth, _texture(inside, rng, SHAPE), _texture(outside, rng, SHAPE))
        saliency = evidence(truth, rng) if with_evidence else flat(truth)
        scenes.append(Scene(f"{inside} on {outside} #{i}", np.repeat(grey[..., None], 3, axis=2), truth, saliency))
    return scenes


def scene_sets(count: int, seed: int = 0) -> dict[str, list[Scene]]:
    """The four sets of the table: the coffee cup and the texture scenes, with and without evidence
    (the same objects in both; only the saliency map differs)."""
    return {
        "coffee cup, saliency with evidence": coffee_scenes(True, seed),
        "coffee cup, flat saliency": coffee_scenes(False, seed),
        f"{count} texture scenes, saliency with evidence": texture_scenes(count, True, seed),
        f"{count} texture scenes, flat saliency": texture_scenes(count, False, seed),
    }
