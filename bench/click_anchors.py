"""The two anchors of the click protocol, each given the clicks as seeds: every click a disk of
CLICK_RADIUS px, label 1 (object) when positive, 2 (background) when negative, and the image's frame
as background (click_protocol.frame), as ours gets them. Neither sees the
saliency map; each starts from scratch at every click, as a user's tool re-running it would."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from click_protocol import Click, Predict, disk, frame


def seeds(shape: tuple[int, int], clicks: Sequence[Click]) -> np.ndarray:
    """0 = unknown, 1 = object, 2 = background (the frame and negative clicks); a later click
    overwrites the frame and earlier clicks where they overlap."""
    out = np.where(frame(shape), 2, 0).astype(np.uint8)
    for click in clicks:
        out[disk(shape, click)] = 1 if click.positive else 2
    return out


def random_walker(image: np.ndarray) -> Predict:
    """scikit-image's random walker (β 130, the direct sparse solver: at these sizes 40× less CPU than
    its default conjugate gradient with a Jacobi preconditioner, and exact). With
    """
    from skimage.segmentation import random_walker as walk

    data = image.astype(np.float32) / 255

    def predict(clicks: Sequence[Click]) -> np.ndarray:
        with warnings.catch_warnings():  # "probability range outside [0, 1]" on flat texture patches
            warnings.simplefilter("ignore")
            return walk(data, seeds(image.shape[:2], clicks), beta=130, mode="bf", channel_axis=-1) == 1

    return predict


def grabcut(image: np.ndarray, iterations: int = 5) -> Predict:
    """OpenCV's GrabCut initialised with a mask, as from a rectangle just inside the frame: every
    unseeded pixel probably object, the frame and the clicks definitely background or object;
    `iterations` rounds of colour-mixture fit and graph cut. (Unseeded pixels as probably background
    instead leave it the clicked disks alone: its background mixture then explains the object too.)"""
    import cv2

    bgr = np.ascontiguousarray(image[..., ::-1])

    def predict(clicks: Sequence[Click]) -> np.ndarray:
        given = seeds(image.shape[:2], clicks)
        mask = np.choose(given, [cv2.GC_PR_FGD, cv2.GC_FGD, cv2.GC_BGD]).astype(np.uint8)
        background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        cv2.grabCut(bgr, mask, None, background, foreground, iterations, cv2.GC_INIT_WITH_MASK)
        return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)

    return predict


ANCHORS = {"random walker": random_walker, "GrabCut": grabcut}
