"""The square canvas an image is classified on, the same in training and at inference.

The padding is the classifier's normalisation mean, which its input normalisation turns into zero:
a trained checkpoint sees at inference the padding it was trained with (tests/test_training.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def canvas(rgb: np.ndarray, size: int, fill: Sequence[float]) -> tuple[np.ndarray, tuple[int, int]]:
    """`rgb` (at most size×size) centred on a size×size canvas of colour `fill`, and its top-left corner."""
    h, w = rgb.shape[:2]
    top, left = (size - h) // 2, (size - w) // 2
    out = np.empty((size, size, 3), np.float32)
    out[:] = fill
    out[top : top + h, left : left + w] = rgb
    return out, (top, left)


def min_canvas(min_input: int, scales: Sequence[float] = (1.0,)) -> int:
    """The smallest canvas (a multiple of 32) whose every scaled copy still fits the classifier
    (`min_input`: its smallest input, 224 px for VGG16's fc6)."""
    return 32 * math.ceil(min_input / min(scales) / 32)
