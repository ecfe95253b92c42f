"""One job end to end, as a generator of progress events, plus a sync wrapper.

Each stage is also a function of its own: re-compositing after a label edit calls `composite`
without re-running style transfer.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_partial_style import __version__
from napari_partial_style.core import weights as weights_mod
from napari_partial_style.core.bundle import Bundle
from napari_partial_style.core.composite import composite, feather_alpha
from napari_partial_style.core.device import default_size, get_device
from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import (
    MIN_SIDE,
    SourceImage,
    from_float_rgb,
    resize_rgb,
    to_uint8,
    working_shape,
)
from napari_partial_style.core.progress import Progress, StageGenerator, drain
from napari_partial_style.core.style import STYLE_TAPS, StyleParams, stylize


@dataclass(frozen=True)
class JobParams:
    """Everything that decides a job's result; recorded in the bundle's manifest."""

    size: int | None = None
    style_size: int | None = None
    device: str = "auto"
    feather: float = 0.0
    style: StyleParams = field(default_factory=StyleParams)

    def __post_init__(self) -> None:
        for name in ("size", "style_size"):
            value = getattr(self, name)
            if value is not None and value < MIN_SIDE:
                raise InputError(f"{name.replace('_', '-')} must be at least {MIN_SIDE} px, not {value}.")


@dataclass
class JobResult:
    """What a job made, at the content's resolution and bit depth, plus its record."""

    content: SourceImage
    style: SourceImage
    mask: np.ndarray
    alpha: np.ndarray
    stylized: np.ndarray
    composite: np.ndarray
    record: dict[str, Any]


@dataclass
class Stopwatch:
    timings: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, start: float) -> None:
        self.timings[stage] = round(self.timings.get(stage, 0.0) + time.perf_counter() - start, 3)


def working_size(params: JobParams, device, content: SourceImage) -> int:
    """The working long side: the user's, else the device's default; never above the image's."""
    return min(params.size or default_size(device), max(content.shape))


def stylize_stage(content: SourceImage, style: SourceImage, params: JobParams, device, vgg_path: Path,
                  size: int) -> StageGenerator[np.ndarray]:
    """Style transfer at the working size; the result comes back at the content's resolution."""
    from napari_partial_style.core.vgg import tapped_vgg

    yield Progress("load", 0, 1, message="loading VGG19")
    net = tapped_vgg("vgg19", vgg_path, STYLE_TAPS, device)
    yield Progress("load", 1, 1, message="VGG19 loaded")
    work = resize_rgb(content.rgb, working_shape(content.shape, size))
    style_rgb = resize_rgb(style.rgb, working_shape(style.shape, params.style_size or size))
    stylized = yield from stylize(net, work, style_rgb, params.style, device)
    return resize_rgb(stylized, content.shape)


def record_of(params: JobParams, device, size: int, targets: list[str], timings: dict[str, float],
              inputs: dict[str, str]) -> dict[str, Any]:
    """The manifest's account of a job: enough to run it again."""
    import torch

    return {
        "parameters": {**asdict(params), "size": size, "device": params.device},
        "device": str(device),
        "size": size,
        "targets": targets,
        "classifier_classes": None,
        "inputs": inputs,
        "timings_s": timings,
        "versions": {"napari-partial-style": __version__, "torch": torch.__version__,
                     "python": platform.python_version()},
    }


def run_job(content: SourceImage, style: SourceImage, mask: np.ndarray, params: JobParams,
            weight_paths: dict[str, str | Path] | None = None,
            on_download: Callable[[str, int, int], None] | None = None,
            inputs: dict[str, str] | None = None) -> StageGenerator[JobResult]:
    """Stylize, then composite by `mask` (boolean, content-sized)."""
    if mask.shape != content.shape or not mask.any():
        raise InputError("the target mask must be non-empty and of the content image's size.")
    clock = Stopwatch()
    device = get_device(params.device)
    size = working_size(params, device, content)
    start = time.perf_counter()
    found = weights_mod.ensure([weights_mod.VGG19], weight_paths, progress=on_download)
    clock.add("weights", start)

    start = time.perf_counter()
    stylized = yield from stylize_stage(content, style, params, device, found["vgg19"], size)
    clock.add("style", start)

    start = time.perf_counter()
    yield Progress("composite", 0, 1)
    alpha = feather_alpha(mask, params.feather)
    result = composite(content, stylized, alpha)
    clock.add("composite", start)
    yield Progress("composite", 1, 1)
    record = record_of(params, device, size, ["target"], clock.timings, inputs or {})
    return JobResult(content, style, mask, alpha, from_float_rgb(stylized, content.dtype), result, record)


def run_job_sync(*args: Any, on_progress: Callable[[Progress], None] | None = None, **kwargs: Any) -> JobResult:
    """`run_job` drained: for scripts and notebooks."""
    return drain(run_job(*args, **kwargs), on_progress)


def preview_strip(result: JobResult, height: int = 384) -> np.ndarray:
    """content | stylized | composite side by side, 8-bit, for a quick look."""
    from napari_partial_style.core.images import to_float_rgb

    h, w = result.content.shape
    shape = (height, max(1, round(w * height / h)))
    panels = [result.content.rgb, to_float_rgb(result.stylized), to_float_rgb(result.composite[..., :3])]
    gap = np.ones((shape[0], 8, 3), np.float32)
    strip = [resize_rgb(p, shape) for p in panels]
    return to_uint8(np.concatenate([strip[0], gap, strip[1], gap, strip[2]], axis=1))


def to_bundle(result: JobResult) -> Bundle:
    """The bundle of a finished job: what the CLI writes and the napari reader opens."""
    content = result.content.native
    if result.content.alpha is not None:
        content = np.dstack([content, result.content.alpha])
    return Bundle(
        manifest=result.record,
        content=content,
        style=result.style.native,
        stylized=result.stylized,
        composite=result.composite,
        preview=preview_strip(result),
        labels=result.mask.astype(np.uint8),
    )
