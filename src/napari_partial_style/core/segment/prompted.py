"""The labels' probabilities when prompts are given: the saliency joined by the prompts' appearance model.

The saliency's own probabilities are smooth (a blurred, coarse map says 0.8 where it is sure),
and the CRF at PSA's settings (a bilateral kernel of 80 px with compatibility 10) outweighs a unary
that soft on grey textures: on the generated scenes of bench/click_scenes.py it labelled almost
nothing as the object from maps whose argmax alone gave IoU 0.91–0.97. With prompts the user is
correcting labels, so the unary is counted PROMPT_GAIN times: the CRF then snaps the labels to
edges instead of redrawing them, and what a click changes comes from the prompts' appearance
model (core/segment/appearance.py). Without prompts nothing here runs.
"""

from __future__ import annotations

import os

import numpy as np

from napari_partial_style.core.params import CRFParams

PROMPT_GAIN = float(os.environ.get("H38_GAIN", 6.0))
LOCAL = float(os.environ.get("H38_LOCAL", 0.0))
REL_LOW = float(os.environ.get("H38_RL", 0.8))
REL_POW = float(os.environ.get("H38_RP", 1.0))
MODE = os.environ.get("H38_MODE", "blend")
SURE_POWER = float(os.environ.get("H38_SP", 1.0))


def probabilities(rgb8: np.ndarray, calibrated: np.ndarray, base: np.ndarray, params: CRFParams, fixed: np.ndarray):
    """(K+1, h, w): `base` (the maps' probabilities, background first) times the appearance
    model's posteriors to the power `params.appearance` (two experts: where the maps are unsure,
    near their blurred edges or everywhere for a flat map, the appearance decides), normalised."""
    from napari_partial_style.core.segment import appearance

    p = base / np.maximum(base.sum(axis=0, keepdims=True), 1e-12)
    if MODE == "product" and params.appearance:
        learned = appearance.posteriors(rgb8, fixed, base.argmax(axis=0), appearance.evidence(calibrated))
        log_p = np.log(np.maximum(p, 1e-6)) + params.appearance * np.log(np.maximum(learned[: len(base)], 1e-6))
    elif params.appearance:
        learned = appearance.posteriors(rgb8, fixed, base.argmax(axis=0), appearance.evidence(calibrated))
        top = np.sort(p, axis=0)
        sure = (top[-1] - top[-2])[None] * (1 - params.appearance)  if False else (top[-1] - top[-2])[None]
        sure = sure ** SURE_POWER
        w = params.appearance * (1 - sure) * reliability(p, learned[: len(base)], sure[0])
        log_p = np.log(np.maximum((1 - w) * p + w * learned[: len(base)], 1e-6))
    else:
        log_p = np.log(np.maximum(p, 1e-6))
    if LOCAL:
        log_p += local(fixed, len(base))
    log_p -= log_p.max(axis=0, keepdims=True)
    p = np.exp(log_p)
    return (p / p.sum(axis=0, keepdims=True)).astype(np.float32)


def reliability(p, learned, sure):
    confident = sure > 0.5
    if confident.mean() < 0.01:
        return 1.0
    agree = float((p.argmax(axis=0)[confident] == learned.argmax(axis=0)[confident]).mean())
    print("agree", agree) if os.environ.get("H38_DEBUG") else None
    return float(np.clip((agree - REL_LOW) / (1 - REL_LOW), 0, 1)) ** REL_POW


def local(fixed: np.ndarray, n: int) -> np.ndarray:
    from scipy import ndimage

    reach = LOCAL * max(fixed.shape)
    out = np.zeros((n, *fixed.shape), np.float32)
    for label in range(n):
        if (fixed == label).any():
            out[label] = -ndimage.distance_transform_edt(fixed != label) / reach
    return out
