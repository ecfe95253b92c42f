"""Clips in the docks: a T×H×W×3 layer whose slider is labelled t. Segment on all frames follows the
region from the frame shown (a painted frame is a correction carried forward), Cancel keeps the
finished frames, and every stage's layer has the clip's frame axis so the slider moves them together."""

from __future__ import annotations

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari_helpers import dock, segment_for_cup, wait_done  # noqa: E402
from video_clips import iou, moving_object  # noqa: E402

from napari_partial_style._napari.common import ALL_SLICES, shown  # noqa: E402


@pytest.fixture(scope="module")
def clip():
    return moving_object(frames=10)


def open_clip(viewer, frames, name="clip"):
    layer = viewer.add_image(frames, name=name, rgb=True)
    viewer.dims.axis_labels = ("t", "y", "x")
    viewer.dims.set_current_step(0, 0)  # napari opens a stack at its middle slice
    return layer


def given_labels(viewer, masks, frames: int, name="clip labels", classes=("background", "cup")):
    """A labels layer for the clip as a user paints it: `masks` (index: mask) on their frames, 0 elsewhere."""
    data = np.zeros((frames, *next(iter(masks.values())).shape), np.uint8)
    for index, mask in masks.items():
        data[index] = mask
    return viewer.add_labels(data, name=name, features={"class": list(classes)})


def segment_all_frames(viewer, layer, qtbot, follow=True):
    segment = segment_for_cup(viewer, layer, size=64)
    segment.slices.value = ALL_SLICES
    segment.follow.value = follow
    segment.run.clicked()
    wait_done(qtbot, segment.runner)
    assert segment.runner.last_error is None, segment.status.value
    return segment


def test_segment_on_all_frames_follows_a_moving_object(make_napari_viewer, qtbot, hub, clip):
    """Labels painted on frame 0 are carried to the last frame (IoU with the true mask). (Against
    segmenting each frame on its own the tests' untrained classifier is no yardstick: docs/quality.md
    compares the two with the clip job.)"""
    viewer = make_napari_viewer()
    layer = open_clip(viewer, clip.frames)
    given_labels(viewer, {0: clip.masks[0]}, len(clip.frames), classes=("background", "object"))
    segment = segment_for_cup(viewer, layer, size=64)
    assert segment.slices.label == "frames" and segment.slices.native.itemText(1) == "all frames"
    assert not shown(segment.follow)
    segment.slices.value = ALL_SLICES
    assert shown(segment.follow) and "frame shown" in segment.follow.text
    viewer.dims.set_current_step(0, 5)
    segment.run.clicked()
    assert not segment.runner.running
    assert "frame 5 of 'clip labels' has no labels to follow (frames with labels: 0)" in segment.status.value
    viewer.dims.set_current_step(0, 0)
    segment.run.clicked()
    wait_done(qtbot, segment.runner)
    assert segment.runner.last_error is None, segment.status.value
    followed = viewer.layers["clip labels [2]"].data  # the painted layer is kept
    assert followed.shape == (10, 96, 128)
    assert "followed through 10 frames from frame 0" in segment.status.value
    assert iou(followed[-1] > 0, clip.masks[-1]) >= 0.85
    assert iou(clip.masks[0], clip.masks[-1]) < 0.6  # the object moved: labels standing still would fail


def test_a_correction_on_frame_k_is_carried_forward_and_earlier_frames_are_kept(make_napari_viewer, qtbot, hub, clip):
    viewer = make_napari_viewer()
    layer = open_clip(viewer, clip.frames[:8])
    wrong = np.zeros(clip.masks[0].shape, np.uint8)
    wrong[:12, :12] = 1  # a region in the wrong place
    given_labels(viewer, {0: wrong}, 8, classes=("background", "thing"))
    segment_all_frames(viewer, layer, qtbot)
    first = viewer.layers["clip labels [2]"]
    assert iou(first.data[7] > 0, clip.masks[7]) < 0.2

    k = 4
    corrected = first.data.copy()
    corrected[k] = clip.masks[k]
    first.data = corrected  # painted: the next run keeps this layer and takes frame k as given
    viewer.dims.set_current_step(0, k)
    segment = segment_all_frames(viewer, layer, qtbot)
    second = viewer.layers["clip labels [3]"].data
    assert np.array_equal(second[:k], corrected[:k])  # frames before the correction as they were
    assert np.array_equal(second[k], clip.masks[k])
    assert all(iou(second[t] > 0, clip.masks[t]) >= 0.85 for t in range(k, 8))
    assert "from frame 4" in segment.status.value


def test_cancel_keeps_the_frames_already_followed(make_napari_viewer, qtbot, hub):
    clip = moving_object(frames=24)
    viewer = make_napari_viewer()
    layer = open_clip(viewer, clip.frames)
    given_labels(viewer, {0: clip.masks[0]}, 24, classes=("background",))  # no classes: flow and CRF only
    segment = segment_for_cup(viewer, layer, size=64)
    segment.slices.value = ALL_SLICES
    show_event = segment.progress.show_event

    def cancel_at_frame_3(event):
        show_event(event)
        if event.stage == "frames" and event.step >= 3 and not segment.runner.cancelled:
            segment.runner.cancel()

    segment.progress.show_event = cancel_at_frame_3
    segment.run.clicked()
    wait_done(qtbot, segment.runner)
    labels = viewer.layers["clip labels [2]"].data
    done = [t for t in range(24) if labels[t].any()]
    assert 3 <= len(done) < 24 and done == list(range(len(done)))  # the finished frames, in order
    assert all(iou(labels[t] > 0, clip.masks[t]) >= 0.85 for t in done)
    assert f"{len(done)} of 24 frames have labels" in segment.status.value


def test_every_stage_has_the_clip_frame_axis_and_the_slider_moves_them_together(make_napari_viewer, qtbot, hub):
    """Segment, Stylize and Composite on all frames of a small clip: saliency, labels, stylized and
    composite each have the clip's frames, and the slider shows the same frame in every one."""
    from napari_partial_style._napari.layers import current_slice

    clip = moving_object(frames=3, shape=(48, 64))
    viewer = make_napari_viewer()
    layer = open_clip(viewer, clip.frames)
    style = viewer.add_image(np.asarray(clip.frames[0][::-1]), name="style", rgb=True)
    segment = segment_for_cup(viewer, layer, size=48)
    segment.form["segment.crf.method"].value = "none"
    segment.slices.value = ALL_SLICES
    segment.run.clicked()
    wait_done(qtbot, segment.runner)
    assert segment.runner.last_error is None, segment.status.value

    stylize = dock(viewer, "Stylize")
    stylize.content.value, stylize.style.value = layer, style
    stylize.slices.value = ALL_SLICES
    assert shown(stylize.chain) and stylize.chain.value and "each frame" in stylize.chain.text
    stylize.form["session.size"].value, stylize.form["style.steps"].value = 32, 2
    stylize.form["style.fine_steps"].value = 1
    stylize.run.clicked()
    wait_done(qtbot, stylize.runner)
    assert stylize.runner.last_error is None, stylize.status.value

    composite = dock(viewer, "Composite and score")
    composite.content.value = layer
    assert composite.slices.native.itemText(1) == "all frames"
    composite.slices.value = ALL_SLICES
    composite.composite_button.clicked()
    outputs = ["clip saliency [cup]", "clip labels", "clip stylized", "clip composite"]
    for name in outputs:
        assert viewer.layers[name].data.shape[:3] == (3, 48, 64), name
    labels = viewer.layers["clip labels"].data
    outside = labels == 0
    assert np.array_equal(viewer.layers["clip composite"].data[outside], clip.frames[outside])
    for t in (2, 1):
        viewer.dims.set_current_step(0, t)
        assert np.array_equal(current_slice(viewer, layer)[0], clip.frames[t])
        for name in outputs:
            assert np.array_equal(current_slice(viewer, viewer.layers[name])[0], viewer.layers[name].data[t]), name


def test_stylize_cancelled_mid_clip_keeps_the_frames_done(make_napari_viewer, qtbot, hub):
    clip = moving_object(frames=6, shape=(48, 64))
    viewer = make_napari_viewer()
    layer = open_clip(viewer, clip.frames)
    style = viewer.add_image(np.asarray(clip.frames[0][::-1]), name="style", rgb=True)
    given_labels(viewer, dict(enumerate(clip.masks)), 6)
    stylize = dock(viewer, "Stylize")
    stylize.content.value, stylize.style.value = layer, style
    stylize.labels_layer.value = viewer.layers["clip labels"]
    stylize.slices.value = ALL_SLICES
    stylize.form["session.size"].value, stylize.form["style.steps"].value = 32, 2
    stylize.form["style.fine_steps"].value = 1
    on_event = stylize.progress.show_event

    def cancel_in_frame_3(event):
        on_event(event)
        if event.stage.startswith("frame 3/6") and not stylize.runner.cancelled:
            stylize.runner.cancel()

    stylize.progress.show_event = cancel_in_frame_3
    stylize.run.clicked()
    wait_done(qtbot, stylize.runner)
    stylized = viewer.layers["clip stylized"].data
    assert stylized.shape == (6, 48, 64, 3)
    changed = [t for t in range(6) if not np.array_equal(stylized[t], clip.frames[t])]
    assert changed == [0, 1]  # frames 1 and 2 (0 and 1 here) finished; the rest show the content
    assert "2 of 6 frames stylized" in stylize.status.value


def test_a_clip_bundle_reopens_with_the_frame_axis_in_every_layer(make_napari_viewer, tmp_path):
    """A bundle written a frame at a time opens as stacks: the slider moves content, saliency,
    labels, stylized and composite together."""
    from napari_partial_style._napari.layers import current_slice

    bundle_frames = pytest.importorskip("napari_partial_style.core.io.bundle_frames")
    clip = moving_object(frames=4, shape=(48, 64))
    path = tmp_path / "walk.pstyle"
    with bundle_frames.FrameBundleWriter(path) as writer:
        for t in range(4):
            stylized = 255 - clip.frames[t]
            writer.add(
                content=clip.frames[t],
                labels=clip.masks[t].astype(np.uint8),
                stylized=stylized,
                composite=np.where(clip.masks[t][..., None], stylized, clip.frames[t]),
                saliency=clip.masks[t][None].astype(np.float32),
            )
        writer.finish({"targets": ["cup"], "classifier_classes": ["cup"]}, style=clip.frames[0])
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="napari-partial-style")
    names = ["walk content", "walk saliency [cup]", "walk labels", "walk stylized", "walk composite"]
    for name in names:
        assert viewer.layers[name].data.shape[:3] == (4, 48, 64), name
    viewer.dims.set_current_step(0, 2)
    for name in names:
        assert np.array_equal(current_slice(viewer, viewer.layers[name])[0], viewer.layers[name].data[2]), name
    assert np.array_equal(current_slice(viewer, viewer.layers["walk content"])[0], clip.frames[2])
    assert np.array_equal(current_slice(viewer, viewer.layers["walk labels"])[0], clip.masks[2])
