"""Step 5 of the paper: segment the composite again and check the material changed.

The composite is segmented with the same classifier, the class set forced to {expected class,
original targets} so a low score never aborts the job. The expected map is the target region
labelled with the expected class, background elsewhere; any other predicted class counts as wrong.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from napari_partial_style.core.images import SourceImage, working_shape
from napari_partial_style.core.nets.tensors import to_tensor
from napari_partial_style.core.progress import StageGenerator, relabel
from napari_partial_style.core.segment.canvas import canvas, min_canvas
from napari_partial_style.core.segment.metrics import confusion, iu_per_class, mean_iu, pixel_accuracy
from napari_partial_style.core.segment.saliency import TappedClassifier
from napari_partial_style.core.segment.segmentation import SegmentParams, segment_stage
from napari_partial_style.core.segment.targets import resolve_class

BACKGROUND, EXPECTED, OTHER = 0, 1, 2


def top_class(model: TappedClassifier, image: SourceImage, size: int, device) -> int:
    """The classifier's best class for a whole image (the style image's material by default)."""
    work = image.resized(working_shape(image.shape, size))
    board, _ = canvas(work, max(*work.shape[:2], min_canvas(model.min_input)), model.mean)
    with torch.no_grad():
        scores = model.scores(model.forward_taps(to_tensor(board, device))[0])[0]
    return int(scores.argmax())


def expected_id(model: TappedClassifier, expect: str | int | None, style: SourceImage | None, size: int, device) -> int:
    return top_class(model, style, size, device) if expect is None else resolve_class(expect, model.classes)


def score_stage(
    model: TappedClassifier,
    composite: SourceImage,
    mask: np.ndarray,
    expected: int,
    original_targets: list[int],
    params: SegmentParams,
    size: int,
    device,
) -> StageGenerator[tuple[dict, np.ndarray]]:
    """Scores (pixel accuracy, mean IU over background and the expected class) and the composite's
    labels (0 = background, 1 = expected class, k = the other forced classes)."""
    forced = list(dict.fromkeys([expected, *original_targets]))
    forced_params = replace(params, saliency=replace(params.saliency, targets=tuple(forced)))
    seg = yield from relabel(segment_stage(model, composite, forced_params, size, device, empty_ok=True), "score")
    predicted = np.full(seg.labels.shape, OTHER, np.uint8)
    predicted[seg.labels == 0] = BACKGROUND
    predicted[seg.labels == 1] = EXPECTED
    hist = confusion(mask, predicted, 3)
    iu = iu_per_class(hist)
    scores = {
        "expected_class": model.classes[expected],
        "class_set": [model.classes[i] for i in forced],
        "pixel_accuracy": round(pixel_accuracy(hist), 4),
        "mean_iu": round(mean_iu(hist, [BACKGROUND, EXPECTED]), 4),
        "iu": {"background": _num(iu[BACKGROUND]), "expected": _num(iu[EXPECTED])},
        "confusion": {
            "rows": "truth: background, expected",
            "columns": "predicted: background, expected, other",
            "counts": hist[:2].tolist(),
        },
    }
    return scores, seg.labels


def _num(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)
