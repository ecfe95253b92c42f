"""One clip of a batch, as it runs on a worker. A clip's bundle is too big to travel back to the
client in memory as a photo's does, so the worker writes it itself, a frame at a time, to its place
in the results folder (a cluster needs that folder on the shared file system, as it needs the
contents): the frame bundle writer puts it there only once complete (core/io/bundle_frames.py), so
the client's rule holds: its CSV row, written last, means its files are complete."""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

from napari_partial_style.batch.grid import Content
from napari_partial_style.batch.jobs import BATCH_KEY, Outcome, failed, job_inputs, row_of, thumbnail
from napari_partial_style.core.errors import PartialStyleError
from napari_partial_style.core.params import JobParams


def run_clip_content(
    content: Content,
    style: Path,
    params: JobParams,
    name: str,
    key: str,
    hash_: str,
    max_pixels: int,
    weights: dict[str, str] | None,
    bundle: Path,
) -> Outcome:
    """The clip job on `content`, written to `bundle` (replacing one the batch has checked is its
    own to replace); never raises for a problem with this job's input."""
    from napari_partial_style.api import Session
    from napari_partial_style.core.images import read_source_image
    from napari_partial_style.core.io.image_files import read_image_file
    from napari_partial_style.core.video.clip import run_clip
    from napari_partial_style.core.video.clip_bundle import write_clip
    from napari_partial_style.core.video.frames import open_frames

    start = time.perf_counter()
    first: dict[str, Any] = {}
    try:
        session = Session(params.session, weights=weights)
        frames = open_frames(content.path, max_pixels)
        style_image = read_source_image(style, "style", max_pixels)
        labels = None if content.mask is None else read_image_file(content.mask, max_pixels)
        job = _keep_first(run_clip(session, frames, style_image, params, labels), first)
        bundle.parent.mkdir(exist_ok=True)
        written, record = write_clip(
            job,
            bundle,
            style_image,
            job_inputs(content, style),
            overwrite=True,
            extra={BATCH_KEY: {"key": key, "params_hash": hash_}},
        )
    except PartialStyleError as exc:
        return failed(content, style, key, name, exc)
    row = row_of(content, style, params, key, hash_, start, session) | {"frames": record.frames}
    return Outcome(key, name, row, thumbnails={"composite": thumbnail(first["composite"])}, written=written)


def _keep_first(job: Generator, first: dict[str, Any]) -> Generator:
    """`job` as it is, keeping frame 0's composite (the clip's thumbnail)."""
    from napari_partial_style.core.video.clip import ClipFrame

    while True:
        try:
            item = next(job)
        except StopIteration as stop:
            return stop.value
        if isinstance(item, ClipFrame) and not first:
            first["composite"] = item.composite
        yield item
