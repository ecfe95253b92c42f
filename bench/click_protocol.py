"""The interactive-segmentation click protocol (Xu et al. 2016, as RITM and SAM's papers run it).

Each simulated click goes to the centre of the largest error region: the pixel farthest from the
boundary of its error region (the image's edge counts as a boundary), over the missed pixels
(truth, not predicted) and the wrong ones (predicted, not truth) alike; it is positive when that
pixel was missed, negative when it was wrongly taken. Besides the clicks every method gets the
image's 1 px frame as background (objects lie inside the frame; without a second label random
walker takes the whole image and GrabCut only the clicked disks). Before the first click the prediction is
empty, so every method's first click is the same: positive, at the object's centre. After each
click a method predicts again from all its clicks so far; NoC@t is the first click count at which
IoU reaches t, or the cap (20) when it never does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import distance_transform_edt

MAX_CLICKS = 20
CLICK_RADIUS = 5  # px: a click is a disk of this radius for every method (RITM's encoding)


@dataclass(frozen=True)
class Click:
    row: int
    col: int
    positive: bool


Predict = Callable[[Sequence[Click]], np.ndarray]  # all clicks so far -> predicted mask (bool, H×W)


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two masks; two empty masks agree fully."""
    union = np.logical_or(pred, truth).sum()
    return float(np.logical_and(pred, truth).sum() / union) if union else 1.0


def _depth(mask: np.ndarray) -> np.ndarray:
    """Each pixel's distance to the nearest pixel outside `mask`, the image's edge counting as outside."""
    return distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]


def next_click(pred: np.ndarray, truth: np.ndarray) -> Click | None:
    """The click at the centre of the largest error region, or None when nothing is wrong."""
    missed, wrong = _depth(truth & ~pred), _depth(pred & ~truth)
    if missed.max() == 0 and wrong.max() == 0:
        return None
    positive = bool(missed.max() >= wrong.max())
    depth = missed if positive else wrong
    row, col = np.unravel_index(int(depth.argmax()), depth.shape)
    return Click(int(row), int(col), positive)


def frame(shape: tuple[int, int]) -> np.ndarray:
    """The image's outermost pixels (bool, H×W): background seeds every method gets besides the
    clicks, so a method that needs both labels (random walker, GrabCut) has them from the first click."""
    out = np.zeros(shape, bool)
    out[[0, -1], :] = out[:, [0, -1]] = True
    return out


def disk(shape: tuple[int, int], click: Click, radius: float = CLICK_RADIUS) -> np.ndarray:
    """The pixels a click covers (bool, H×W)."""
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    return (rows - click.row) ** 2 + (cols - click.col) ** 2 <= radius**2


@dataclass
class Trace:
    """IoU, wall seconds and CPU seconds (all threads) of each click's update (IoU stays at its last
    value once the method is perfect)."""

    ious: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)

    def iou_at(self, clicks: int) -> float:
        return self.ious[min(clicks, len(self.ious)) - 1]

    def noc(self, threshold: float, cap: int = MAX_CLICKS) -> int:
        """Clicks until IoU ≥ threshold; the cap when it never got there."""
        return next((k + 1 for k, value in enumerate(self.ious[:cap]) if value >= threshold), cap)


def run_clicks(predict: Predict, truth: np.ndarray, max_clicks: int = MAX_CLICKS, stop_at: float = 0.90) -> Trace:
    """Click until IoU ≥ `stop_at` (after at least 5 clicks, so IoU@5 is known) or `max_clicks`."""
    truth = truth.astype(bool)
    pred = np.zeros_like(truth)
    clicks: list[Click] = []
    trace = Trace()
    while len(clicks) < max_clicks:
        click = next_click(pred, truth)
        if click is None:
            break
        clicks.append(click)
        start, cpu = time.perf_counter(), time.process_time()
        pred = np.asarray(predict(tuple(clicks)), dtype=bool)
        trace.seconds.append(time.perf_counter() - start)
        trace.cpu_seconds.append(time.process_time() - cpu)
        trace.ious.append(iou(pred, truth))
        if len(clicks) >= 5 and trace.ious[-1] >= stop_at:
            break
    return trace
