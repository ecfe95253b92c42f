"""A clip job run into its bundle, a frame at a time (and, when asked, into a video file too):
what the CLI's `run CLIP` and `Session.save_clip` share."""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from napari_partial_style.core.images import SourceImage
from napari_partial_style.core.progress import Progress
from napari_partial_style.core.video.clip import ClipFrame, ClipRecord


def write_clip(
    job: Generator[Progress | ClipFrame, None, ClipRecord],
    path: str | Path,
    style: Any,
    inputs: dict[str, str] | None = None,
    overwrite: bool = False,
    video: str | Path | None = None,
    on_progress: Callable[[Progress], Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[Path, ClipRecord]:
    """Drive `job` (core/video/clip.py's run_clip), writing each ClipFrame's layers into the bundle at
    `path` as it comes and its composite into `video` (`extra`: more manifest entries, e.g. a batch's
    key); the bundle's path and the job's record. The
    targets are checked before the first frame: nothing is written when the job fails or stops."""
    from napari_partial_style.core.io.bundle_frames import FrameBundleWriter

    video_path = None
    if video is not None:
        from napari_partial_style.core.video.video_out import check_video_target

        video_path = check_video_target(video, overwrite)
    with FrameBundleWriter(path, overwrite) as bundle, _video(video_path) as write_video:
        while True:
            try:
                item = next(job)
            except StopIteration as stop:
                record = stop.value
                break
            if isinstance(item, ClipFrame):
                bundle.add(content=item.content, labels=item.labels, stylized=item.stylized, composite=item.composite)
                if write_video is not None:
                    write_video(item.composite)
            elif on_progress is not None:
                on_progress(item)
        manifest = {
            "parameters": record.params,
            "targets": record.targets or ["target"],
            "inputs": dict(inputs or {}),
            "labels_given": not record.targets,
            "clip": {"frames": record.frames, "seconds_per_frame": [round(s, 3) for s in record.seconds]},
            **(extra or {}),
        }
        written = bundle.finish(manifest, style_image(style))
    return written, record


def style_image(style: Any) -> np.ndarray | None:
    """The style image the bundle keeps: the style, or a blend's first (a mapping: none)."""
    from napari_partial_style.core.job.rules import source

    if isinstance(style, (np.ndarray, SourceImage)):
        return source(style, "style").native
    if isinstance(style, (list, tuple)) and style:
        return source(style[0][0], "style").native
    return None


def _video(path: Path | None):
    from napari_partial_style.core.video.video_out import video_writer

    return nullcontext() if path is None else video_writer(path)
