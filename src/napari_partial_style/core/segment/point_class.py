"""The class the classifier sees at a point: a click picks the target instead of a typed name.

The fully convolutional classifier gives a class-score map on a grid (VGG16's: cells 32 px apart
seeing 224 px windows; `model.grid`); a point is read between the four cells whose windows are
centred nearest to it, so "click the cup" gives the class that evidence favours, as point prompts
do in micro-sam.
"""

from __future__ import annotations

import numpy as np
import torch

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.nets.tensors import to_tensor
from napari_partial_style.core.segment.canvas import canvas


def _bilinear(field: np.ndarray, y: float, x: float) -> np.ndarray:
    """(C, h, w) sampled at fractional cell (y, x), clamped to the grid."""
    h, w = field.shape[1:]
    y, x = min(max(y, 0.0), h - 1.0), min(max(x, 0.0), w - 1.0)
    y0, x0 = int(y), int(x)
    y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
    fy, fx = y - y0, x - x0
    top = field[:, y0, x0] * (1 - fx) + field[:, y0, x1] * fx
    bottom = field[:, y1, x0] * (1 - fx) + field[:, y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def classes_at(
    model, rgb: np.ndarray, point: tuple[float, float], device: torch.device, count: int = 3
) -> list[tuple[str, float]]:
    """The `count` classes scored highest at `point` (row, column in `rgb`'s pixels), best first,
    with their score there (sigmoid or softmax, as the classifier was trained)."""
    h, w = rgb.shape[:2]
    y, x = point
    if not (0 <= y < h and 0 <= x < w):
        raise InputError(f"the point ({y:.0f}, {x:.0f}) lies outside the image ({w}×{h}); click on the image.")
    side = max(h, w, model.min_input)
    board, (top, left) = canvas(rgb, side, model.mean)
    with torch.no_grad():
        logits = model.forward_taps(to_tensor(board, device))[0][0].float().cpu().numpy()
    stride, centre = model.grid
    here = _bilinear(logits, (y + top - centre) / stride, (x + left - centre) / stride)
    if model.score_kind == "softmax":
        scores = np.exp(here - here.max())
        scores /= scores.sum()
    else:
        scores = 1.0 / (1.0 + np.exp(-here))
    best = np.argsort(-scores)[:count]
    return [(model.classes[i], float(scores[i])) for i in best]
