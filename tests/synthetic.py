"""Small synthetic images for tests."""

import numpy as np


def two_tone(shape=(48, 64), dtype=np.uint8, rng=None):
    """A small RGB image with texture: left half reddish, right half bluish, plus noise."""
    rng = rng or np.random.default_rng(1)
    img = rng.random((*shape, 3)) * 0.3
    img[:, : shape[1] // 2, 0] += 0.6
    img[:, shape[1] // 2 :, 2] += 0.6
    img = np.clip(img, 0, 1)
    if dtype == np.uint8:
        return (img * 255).round().astype(np.uint8)
    if dtype == np.uint16:
        return (img * 65535).round().astype(np.uint16)
    return img.astype(dtype)
