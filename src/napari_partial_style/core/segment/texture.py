"""Per-pixel colour and texture features for the prompts' appearance model.

Grey textures (brick, grass, gravel) share their grey levels, so colour alone cannot tell them
apart; what differs is their local statistics at a few scales: the mean and spread of the
luminance and the mean strength of its horizontal and vertical gradients. Each feature is scaled
to unit spread over the image, so one variance floor suits them all. The last image's features
are kept by its digest: every prompt on the same image reuses them.
"""

from __future__ import annotations

import hashlib

import numpy as np

SCALES = (2.0, 5.0, 10.0)  # px at the working size: the grain, a brick or tuft, and a few of them
_cache: dict[str, np.ndarray] = {}


def features(rgb8: np.ndarray) -> np.ndarray:
    """(N, 3 + 4·scales) float32: r, g, b, and at each scale the local mean, spread and mean
    absolute x and y gradients of the luminance, each of unit standard deviation."""
    rgb8 = np.ascontiguousarray(rgb8[..., :3])
    key = hashlib.blake2b(rgb8.tobytes(), digest_size=16).hexdigest() + str(rgb8.shape)
    if key not in _cache:
        _cache.clear()
        _cache[key] = _compute(rgb8)
    return _cache[key]


def count() -> int:
    """How many features `features` gives per pixel."""
    return 3 + 4 * len(SCALES)


def _compute(rgb8: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    rgb = rgb8.astype(np.float32) / 255.0
    lum = rgb.mean(axis=2)
    gx, gy = np.abs(np.gradient(lum, axis=1)), np.abs(np.gradient(lum, axis=0))
    parts = [rgb.reshape(-1, 3)]
    for sigma in SCALES:
        mean = ndimage.gaussian_filter(lum, sigma)
        spread = np.sqrt(np.maximum(ndimage.gaussian_filter(lum * lum, sigma) - mean * mean, 0))
        parts += [p.reshape(-1, 1) for p in (mean, spread, ndimage.gaussian_filter(gx, sigma))]
        parts.append(ndimage.gaussian_filter(gy, sigma).reshape(-1, 1))
    out = np.concatenate(parts, 1).astype(np.float32)
    out /= np.maximum(out.std(axis=0), 1e-3)
    return out
