"""One region of a clip restyled in every frame, following the object, without flicker.

    run_clip(session, frames, style, params=None, labels=None, corrections=None, track_params=None)
        -> Generator[Progress | ClipFrame, None, ClipRecord]

`session`: an `api.Session` or a `core.job.runtime.Runtime`; `frames`: `video.frames.open_frames(...)`
(or anything it accepts: a T×H×W×3 array, a folder, a multi-page TIFF, a video file); `style`: an
image, a blend or a mapping by label value or by frame 0's target class, as `Session.run` takes;
`params`: JobParams (the style's `temporal` weight among them; the score stage is not run per
frame); `labels`: frame 0's labels (0 = background), else frame 0 is segmented for
`params.segment`'s targets; `corrections`: {frame index: H×W labels} taken as they are on that
frame and carried forward from there.

The generator yields `Progress` events (the stages of each frame, then one "clip" event per frame
done: step = frames done, total = the clip's frame count, 0 when the file does not say) and, as
each frame is finished, a `ClipFrame` (index, content, labels, stylized, composite, given), in order; it
returns a `ClipRecord`. It holds O(1) frames: a consumer writes each ClipFrame as it comes (the CLI
writes the bundle a frame at a time). Stop iterating (or cancel through core/runtime/cancel.py in a
worker) to stop between or inside frames; what was yielded stays valid.

With `temporal` > 0 (params.style.temporal), each frame after the first starts from the previous
result warped along the backward flow and
its objective gains the temporal term (core/video/temporal.py) inside the region, and it runs
`later_steps` of the steps (params.style.later_steps); at 0 every frame is stylized on its own, as a
photo would be, with all the steps. Outside the composite's alpha every
output frame is that frame's own pixels, bit for bit; a frame whose tracked region is empty is
its own pixels everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from napari_partial_style.core.images import SourceImage, to_float_rgb
from napari_partial_style.core.job import stages
from napari_partial_style.core.job.runtime import Runtime
from napari_partial_style.core.params import JobParams, StyleParams
from napari_partial_style.core.progress import Progress
from napari_partial_style.core.video import flow as flows
from napari_partial_style.core.video.frames import Frames, open_frames
from napari_partial_style.core.video.temporal import TemporalTarget
from napari_partial_style.core.video.track import TrackedFrame, TrackParams, track

STAGE = "clip"


@dataclass(frozen=True)
class ClipFrame:
    """One finished frame: its own pixels (`content`, H×W×3 in the clip's dtype), its labels (H×W
    int32), the stylized frame and the composite (both like the content), and whether its labels were
    given (frame 0's, a correction)."""

    index: int
    content: np.ndarray
    labels: np.ndarray
    stylized: np.ndarray
    composite: np.ndarray
    given: bool


@dataclass
class ClipRecord:
    """What the clip job did: frames done, frame size, the first frame's targets (when segmented),
    seconds per frame (reading, tracking, style and composite; frame 0's segmentation not counted),
    and the parameters."""

    frames: int = 0
    shape: tuple[int, int] = (0, 0)
    targets: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


def run_clip(
    session: Any,
    frames: Frames | str | Path | np.ndarray | Sequence[np.ndarray],
    style: Any,
    params: JobParams | None = None,
    labels: np.ndarray | None = None,
    corrections: Mapping[int, np.ndarray] | None = None,
    track_params: TrackParams | None = None,
) -> Generator[Progress | ClipFrame, None, ClipRecord]:
    """The clip job (see the module's docstring)."""
    import time
    from dataclasses import asdict

    rt: Runtime = getattr(session, "runtime", session)
    params = replace(params or JobParams(), session=rt.params)
    clip = frames if isinstance(frames, Frames) else open_frames(frames)
    record = ClipRecord(shape=clip.shape, params=asdict(params))
    first_labels, targets = labels, []
    if first_labels is None:
        first_labels, targets = yield from _segment_first(rt, clip, params)
    record.targets = targets
    current: list[SourceImage] = []  # the frame the tracker has just read: one pass, one frame held
    previous: np.ndarray | None = None
    started = time.perf_counter()  # a frame's seconds: its decoding, tracking, style and composite
    for tracked in track(
        _feed(clip, current), first_labels, corrections, None, track_params or TrackParams(), rt.device
    ):
        frame = current[0]
        stylized, composite = yield from _frame(rt, frame, tracked, style, params, previous, targets)
        record.seconds.append(time.perf_counter() - started)
        record.frames = tracked.index + 1
        done = ClipFrame(tracked.index, frame.native, tracked.labels, stylized, composite, tracked.given)
        yield done
        yield Progress(STAGE, record.frames, clip.count or 0, message=f"frame {record.frames} done")
        previous, started = stylized, time.perf_counter()  # what the consumer did with the frame is not counted
    return record


def _feed(clip: Frames, current: list[SourceImage]):
    """The clip's frames, each also left in `current` for the job to stylize once the tracker has its labels."""
    for frame in clip:
        current[:] = [frame]
        yield frame


def _segment_first(rt: Runtime, clip: Frames, params: JobParams):
    """Frame 0 segmented for the job's targets: its labels and target names."""
    from napari_partial_style.core.job.rules import segmented_mask

    frames = iter(clip)
    first = next(frames)
    frames.close()
    seg = yield from stages.segment(rt, first, params.segment)
    segmented_mask(seg.labels, seg.targets, params.composite)
    return seg.labels, list(seg.targets)


def _frame(
    rt: Runtime,
    frame: SourceImage,
    tracked: TrackedFrame,
    style: Any,
    params: JobParams,
    previous: np.ndarray | None,
    targets: list[str],
):
    """One frame stylized (from the previous result warped, with the temporal term) and composited."""
    from napari_partial_style.core.job.rules import guides

    regions = _regions(frame, tracked, style, params, targets) if tracked.labels.any() else []
    if not regions:
        return frame.native.copy(), frame.native.copy()
    mask = np.logical_or.reduce([r.mask for r in regions])
    style_params, start, temporal = params.style, None, None
    if previous is not None and tracked.flow is not None and params.style.temporal:
        start, temporal = _from_previous(tracked, previous, mask, params.style.temporal)
        style_params = _later_frame(params.style)
    shaped = guides(regions, None, 0.0, params.style.method)
    stylized = yield from stages.stylize(
        rt, frame, shaped, style_params, params.segment, start=start, temporal=temporal
    )
    composite, _ = yield from stages.compositing(frame, stylized.image, mask, params.composite)
    return stylized.image, composite


def _later_frame(style: StyleParams) -> StyleParams:
    """The style parameters of a frame that starts from the previous result warped: `later_steps` of
    the steps at every pyramid level, rounded up (Ruder et al.'s code runs 2000 iterations on the first
    frame and 1000 on each next one, which starts with most of the style already in place)."""
    share = style.later_steps
    return replace(style, steps=math.ceil(style.steps * share), fine_steps=math.ceil(style.fine_steps * share))


def _from_previous(
    tracked: TrackedFrame, stylized: np.ndarray, mask: np.ndarray, weight: float
) -> tuple[np.ndarray, TemporalTarget]:
    """The start (the previous result warped onto this frame, as Ruder et al. start: where the flow is
    not trusted too, since this frame's own pixels there would stand out in the stylized region until
    restyled) and the temporal target (trusted where the flow is, inside the region)."""
    warped = np.clip(flows.warp(to_float_rgb(stylized[..., :3]), tracked.flow), 0.0, 1.0)
    trust = (~tracked.occluded & mask).astype(np.float32)
    return warped, TemporalTarget(warped, trust, float(weight))


def _regions(frame: SourceImage, tracked: TrackedFrame, style: Any, params: JobParams, targets: list[str]) -> list:
    """Each style's region in this frame's labels, as a photo job finds them (pipeline.job_regions), with
    frame 0's target classes, so that a style mapped by class name finds its label value in every frame.
    After frame 0, a label value with no pixel left (its object gone, or lost by the tracker) is left out,
    its pixels the frame's own, rather than refused: frame 0 alone is where a mapping is checked."""
    from napari_partial_style.core.images import target_mask
    from napari_partial_style.core.job.rules import EVERY_TARGET, regions_of, styles_of

    later, values = tracked.index > 0, params.composite.label_values
    region = target_mask(tracked.labels, frame.shape, "labels", values or None, allow_empty=later)
    styles = styles_of(style) or [(EVERY_TARGET, [(None, 1.0)])]
    found = regions_of(styles, tracked.labels, frame.shape, region, targets or None, values, skip_empty=later)
    return [r for r in found if r.mask.any()]
