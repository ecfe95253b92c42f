"""What a job made, at the content's resolution, and its bundle."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from napari_partial_style.core.images import SourceImage, as_source_image, resize_native, target_mask, to_uint8
from napari_partial_style.core.io.bundle import Bundle, write_bundle
from napari_partial_style.core.segment.segmentation import Segmentation


@dataclass
class JobResult:
    """What a job made, at the content's resolution and bit depth, plus its record."""

    content: SourceImage
    record: dict[str, Any]
    mask: np.ndarray
    style: SourceImage | None = None
    alpha: np.ndarray | None = None
    stylized: np.ndarray | None = None
    composite: np.ndarray | None = None
    segmentation: Segmentation | None = None
    scores: dict[str, Any] | None = None
    rescored_labels: np.ndarray | None = None
    labels: np.ndarray | None = None  # the labels as they are now (given, or segmented and corrected)

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the job's bundle atomically (a killed write leaves the old bundle, never half of one)."""
        return write_bundle(to_bundle(self), path, overwrite=overwrite)


class Stopwatch:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def time(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = round(self.timings.get(stage, 0.0) + time.perf_counter() - start, 3)


def preview_strip(natives: Sequence[np.ndarray], height: int = 384) -> np.ndarray:
    """Images of one size (native RGB: content | stylized | composite) side by side, 8-bit, for a
    quick look; the CLI's bundles and napari's carry the same."""
    h, w = natives[0].shape[:2]
    shape = (height, max(1, round(w * height / h)))
    gap = np.ones((shape[0], 8, 3), np.float32)
    parts = [part for native in natives for part in (gap, resize_native(native, shape))][1:]
    return to_uint8(np.concatenate(parts, axis=1))


def to_bundle(result: JobResult) -> Bundle:
    """The bundle of a job: what the CLI writes and the napari reader opens."""
    content = result.content.native
    if result.content.alpha is not None:
        content = np.dstack([content, result.content.alpha])
    seg = result.segmentation
    return Bundle(
        manifest=result.record,
        content=content,
        style=None if result.style is None else result.style.native,
        stylized=result.stylized,
        composite=result.composite,
        preview=None
        if result.composite is None
        else preview_strip([result.content.native, result.stylized, result.composite]),
        labels=bundle_labels(result),
        saliency=None if seg is None else seg.maps,
        crf_probabilities=None if seg is None else seg.probabilities,
        scores=result.scores,
    )


def bundle_labels(result: JobResult) -> np.ndarray:
    """What labels.png keeps: the labels as they are now, else the segmentation's, else the region."""
    if result.labels is not None:
        return result.labels
    return result.segmentation.labels if result.segmentation is not None else result.mask.astype(np.uint8)


def from_bundle(bundle: Bundle, label_values: tuple[int, ...] = ()) -> JobResult:
    """A finished job read back from its bundle: its record, region, composite and scores (what a
    sweep's tile and the region it shares need), without running anything again."""
    content = as_source_image(bundle.content, bundle.manifest.get("inputs", {}).get("content", "content"))
    mask = target_mask(bundle.labels, content.shape, values=label_values or None, allow_empty=True)
    return JobResult(
        content=content, record=bundle.manifest, mask=mask, composite=bundle.composite, scores=bundle.scores
    )
