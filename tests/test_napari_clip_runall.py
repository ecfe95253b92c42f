"""Run all and Score on a clip: with the Segment tab on all frames, Run all runs the tabs' all-frames
jobs in turn (Segment following the region, Stylize, Composite, Score), one Cancel stops it keeping
the frames finished, and Score on all frames scores each frame."""

from __future__ import annotations

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari_helpers import TIMEOUT_MS, dock, flow_for_cup, wait_done  # noqa: E402
from test_napari_video import given_labels, open_clip  # noqa: E402
from video_clips import moving_object  # noqa: E402

from napari_partial_style._napari.common import ALL_SLICES  # noqa: E402
from napari_partial_style._napari.layers import META_KEY  # noqa: E402

SHAPE = (48, 64)


def clip_flow(viewer, frames: int, painted: list[int]):
    """The all-steps dock on a small clip with labels painted on the `painted` frames, set to all
    frames, small and quick."""
    clip = moving_object(frames=frames, shape=SHAPE)
    layer = open_clip(viewer, clip.frames)
    style = viewer.add_image(np.asarray(clip.frames[0][::-1]), name="style", rgb=True)
    given_labels(viewer, {t: clip.masks[t] for t in painted}, frames)
    flow = flow_for_cup(viewer, layer, style)
    flow.segment.slices.value = ALL_SLICES
    flow.segment.form["session.size"].value, flow.segment.form["segment.crf.method"].value = 48, "none"
    flow.stylize.form["session.size"].value, flow.stylize.form["style.steps"].value = 32, 2
    flow.stylize.form["style.fine_steps"].value = 1
    flow.composite.score_form["segment.classifier"].set("tiny")
    flow.composite.score_form["session.size"].value = 48
    return clip, layer, flow


def test_run_all_on_a_clip_runs_every_frame_through_every_tab(make_napari_viewer, qtbot, hub, monkeypatch):
    """Labels painted on the first frame only: Run all follows them through the clip, stylizes,
    composites and scores every frame; the content is kept outside the region in every frame; no
    step says it uses only the frame shown."""
    from napari.utils import notifications

    said = []
    monkeypatch.setattr(notifications, "show_info", said.append)
    viewer = make_napari_viewer()
    clip, layer, flow = clip_flow(viewer, 3, painted=[0])
    flow.run_all.clicked()
    assert flow.run_all.text == "Cancel" and flow.running_all and flow.segment.runner.running, (
        flow.status.value,
        flow.segment.status.value,
    )
    qtbot.waitUntil(lambda: not flow.running_all, timeout=3 * TIMEOUT_MS)
    assert flow.status.value.startswith("Run all: done (Segment, Stylize, Composite, Score"), flow.status.value
    assert flow.run_all.text == "Run all"
    labels = viewer.layers["clip labels [2]"].data  # followed from the painted frame, which is kept
    assert labels.shape == (3, *SHAPE) and all(labels[t].any() for t in range(3))
    stylized, composite = viewer.layers["clip stylized"].data, viewer.layers["clip composite"].data
    assert stylized.shape == composite.shape == (3, *SHAPE, 3)
    outside = labels == 0
    assert np.array_equal(composite[outside], clip.frames[outside])
    assert all(not np.array_equal(composite[t], clip.frames[t]) for t in range(3))  # every frame restyled
    scores = viewer.layers["clip composite"].metadata[META_KEY]["scores"]
    assert len(scores["frames"]) == 3 and all(f is not None for f in scores["frames"])
    assert not [line for line in said if "current 2D slice" in line], said
    assert viewer.layers["clip re-segmentation"].data.shape == (3, *SHAPE)


def test_cancel_in_run_all_on_a_clip_keeps_the_frames_stylized_and_stops(make_napari_viewer, qtbot, hub):
    """Every frame labelled: Run all does not segment; Cancel while frame 2 is stylized keeps
    frame 1's result, and Composite and Score do not run."""
    viewer = make_napari_viewer()
    clip, layer, flow = clip_flow(viewer, 3, painted=[0, 1, 2])
    on_event, mirrored = flow.stylize.progress.show_event, flow.all_progress.show_event
    seen: list[str] = []

    def cancel_in_frame_2(event):
        on_event(event)
        if event.stage.startswith("frame 2/3") and flow.run_all.text == "Cancel":
            flow.run_all.clicked()  # the one Cancel

    def shown_in_run_all(event):
        seen.append(event.stage)
        mirrored(event)

    flow.stylize.progress.show_event, flow.all_progress.show_event = cancel_in_frame_2, shown_in_run_all
    flow.run_all.clicked()
    assert not flow.segment.runner.running and flow.stylize.runner.running
    qtbot.waitUntil(lambda: not flow.running_all, timeout=3 * TIMEOUT_MS)
    assert "cancelled during Stylize" in flow.status.value, flow.status.value
    assert any(stage.startswith("Stylize: frame 1/3") for stage in seen), seen  # its progress, in Run all's bar
    assert "1 of 3 frames stylized" in flow.stylize.status.value
    stylized = viewer.layers["clip stylized"].data
    changed = [t for t in range(3) if not np.array_equal(stylized[t], clip.frames[t])]
    assert changed == [0]
    names = {lyr.name for lyr in viewer.layers}
    assert "clip composite" not in names and "clip labels [2]" not in names and flow.run_all.text == "Run all"


def test_score_on_all_frames_gives_one_score_per_frame(make_napari_viewer, qtbot, hub):
    viewer = make_napari_viewer()
    clip = moving_object(frames=3, shape=SHAPE)
    layer = open_clip(viewer, clip.frames)
    style = viewer.add_image(np.asarray(clip.frames[0][::-1]), name="style", rgb=True)
    masks = {0: clip.masks[0], 2: clip.masks[2]}  # frame 1 has no region: not scored
    given_labels(viewer, masks, 3)
    viewer.add_image(255 - clip.frames, name="clip stylized", rgb=True)
    composite = dock(viewer, "Composite and score")
    composite.content.value = layer
    composite.slices.value = ALL_SLICES
    composite.composite_button.clicked()
    wait_done(qtbot, composite.composite_runner)
    assert viewer.layers["clip composite"].data.shape == (3, *SHAPE, 3)
    composite.style.value = style
    composite.score_form["segment.classifier"].set("tiny")
    composite.score_form["session.size"].value = 48
    composite.score_button.clicked()
    wait_done(qtbot, composite.runner)
    assert composite.runner.last_error is None, composite.status.value
    frames = viewer.layers["clip composite"].metadata[META_KEY]["scores"]["frames"]
    assert [f is None for f in frames] == [False, True, False]
    assert all(0 <= f["mean_iu"] <= 1 for f in (frames[0], frames[2]))
    assert composite.status.value.startswith("Score: done — 2 of 3 frames scored (1 without a region)")
    worst = min((0, 2), key=lambda t: frames[t]["mean_iu"])
    assert f"worst frame {worst} ({frames[worst]['mean_iu']:.3f})" in composite.status.value
    assert composite.scores.value.splitlines()[1].startswith("mean IU per frame: 0 ")
    assert viewer.layers["clip re-segmentation"].data.shape == (3, *SHAPE)
