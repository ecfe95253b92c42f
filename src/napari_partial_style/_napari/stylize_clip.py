"""Stylize on all frames of a clip through the core clip job (core/video/clip.py, `run_clip`).

Each frame starts from the previous frame's result carried along the optical flow and, with the
temporal weight above 0, is held to it inside the region where the flow is trusted: the texture
moves with the object instead of flickering. The region of each frame is the labels layer's plane
for that frame, taken as it is (Segment on all frames followed the region already; a frame painted
since is used as painted). Each finished frame is appended at once, so Cancel loses none.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from typing import Any

import numpy as np

from napari_partial_style.core.params import JobParams
from napari_partial_style.core.progress import Progress


def clip_frames(
    sources: list[Any],
    label_planes: list[np.ndarray | None],
    style: Any,
    params: JobParams,
    job_session: Any,
    word: str,
    done: list[np.ndarray],
) -> Generator[Progress, None, list[np.ndarray]]:
    """The stylized frames, appended to `done` as each is finished; events named "frame i/n ...".
    A frame without labels (no region chosen) is stylized whole."""
    from napari_partial_style.core.video.clip import STAGE, ClipFrame, run_clip

    count = len(sources)
    whole = np.ones(sources[0].shape, np.uint8)
    labels = [whole if plane is None else np.asarray(plane) for plane in label_planes]
    corrections = dict(enumerate(labels))  # every frame's region as the layer holds it, not tracked again
    frames = [source.native for source in sources]
    for item in run_clip(job_session, frames, style, params, labels=labels[0], corrections=corrections):
        if isinstance(item, ClipFrame):
            done.append(item.stylized)
        elif item.stage != STAGE:  # the frame's own steps; "frame i/n" says which frame they belong to
            yield replace(item, stage=f"{word} {len(done) + 1}/{count} {item.stage}")
    return done
