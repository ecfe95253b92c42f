"""Checks that need torchvision's pretrained VGG16, which CI and the machine these tests were
written on do not have: skipped unless the real file is where jobs look for it, told apart from the
other tests' random checkpoints (same file name) by its sha256. On a machine with the weights:

    pytest tests/test_pretrained.py -s
"""

import numpy as np
import pytest

from napari_partial_style.core.io import weights


def _real(weight: weights.WeightFile) -> bool:
    path = weights.locate(weight)
    return path is not None and weights.is_torchvisions(weight, path)


pytestmark = pytest.mark.skipif(
    not _real(weights.VGG16),
    reason="needs torchvision's pretrained VGG16 in torch's hub folder (any job downloads it online)",
)


def test_the_default_segment_finds_the_cup_in_the_coffee_photo():
    """docs/napari.md: Segment with its defaults on the bundled photo names the cup (or what ImageNet
    calls it) and its labels cover the hand-drawn cup labels."""
    from napari_partial_style.api import Session
    from napari_partial_style.core.params import SegmentParams, SessionParams
    from napari_partial_style.samples import coffee, coffee_cup_labels

    segmentation = Session(SessionParams()).segment(coffee(), SegmentParams()).result()
    scores = segmentation.class_scores()
    print("class scores:", {name: round(score, 3) for name, score in scores.items()})
    assert {"cup", "espresso", "coffee mug"} & set(scores), scores
    cup, found = coffee_cup_labels() > 0, segmentation.labels > 0
    overlap = float((cup & found).sum() / (cup | found).sum())
    print(f"IoU with the hand-drawn cup labels: {overlap:.2f}")
    assert overlap > 0.5 and np.any(found)
