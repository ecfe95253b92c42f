"""Weakly supervised segmentation of one image: DCSM saliency maps, then the dense CRF."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from napari_partial_style.core.images import SourceImage, resize_plane, to_uint8, working_shape
from napari_partial_style.core.params import CRFParams, SegmentParams
from napari_partial_style.core.progress import StageGenerator
from napari_partial_style.core.segment.crf import crf_stage
from napari_partial_style.core.segment.prompts import Prompts, fixed_unary
from napari_partial_style.core.segment.saliency import TappedClassifier, dcsm

CHUNK_PIXELS = 1 << 20


@dataclass
class Segmentation:
    """Maps, labels and marginals at the image's resolution; label k is `targets[k - 1]`. A CRF
    re-run on maps alone knows no class scores (`scores`, `target_ids` and `classes` empty)."""

    maps: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray | None  # None for the slices of a stack put together
    targets: list[str]
    target_ids: list[int]
    scores: np.ndarray | None
    classes: list[str]
    threshold: float | None = None  # the class score targets were held to (None: no scores)
    work_maps: np.ndarray | None = None  # the maps at the working size: a prompt reruns the CRF from them

    def class_scores(self) -> dict[str, float]:
        """The best score of each target over scales."""
        if self.scores is None:
            return {}
        best = self.scores.max(axis=0)
        return {self.classes[i]: round(float(best[i]), 4) for i in self.target_ids}

    def weak_targets(self) -> str | None:
        """One warning line when a named target scores under the threshold: the classifier barely
        sees it in this image, so its map, and the labels, may be noise rather than the object."""
        if self.threshold is None:
            return None
        weak = {name: score for name, score in self.class_scores().items() if score < self.threshold}
        if not weak:
            return None
        listed = ", ".join(f"'{name}' scores {score:.2f}" for name, score in weak.items())
        return (
            f"the classifier barely sees its target here ({listed}, under the threshold {self.threshold:g}), "
            "so the labels may miss it: look at the saliency map, name another --target, or paint the labels."
        )


def resize_stack(stack: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize each (h, w) plane of a float stack bilinearly."""
    if stack.shape[1:] == tuple(shape):
        return stack
    out = np.empty((stack.shape[0], *shape), np.float32)
    for k, plane in enumerate(stack):
        out[k] = resize_plane(plane, shape)
    return out


def labels_from_maps(
    work_rgb: np.ndarray,
    work_maps: np.ndarray,
    crf: CRFParams,
    shape: tuple[int, int],
    device=None,
    prompts: Prompts | None = None,
    targets: list[str] | None = None,
) -> StageGenerator[tuple[np.ndarray, np.ndarray]]:
    """CRF at the working size; labels at `shape` are the argmax of the upsampled marginals,
    so edges stay smooth. Also what "re-run CRF only" calls on saliency already computed.
    `prompts` (in `shape`'s pixels, regions among `targets`) hold their pixels at both sizes."""
    fixed = None
    if prompts:
        fixed = fixed_unary(prompts, targets or [], work_maps.shape[1:], shape)
    _, marginals = yield from crf_stage(to_uint8(work_rgb), work_maps, crf, device, fixed)
    probabilities = resize_stack(marginals, shape)
    if prompts:  # the prompted pixels at full size too, not only their working-size cells
        full = fixed_unary(prompts, targets or [], shape)
        at = full >= 0
        probabilities[:, at] = np.eye(len(probabilities), dtype=np.float32)[full[at]].T
    labels = np.empty(shape, np.uint8 if len(probabilities) <= 256 else np.uint16)
    rows = max(1, CHUNK_PIXELS // shape[1])
    for top in range(0, shape[0], rows):  # argmax in strips: no full-size int64 index array
        labels[top : top + rows] = probabilities[:, top : top + rows].argmax(axis=0)
    return labels, probabilities


def segment_stage(
    model: TappedClassifier,
    image: SourceImage,
    params: SegmentParams,
    size: int,
    device,
    empty_ok: bool = False,
    prompts: Prompts | None = None,
) -> StageGenerator[Segmentation]:
    """Segment `image` at the working size; maps, labels and marginals come back at its size
    (`empty_ok`: see `dcsm`; `prompts`: the user's corrections, which the CRF obeys)."""
    work = image.resized(working_shape(image.shape, size))
    saliency = yield from dcsm(model, work, params.saliency, device, empty_ok=empty_ok)
    shape = image.shape
    labels, probabilities = yield from labels_from_maps(
        work, saliency.maps, params.crf, shape, device, prompts, saliency.target_names
    )
    return Segmentation(
        resize_stack(saliency.maps, shape),
        labels,
        probabilities,
        saliency.target_names,
        saliency.targets,
        saliency.scores,
        saliency.classes,
        saliency.threshold,
        saliency.maps,
    )
