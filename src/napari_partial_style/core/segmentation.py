"""Weakly supervised segmentation of one image: DCSM saliency maps, then the dense CRF."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from napari_partial_style.core.classifier import IMAGENET
from napari_partial_style.core.crf import CRFParams, crf_stage
from napari_partial_style.core.images import resize_rgb, to_uint8, working_shape
from napari_partial_style.core.progress import StageGenerator
from napari_partial_style.core.saliency import SaliencyParams, TappedClassifier, dcsm


@dataclass(frozen=True)
class SegmentParams:
    classifier: str = IMAGENET
    saliency: SaliencyParams = field(default_factory=SaliencyParams)
    crf: CRFParams = field(default_factory=CRFParams)


@dataclass
class Segmentation:
    """Maps, labels and marginals at the image's resolution; label k is `targets[k - 1]`."""

    maps: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray
    targets: list[str]
    target_ids: list[int]
    scores: np.ndarray
    classes: list[str]

    def class_scores(self) -> dict[str, float]:
        """The best score of each target over scales."""
        best = self.scores.max(axis=0)
        return {self.classes[i]: round(float(best[i]), 4) for i in self.target_ids}


def resize_stack(stack: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize each (h, w) plane of a float stack bilinearly."""
    if stack.shape[1:] == tuple(shape):
        return stack
    return np.stack([resize_rgb(plane[..., None], shape)[..., 0] for plane in stack])


def labels_from_maps(work_rgb: np.ndarray, work_maps: np.ndarray, crf: CRFParams,
                     shape: tuple[int, int]) -> StageGenerator[tuple[np.ndarray, np.ndarray]]:
    """CRF at the working size; labels at `shape` are the argmax of the upsampled marginals,
    so edges stay smooth. Also what "re-run CRF only" calls on saliency already computed."""
    _, marginals = yield from crf_stage(to_uint8(work_rgb), work_maps, crf)
    probabilities = resize_stack(marginals, shape)
    labels = probabilities.argmax(axis=0)
    return labels.astype(np.uint8 if labels.max(initial=0) <= 255 else np.uint16), probabilities


def segment_stage(model: TappedClassifier, rgb: np.ndarray, params: SegmentParams, size: int,
                  device) -> StageGenerator[Segmentation]:
    """Segment `rgb` (full resolution, float) at the working size; results back at full size."""
    work = resize_rgb(rgb, working_shape(rgb.shape[:2], size))
    saliency = yield from dcsm(model, work, params.saliency, device)
    shape = rgb.shape[:2]
    labels, probabilities = yield from labels_from_maps(work, saliency.maps, params.crf, shape)
    return Segmentation(resize_stack(saliency.maps, shape), labels, probabilities, saliency.target_names,
                        saliency.targets, saliency.scores, saliency.classes)
