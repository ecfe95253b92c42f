"""Clicks and strokes in the Segment dock correct the labels through the CRF, one prompt at a time."""

from __future__ import annotations

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari_helpers import segment_for_cup, small_scene, wait_done  # noqa: E402

from napari_partial_style._napari.job_view import view_of  # noqa: E402
from napari_partial_style._napari.layers import was_painted  # noqa: E402
from napari_partial_style._napari.prompt_tool import NOT_THIS, THIS, changed_bands  # noqa: E402


def test_a_click_and_a_stroke_correct_the_labels_and_undo_takes_the_last_back(make_napari_viewer, qtbot, hub):
    viewer = make_napari_viewer()
    img, _ = small_scene(viewer)
    segment = segment_for_cup(viewer, img, size=48)
    tool = segment.prompts
    tool.start.clicked()
    assert "press Segment first" in segment.status.value and "img prompts" not in viewer.layers
    segment.run.clicked()
    wait_done(qtbot, segment.runner)
    assert segment.runner.last_error is None, segment.status.value
    doc = view_of(img).document
    labels = viewer.layers["img labels"]
    before = np.asarray(labels.data).copy()
    tool.start.clicked()
    points, strokes = viewer.layers["img prompts"], viewer.layers["img prompt strokes"]
    assert points.mode == "add" and tool.region.value == "cup"

    tool.sign.value = THIS
    free = np.argwhere(before != 1)
    row, col = (int(v) for v in free[len(free) // 2])  # a pixel the segmentation left out of the cup
    points.add([row, col])
    wait_done(qtbot, tool.runner)
    assert tool.runner.last_error is None, segment.status.value
    after_click = np.asarray(labels.data).copy()
    assert len(doc.prompts) == 1 and after_click[row, col] == 1 and doc.runs["segment"] == 2
    assert doc.segmentation.maps is not None and doc.history.done[-1].what == "prompt"  # the CRF alone, one step

    shown = labels.data  # from now on the prompts write the changed pixels into this array
    assert not np.shares_memory(shown, doc.labels)  # never the document's: its history keeps them for undo
    painted = []
    labels.events.paint.connect(lambda event: painted.append(event))
    tool.sign.value = NOT_THIS
    strokes.paint((10, 70), 2)  # a stroke of "not this region" in the bluish half
    qtbot.waitUntil(lambda: len(doc.prompts) == 2, timeout=5_000)
    wait_done(qtbot, tool.runner)
    assert not doc.prompts.items[-1].positive and labels.data[10, 70] == 0
    assert labels.data is shown and np.array_equal(labels.data, doc.labels)  # updated in place
    assert len(painted) == 1  # one paint event, as after a brush stroke: the docks that follow the labels react
    assert not was_painted(labels)  # the plugin's labels: Segment again replaces them, not "img labels [2]"

    tool.undo.clicked()  # the stroke back: its pixels leave the strokes layer, the labels are the click's
    wait_done(qtbot, tool.runner)
    assert len(doc.prompts) == 1 and not np.asarray(strokes.data).any()
    assert np.array_equal(labels.data, after_click)
    tool.undo.clicked()  # the click back: the labels as segmented
    wait_done(qtbot, tool.runner)
    assert len(doc.prompts) == 0 and len(points.data) == 0
    assert np.array_equal(labels.data, before)
    segment.run.clicked()
    wait_done(qtbot, segment.runner)
    assert "img labels [2]" not in viewer.layers, [layer.name for layer in viewer.layers]


def test_changed_bands_cover_every_changed_row_and_no_unchanged_band():
    old = np.zeros((100, 10), np.uint8)
    new = old.copy()
    new[[3, 57, 58, 99], 4] = 1
    bands = changed_bands(old, new, band_pixels=200)  # 20 rows a band
    assert bands == [slice(0, 20), slice(40, 60), slice(80, 100)]
    assert changed_bands(old, old) == []
