"""The square canvas an image is classified on, the same in training and at inference.

The padding is the classifier's normalisation mean, which its input normalisation turns into zero:
a trained checkpoint sees at inference the padding it was trained with (tests/test_training.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MIN_INPUT = 224  # fc6 is an unpadded 7×7 convolution after five 2× poolings


def canvas(rgb: np.ndarray, size: int, fill: Sequence[float]) -> tuple[np.ndarray, tuple[int, int]]:
    """`rgb` (at most size×size) centred on a size×size canvas of colour `fill`, and its top-left corner."""
    h, w = rgb.shape[:2]
    top, left = (size - h) // 2, (size - w) // 2
    out = np.empty((size, size, 3), np.float32)
    out[:] = fill
    out[top:top + h, left:left + w] = rgb
    return out, (top, left)


def min_canvas(scales: Sequence[float]) -> int:
    """The smallest canvas (a multiple of 32) whose every scaled copy still fits fc6."""
    return 32 * math.ceil(MIN_INPUT / min(scales) / 32)
