"""One job of a batch, as it runs on a worker: read its files, run it through the API, and return
what the client writes (a row, the bundle, thumbnails). Files are read on the worker (a cluster needs
them on a shared file system); results are written on the client, atomically."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from napari_partial_style.batch.grid import Content, Pair
from napari_partial_style.core.errors import PartialStyleError
from napari_partial_style.core.io.bundle import Bundle
from napari_partial_style.core.params import JobParams

THUMB_SIDE = 160
# Re-segmentation colours: background grey, the expected class green, any other class red.
SCORE_COLOURS = np.array([[90, 90, 90], [40, 200, 80], [220, 50, 50]], np.uint8)


@dataclass
class Outcome:
    key: str
    name: str
    row: dict[str, Any] | None = None
    bundle: Bundle | None = None
    thumbnails: dict[str, np.ndarray] = field(default_factory=dict)
    error: str | None = None
    written: Path | None = None  # a clip's bundle, already written by its worker (batch/clips.py)


def thumbnail(native: np.ndarray) -> np.ndarray:
    from napari_partial_style.core.images import resize_native, to_uint8, working_shape

    return to_uint8(resize_native(native, working_shape(native.shape[:2], THUMB_SIDE)))


def score_thumbnail(labels: np.ndarray) -> np.ndarray:
    from PIL import Image

    from napari_partial_style.core.images import working_shape

    h, w = working_shape(labels.shape, THUMB_SIDE)
    small = np.asarray(Image.fromarray(labels.astype(np.uint8)).resize((w, h), Image.Resampling.NEAREST))
    return SCORE_COLOURS[np.minimum(small, 2)]


BATCH_KEY = "batch"  # in a batch bundle's manifest: its job's key and settings hash


def job_inputs(content: Content, style: Path) -> dict[str, str]:
    """The job's input files, as its manifest records them."""
    return {
        "content": str(content.path),
        "style": str(style),
        **({"labels": str(content.mask)} if content.mask else {}),
    }


def row_of(content: Content, style: Path, params: JobParams, key: str, hash_: str, start: float, session) -> dict:
    """The results row's columns every job has (a photo adds its scores, a clip its frames)."""
    return {
        "key": key,
        "content": content.path,
        "mask": content.mask,
        "content_class": content.material,
        "style": style,
        "method": params.style.method,  # Table 1 is grouped by it
        "seconds": round(time.perf_counter() - start, 2),
        "device": str(session.device),
        "params_hash": hash_,
    }


def failed(content: Content, style: Path, key: str, name: str, exc: Exception) -> Outcome:
    """A job whose input had a problem: the batch goes on and reports it in one line."""
    return Outcome(key, name, error=f"{content.path.name} × {Path(style).name}: {exc}")


def run_content(
    content: Content,
    style: Path,
    params: JobParams,
    name: str,
    key: str,
    hash_: str,
    max_pixels: int,
    weights: dict[str, str] | None = None,
    style_class: str | None = None,
    keep_bundle: bool = True,
) -> Outcome:
    """One content through the whole job (segmented unless it has a mask); never raises for a
    problem with this job's input: the batch goes on and reports it."""
    from napari_partial_style.api import Session
    from napari_partial_style.core.images import read_source_image
    from napari_partial_style.core.io.image_files import read_image_file
    from napari_partial_style.core.job.result import to_bundle

    start = time.perf_counter()
    try:
        session = Session(params.session, weights=weights)
        source = read_source_image(content.path, "content", max_pixels)
        style_image = read_source_image(style, "style", max_pixels)
        labels = None if content.mask is None else read_image_file(content.mask, max_pixels)
        result = session.run(source, style_image, params, labels, job_inputs(content, style)).result()
    except PartialStyleError as exc:
        return failed(content, style, key, name, exc)
    scores = result.scores or {}
    row = row_of(content, style, params, key, hash_, start, session) | {
        "style_class": style_class,
        "expected_class": scores.get("expected_class"),
        "pixel_accuracy": scores.get("pixel_accuracy"),
        "mean_iu": scores.get("mean_iu"),
    }
    thumbs = {"composite": thumbnail(result.composite)}
    if result.rescored_labels is not None:
        thumbs["score"] = score_thumbnail(result.rescored_labels)
    bundle = None
    if keep_bundle:
        bundle = to_bundle(result)
        bundle.manifest[BATCH_KEY] = {"key": key, "params_hash": hash_}  # which settings made it, for reruns
    return Outcome(key, name, row, bundle, thumbs)


def evaluate_pair(
    pair: Pair, params: JobParams, hash_: str, max_pixels: int, weights: dict[str, str] | None, keep_bundle: bool
) -> Outcome:
    """A grid job: scored against the style's class."""
    scored = replace(params, score=replace(params.score, enabled=True, expect=pair.style.material))
    return run_content(
        pair.content,
        pair.style.path,
        scored,
        pair.name,
        pair.key,
        hash_,
        max_pixels,
        weights,
        pair.style.material,
        keep_bundle,
    )
