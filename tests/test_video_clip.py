"""The clip job (core/video/clip.py): the region restyled in every frame with the temporal term,
the outside each frame's own pixels, corrections honoured, streamed into a frame-axis bundle."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from video_clips import moving_object

from napari_partial_style.api import Session
from napari_partial_style.core.params import JobParams, SessionParams, StyleParams
from napari_partial_style.core.video import flow as flows
from napari_partial_style.core.video.clip import ClipFrame, run_clip

PARAMS = JobParams(session=SessionParams(size=48, device="cpu"), style=StyleParams(steps=3, fine_steps=1, realism=0.0))


@pytest.fixture(scope="module")
def clip():
    return moving_object(frames=4, shape=(36, 48))


@pytest.fixture(scope="module")
def style():
    return (np.random.default_rng(3).random((48, 48, 3)) * 255).astype(np.uint8)


def frames_of(job) -> list[ClipFrame]:
    return [item for item in job if isinstance(item, ClipFrame)]


def warping_error(frames: list[ClipFrame], clip) -> float:
    """Lai et al. 2018's protocol: each result against the previous one carried along the flow the
    job estimates, over the region's pixels where that flow is trusted."""
    from napari_partial_style.core.video.track import track

    estimated = list(track(clip.frames[: len(frames)], clip.masks[0].astype(np.uint8)))
    errors = []
    for before, after in zip(frames, frames[1:]):
        step = estimated[after.index]
        carried = flows.warp(before.stylized.astype(np.float32) / 255, step.flow)
        seen = clip.masks[after.index] & clip.masks[before.index] & ~step.occluded
        errors.append((((after.stylized.astype(np.float32) / 255 - carried) ** 2).mean(-1))[seen].mean())
    return float(np.mean(errors))


@pytest.mark.slow  # 43 s on 2 loaded cores: six frames through the style network
def test_the_temporal_term_lowers_the_flicker_and_the_outside_stays_each_frames_own(hub, clip, style):
    """From noise (the same pattern in every frame, which does not move with the object), frames
    stylized on their own flicker; the warped start and the temporal term carry frame 0's result."""
    labels = clip.masks[0].astype(np.uint8)
    session = Session(PARAMS.session)
    noise = replace(PARAMS, style=replace(PARAMS.style, init="noise"))
    independent = frames_of(
        run_clip(session, clip.frames[:3], style, replace(noise, style=replace(noise.style, temporal=0.0)), labels)
    )
    held = frames_of(run_clip(session, clip.frames[:3], style, noise, labels))
    assert [f.index for f in held] == [0, 1, 2]
    assert warping_error(held, clip) < 0.1 * warping_error(independent, clip)
    for f in held + independent:
        outside = f.labels == 0
        assert np.array_equal(f.content, clip.frames[f.index])
        assert np.array_equal(f.composite[outside], clip.frames[f.index][outside])  # bit for bit
        assert (f.composite[~outside] != f.content[~outside]).any()  # and the region did change


def test_a_correction_on_frame_k_is_honoured_and_carried_forward(hub, clip, style):
    wrong = np.zeros(clip.masks[0].shape, np.uint8)
    wrong[:8, :8] = 1  # frame 0's region in the wrong place; frame 2 is corrected
    params = replace(PARAMS, style=replace(PARAMS.style, steps=1))
    frames = frames_of(
        run_clip(Session(params.session), clip.frames, style, params, wrong, {2: clip.masks[2].astype(np.uint8)})
    )
    assert [f.given for f in frames] == [True, False, True, False]
    assert np.array_equal(frames[2].labels > 0, clip.masks[2])
    overlap = (frames[3].labels > 0) & clip.masks[3]
    assert overlap.sum() > 0.8 * clip.masks[3].sum()  # frame 3 follows the correction, not frame 0
    assert np.array_equal(frames[3].composite[frames[3].labels == 0], clip.frames[3][frames[3].labels == 0])


def test_the_job_yields_a_progress_event_per_frame_and_its_record(hub, clip, style):
    params = replace(PARAMS, style=replace(PARAMS.style, steps=1))
    job = run_clip(Session(params.session), clip.frames[:2], style, params, clip.masks[0].astype(np.uint8))
    events = []
    while True:
        try:
            events.append(next(job))
        except StopIteration as stop:
            record = stop.value
            break
    done = [e for e in events if not isinstance(e, ClipFrame) and e.stage == "clip"]
    assert [(e.step, e.total) for e in done] == [(1, 2), (2, 2)]
    assert record.frames == 2 and record.shape == (36, 48) and len(record.seconds) == 2


def test_a_style_mapped_by_class_name_follows_its_class_in_every_frame(hub, clip, style, monkeypatch):
    """Frame 0 segmented into two classes (faked: the classifier is not under test), the style mapped to
    one of them by name: in every later frame that class's pixels are restyled and the other class's,
    like the background, stay the frame's own bit for bit; a frame where the class is gone is its own."""
    from types import SimpleNamespace

    from napari_partial_style.core.job import stages

    def planes(t: int, plate: bool = True) -> np.ndarray:
        labels = clip.masks[t].astype(np.uint8)  # 1: the moving object, "cup"
        if plate:
            labels[26:, :14] = 2  # "plate", a box in a corner the object never reaches
        return labels

    def segment(rt, image, params, prompts=None):
        yield from ()
        return SimpleNamespace(labels=planes(0), targets=["cup", "plate"])

    monkeypatch.setattr(stages, "segment", segment)
    params = replace(PARAMS, style=replace(PARAMS.style, steps=1))
    corrections = {1: planes(1), 2: planes(2), 3: planes(3, plate=False)}  # exact regions in every frame
    frames = frames_of(run_clip(Session(params.session), clip.frames, {"plate": style}, params, None, corrections))
    assert [f.index for f in frames] == [0, 1, 2, 3]
    for f in frames[1:3]:
        plate = f.labels == 2
        assert np.array_equal(f.composite[~plate], f.content[~plate])  # the cup too: it has no style
        assert (f.composite[plate] != f.content[plate]).any()
    assert np.array_equal(frames[3].composite, frames[3].content)


def style_steps_per_frame(job) -> list[int]:
    """How many optimisation steps (the style stage's progress events) each frame of the job ran."""
    counts = [0]
    for item in job:
        if isinstance(item, ClipFrame):
            counts.append(0)
        elif item.stage == "style":
            counts[-1] += 1
    return counts[:-1]


@pytest.mark.parametrize(
    ("temporal", "later_steps", "expected"),
    [(1000.0, 0.5, [4, 2]), (1000.0, 1.0, [4, 4]), (0.0, 0.5, [4, 4])],
)
def test_frames_after_the_first_run_the_later_share_of_the_steps(hub, clip, style, temporal, later_steps, expected):
    """A frame that starts from the previous result warped runs `later_steps` of the steps; 1 keeps
    every frame at all the steps, and frames stylized independently (temporal 0) always run all."""
    params = replace(PARAMS, style=replace(PARAMS.style, steps=4, temporal=temporal, later_steps=later_steps))
    job = run_clip(Session(params.session), clip.frames[:2], style, params, clip.masks[0].astype(np.uint8))
    assert style_steps_per_frame(job) == expected
