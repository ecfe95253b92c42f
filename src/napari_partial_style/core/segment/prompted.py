"""The labels' probabilities when prompts are given: the saliency joined by the prompts' appearance model.

The saliency's own probabilities are soft (a blurred, coarse map says 0.8 where it is sure), and
the CRF at PSA's settings (a bilateral kernel of 80 px with compatibility 10) outweighs a unary
that soft on grey textures: on the generated scenes of bench/click_scenes.py it labelled almost
nothing as the object from maps whose argmax alone gave IoU 0.91–0.97. With prompts the user is
correcting labels, so the unary is counted PROMPT_GAIN times (crf.fixed_unaries): the CRF snaps the
labels to edges instead of redrawing them, and what a click changes beyond its disc comes from the
appearance model (core/segment/appearance.py), which decides where the maps are unsure: near their
blurred edges, or everywhere for a flat map. Without prompts nothing here runs.
"""

from __future__ import annotations

import numpy as np

from napari_partial_style.core.params import CRFParams

PROMPT_GAIN = 6.0
# Where the maps are sure, the appearance model's labels must match theirs this often before it
# counts at all (at 1.0 it counts fully): a photo whose object shares the colours of its
# surroundings (the coffee cup on its saucer) teaches a model that would undo good maps.
AGREEMENT_FLOOR = 0.8
DOUBT_REACH = 0.25  # share of the long side around a contradicting prompt where the maps are doubted
SURE = 0.5  # the maps' margin between their two likeliest labels above which they are "sure"


def probabilities(
    rgb8: np.ndarray, calibrated: np.ndarray, base: np.ndarray, params: CRFParams, fixed: np.ndarray
) -> np.ndarray:
    """(K+1, h, w): `base` (the maps' probabilities, background first), normalised, and at each
    pixel blended with the appearance model's posteriors by how unsure the maps are there, times
    the model's reliability and `params.appearance`."""
    from napari_partial_style.core.segment import appearance

    p = base / np.maximum(base.sum(axis=0, keepdims=True), 1e-12)
    if not params.appearance:
        return p.astype(np.float32)
    trust, doubt = appearance.evidence(calibrated), doubted(p, fixed)
    said = np.where(doubt, -1, p.argmax(axis=0))  # where a prompt says the maps are wrong, they teach nothing
    learned = appearance.posteriors(rgb8, fixed, said, trust)[: len(p)]
    top = np.sort(p, axis=0)
    margin = top[-1] - top[-2]
    trusted = max(reliability(p, learned, (margin > SURE) & ~doubt), 1.0 - trust)
    weight = params.appearance * trusted * np.maximum(1.0 - margin, doubt)
    return ((1.0 - weight) * p + weight * learned).astype(np.float32)


def doubted(p: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """(h, w) bool: the parts of the maps' regions that a prompt contradicts (a negative click on
    what the maps call the target, a positive one on what they call background), within DOUBT_REACH
    of it: there the maps are wrong and the appearance model decides, so the click takes the part
    it touches, not just its disc."""
    from scipy import ndimage

    said = p.argmax(axis=0)
    against = (fixed >= 0) & (said != fixed)
    doubt = np.zeros(fixed.shape, bool)
    if not against.any():
        return doubt
    for label in np.unique(said[against]):
        parts, _ = ndimage.label(said == label)
        doubt |= np.isin(parts, np.unique(parts[against & (said == label)]))
    reach = DOUBT_REACH * max(fixed.shape)
    return doubt & (ndimage.distance_transform_edt(~against) <= reach)


def reliability(p: np.ndarray, learned: np.ndarray, sure: np.ndarray) -> float:
    """In [0, 1]: how often the appearance model's labels match the maps' where the maps are `sure`
    (and no prompt doubts them), from AGREEMENT_FLOOR up (1 where the maps are sure almost nowhere). A map without contrast
    (all zero: "sure" background everywhere) is no evidence against the model: the caller takes
    the larger of this and 1 − the maps' evidence."""
    if sure.mean() < 0.01:
        return 1.0
    agree = float((p.argmax(axis=0)[sure] == learned.argmax(axis=0)[sure]).mean())
    return float(np.clip((agree - AGREEMENT_FLOOR) / (1.0 - AGREEMENT_FLOOR), 0.0, 1.0))
