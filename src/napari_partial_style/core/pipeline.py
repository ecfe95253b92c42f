"""One job end to end, as a generator of progress events, plus a sync wrapper.

Each stage is also a function of its own (`segment_stage`, `stylize_stage`, `composite`,
`score_stage`): re-compositing after a label edit calls `composite` without re-running style transfer.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_partial_style import __version__
from napari_partial_style.core.io import weights as weights_mod
from napari_partial_style.core.io.bundle import Bundle
from napari_partial_style.core.segment.classifier import load_classifier, required_weights
from napari_partial_style.core.composite import composite, feather_alpha
from napari_partial_style.core.device import get_device, working_size
from napari_partial_style.core.errors import InputError, require_finite
from napari_partial_style.core.images import (
    MIN_SIDE,
    SourceImage,
    as_source_image,
    resize_native,
    target_mask,
    to_uint8,
    upsample_to_native,
    working_shape,
)
from napari_partial_style.core.progress import Progress, StageGenerator, drain
from napari_partial_style.core.segment.scoring import expected_id, score_stage
from napari_partial_style.core.segment.segmentation import SegmentParams, Segmentation, segment_stage
from napari_partial_style.core.style.gatys import STYLE_TAPS, StyleParams, stylize

USER_TARGET = "target"


@dataclass(frozen=True)
class JobParams:
    """Everything that decides a job's result; recorded in the bundle's manifest."""

    size: int | None = None
    style_size: int | None = None
    device: str = "auto"
    feather: float = 0.0
    style: StyleParams = field(default_factory=StyleParams)
    segment: SegmentParams = field(default_factory=SegmentParams)
    expect: str | None = None
    score: bool = True

    def __post_init__(self) -> None:
        require_finite(feather=self.feather)
        for name in ("size", "style_size"):
            value = getattr(self, name)
            if value is not None and value < MIN_SIDE:
                raise InputError(f"{name.replace('_', '-')} must be at least {MIN_SIDE} px, not {value}.")


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


def stylize_stage(content: SourceImage, style: SourceImage, params: JobParams, device, vgg_path: Path,
                  size: int) -> StageGenerator[np.ndarray]:
    """Style transfer at the working size; the result comes back at the content's resolution and
    in its dtype (built channel by channel: no full-resolution float copy)."""
    from napari_partial_style.core.vgg import tapped_vgg

    yield Progress("load", 0, 1, message="loading VGG19")
    net = tapped_vgg("vgg19", vgg_path, STYLE_TAPS, device)
    yield Progress("load", 1, 1, message="VGG19 loaded")
    work = content.resized(working_shape(content.shape, size))
    style_rgb = style.resized(working_shape(style.shape, params.style_size or size))
    stylized = yield from stylize(net, work, style_rgb, params.style, device)
    return upsample_to_native(stylized, content.shape, content.dtype)


def needed_weights(params: JobParams, segment: bool, style: bool) -> list[weights_mod.WeightFile]:
    """Every pretrained file the job will load, so all are checked before any work starts."""
    needed = [weights_mod.VGG19] if style else []
    if segment or (style and params.score):
        needed += required_weights(params.segment.classifier)
    return needed


def record_of(params: JobParams, device, size: int, timings: dict[str, float], inputs: dict[str, str],
              targets: list[str], classes: list[str] | None) -> dict[str, Any]:
    """The manifest's account of a job: enough to run it again."""
    import torch

    return {
        "parameters": {**asdict(params), "size": size},
        "device": str(device),
        "size": size,
        "targets": targets,
        "classifier_classes": classes,
        "inputs": inputs,
        "timings_s": timings,
        "versions": {"napari-partial-style": __version__, "torch": torch.__version__,
                     "python": platform.python_version()},
    }


def run_job(content: SourceImage, style: SourceImage | None, params: JobParams, labels: np.ndarray | None = None,
            weight_paths: dict[str, str | Path] | None = None,
            inputs: dict[str, str] | None = None) -> StageGenerator[JobResult]:
    """Segment (unless `labels` are given), stylize with `style` (unless None), composite, score."""
    clock = Stopwatch()
    device = get_device(params.device)
    size = working_size(params.size, device, content.shape)
    labels_name = f"labels ({inputs['labels']})" if inputs and "labels" in inputs else "labels"
    mask = None if labels is None else target_mask(labels, content.shape, name=labels_name)
    with clock.time("weights"):
        found = yield from weights_mod.ensure_steps(needed_weights(params, labels is None, style is not None), weight_paths)
    model = segmentation = None
    targets, target_ids = [USER_TARGET], []
    expected = None
    if labels is None or (style is not None and params.score):
        with clock.time("load classifier"):
            model = load_classifier(params.segment.classifier, device, found)
        if style is not None and params.score:  # an unknown --expect fails now, not after the style transfer
            expected = expected_id(model, params.expect, style, size, device)
    if labels is None:
        with clock.time("segment"):
            segmentation = yield from segment_stage(model, content, params.segment, size, device)
        targets, target_ids = segmentation.targets, segmentation.target_ids
        mask = segmentation.labels > 0
        if not mask.any():
            raise InputError(
                f"the CRF labelled no pixel as {', '.join(targets)}: the background won everywhere. "
                "Raise the background exponent (--bg-alpha 2 or 4), keep --calibrate otsu, or paint the region "
                "and pass --labels."
            )
    result = JobResult(content=content, record={}, mask=mask, segmentation=segmentation)
    if style is not None:
        with clock.time("style"):
            stylized = yield from stylize_stage(content, style, params, device, found["vgg19"], size)
        with clock.time("composite"):
            yield Progress("composite", 0, 1)
            result.alpha = feather_alpha(mask, params.feather)
            result.composite = composite(content, stylized, result.alpha)
            result.stylized = stylized
            yield Progress("composite", 1, 1)
        result.style = style
        if params.score:
            with clock.time("score"):
                result.scores, result.rescored_labels = yield from score_stage(
                    model, as_source_image(result.composite), mask, expected, target_ids,
                    params.segment, size, device)
    classes = model.classes if model is not None else None
    result.record = record_of(params, device, size, clock.timings, inputs or {}, targets, classes)
    if segmentation is not None:
        result.record["class_scores"] = segmentation.class_scores()
    if result.scores is not None:
        result.record["scores"] = result.scores
    return result


def run_job_sync(*args: Any, on_progress: Callable[[Progress], None] | None = None, **kwargs: Any) -> JobResult:
    """`run_job` drained: for scripts and notebooks."""
    return drain(run_job(*args, **kwargs), on_progress)


def preview_strip(result: JobResult, height: int = 384) -> np.ndarray:
    """content | stylized | composite side by side, 8-bit, for a quick look."""
    h, w = result.content.shape
    shape = (height, max(1, round(w * height / h)))
    gap = np.ones((shape[0], 8, 3), np.float32)
    strip = [resize_native(native, shape) for native in (result.content.native, result.stylized, result.composite)]
    return to_uint8(np.concatenate([strip[0], gap, strip[1], gap, strip[2]], axis=1))


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
        preview=None if result.composite is None else preview_strip(result),
        labels=seg.labels if seg is not None else result.mask.astype(np.uint8),
        saliency=None if seg is None else seg.maps,
        crf_probabilities=None if seg is None else seg.probabilities,
        scores=result.scores,
    )
