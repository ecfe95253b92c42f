"""The style image's region of its material (method-spec D.7, the paper's stated future work).

A photo of metal also shows hands, a table and a background, and a Gram matrix over all of it
carries their texture into the region too. Segmenting the style image with the same classifier and
CRF as the content, for its own material, lets its statistics come from that region only.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import SourceImage
from napari_partial_style.core.params import SegmentParams
from napari_partial_style.core.progress import StageGenerator, relabel
from napari_partial_style.core.segment.saliency import TappedClassifier
from napari_partial_style.core.segment.scoring import expected_id
from napari_partial_style.core.segment.segmentation import segment_stage

AUTO = "auto"


def style_region_stage(
    model: TappedClassifier, style: SourceImage, which: str, params: SegmentParams, size: int, device
) -> StageGenerator[tuple[np.ndarray, str]]:
    """The style's pixels of class `which` ("auto": the classifier's top class on it) as a
    boolean mask at its size, and that class's name."""
    klass = expected_id(model, None if which == AUTO else which, style, size, device)
    forced = replace(params, saliency=replace(params.saliency, targets=(klass,)))
    segmentation = yield from relabel(segment_stage(model, style, forced, size, device, empty_ok=True), "style region")
    mask = segmentation.labels == 1
    if not mask.any():
        raise InputError(
            f"the style image shows no {model.classes[klass]} region (the CRF gave it no pixel): "
            "name another class with --style-region, give its region with --style-mask, or leave "
            "--style-region out."
        )
    return mask, model.classes[klass]
