"""Pixel accuracy and mean IU from a confusion matrix (FCN / DeepLab formulas, method-spec E)."""

from __future__ import annotations

import numpy as np

CHUNK = 1 << 20  # pixels counted at a time: a 100 Mpx label image needs no 100 Mpx int64 copies


def confusion(truth: np.ndarray, predicted: np.ndarray, n: int) -> np.ndarray:
    """hist[t, p]: pixels of true class t predicted as p, over labels in [0, n)."""
    truth, predicted = np.ravel(truth), np.ravel(predicted)
    hist = np.zeros(n * n, np.int64)
    for start in range(0, truth.size, CHUNK):
        t = truth[start : start + CHUNK].astype(np.int64)
        valid = (t >= 0) & (t < n)
        hist += np.bincount(n * t[valid] + predicted[start : start + CHUNK][valid], minlength=n * n)
    return hist.reshape(n, n)


def pixel_accuracy(hist: np.ndarray) -> float:
    return float(np.diag(hist).sum() / hist.sum())


def iu_per_class(hist: np.ndarray) -> np.ndarray:
    """IU_c = diag / (row + column − diag); NaN for a class absent from both."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.diag(hist) / (hist.sum(axis=1) + hist.sum(axis=0) - np.diag(hist))


def mean_iu(hist: np.ndarray, classes: list[int] | None = None) -> float:
    """nanmean of IU over `classes` (all by default)."""
    iu = iu_per_class(hist)
    return float(np.nanmean(iu if classes is None else iu[classes]))
