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
    learned = appearance.posteriors(rgb8, fixed, base.argmax(axis=0), appearance.evidence(calibrated))[: len(p)]
    top = np.sort(p, axis=0)
    margin = top[-1] - top[-2]
    weight = params.appearance * reliability(p, learned, margin) * (1.0 - margin)
    return ((1.0 - weight) * p + weight * learned).astype(np.float32)


def reliability(p: np.ndarray, learned: np.ndarray, margin: np.ndarray) -> float:
    """In [0, 1]: how often the appearance model's labels match the maps' where the maps are sure,
    from AGREEMENT_FLOOR up (1 where the maps are sure almost nowhere: a flat map)."""
    sure = margin > SURE
    if sure.mean() < 0.01:
        return 1.0
    agree = float((p.argmax(axis=0)[sure] == learned.argmax(axis=0)[sure]).mean())
    return float(np.clip((agree - AGREEMENT_FLOOR) / (1.0 - AGREEMENT_FLOOR), 0.0, 1.0))
