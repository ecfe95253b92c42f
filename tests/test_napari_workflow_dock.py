"""The all-steps dock: Run all, the quick look, shared settings, and a new user's walk
through the menus."""

from __future__ import annotations

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari_helpers import PLUGIN, SCREEN_FRAME_PX, TIMEOUT_MS, dock, flow_for_cup, small_scene, wait_done  # noqa: E402


def test_run_all_chains_the_steps_in_one_dock_with_shortcuts_and_help(make_napari_viewer, qtbot, hub):
    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    flow = dock(viewer, "Partial style (all steps)")
    assert flow.tabs.count() == 3 and flow.help.text() == "Help" and "docs/napari.md" in flow.help.toolTip()
    flow.segment.image.value = img
    flow.toggle_all()  # no style chosen yet: nothing starts
    assert "choose the style image" in flow.status.text() and not flow.running_all
    flow.segment.classifier.set("tiny")
    flow.composite.score_form["segment.classifier"].set("tiny")
    flow.segment.picker.above.value = False
    flow.segment.picker.search.value = "cup"
    flow.segment.picker.targets.value = ["cup"]
    flow.segment.form["session.size"].value, flow.segment.form["segment.crf.method"].value = 64, "none"
    flow.stylize.style.value = style
    flow.stylize.form["session.size"].value, flow.stylize.form["style.steps"].value = 48, 2
    flow.stylize.form["style.fine_steps"].value = 1
    flow.composite.score_form["session.size"].value = 64
    flow.run_all.click()
    assert flow.run_all.text() == "Cancel all" and flow.segment.runner.running
    flow.segment.crf_runner.on_done[-1](True)  # another job ending meanwhile does not move the chain on
    assert flow._waiting is flow.segment.runner and not flow.stylize.runner.running
    qtbot.waitUntil(lambda: not flow.running_all, timeout=3 * TIMEOUT_MS)
    assert flow.status.text() == "Run all: done", flow.status.text()
    assert {"img labels", "img stylized", "img composite", "img re-segmentation"} <= {lyr.name for lyr in viewer.layers}
    assert "mean IU" in flow.composite.scores.value and flow.run_all.text() == "Run all"
    flow.tabs.setCurrentIndex(1)
    flow.shortcuts["Ctrl+Return"].activated.emit()  # the open tab's step
    assert flow.stylize.runner.running
    flow.shortcuts["Escape"].activated.emit()
    wait_done(qtbot, flow.stylize.runner)
    assert flow.stylize.runner.cancelled and "img stylized [2]" not in viewer.layers


def test_quick_look_runs_the_tabs_job_small_and_says_how_long_run_all_takes(make_napari_viewer, qtbot, hub):
    from napari_partial_style._napari.layers import META_KEY

    viewer = make_napari_viewer()
    flow = flow_for_cup(viewer, *small_scene(viewer))
    img = flow.segment.image.value
    flow.stylize.form["style.colors"].value = "content"
    flow.quick.clicked()
    assert flow.quick_runner.running
    wait_done(qtbot, flow.quick_runner)
    assert flow.quick_runner.last_error is None, flow.quick_status.value
    assert sorted(layer.name for layer in viewer.layers) == ["img", "img quick look", "style"]  # nothing else touched
    look = viewer.layers["img quick look"]
    assert look.data.shape == img.data.shape and not np.array_equal(look.data, img.data)
    record = look.metadata[META_KEY]["quick_look"]["parameters"]
    assert (
        record["session"]["size"] == 128
        and record["style"]["steps"] == 30
        and record["segment"]["saliency"]["scales"] == (1.0,)
    )
    assert record["style"]["colors"] == "content" and record["segment"]["saliency"]["targets"] == (
        "cup",
    )  # the tabs' job
    assert "Run all will take about" in flow.quick_status.value and flow.quick.text == "Quick look"
    flow.run_all.click()  # the full job now says how long it takes before it runs
    assert "in all (from the quick look)" in flow.status.text()
    flow.cancel()
    qtbot.waitUntil(lambda: not flow.running_all, timeout=TIMEOUT_MS)


def test_run_all_stylizes_the_contents_labels_unless_told_to_segment_again(make_napari_viewer, qtbot, hub):
    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    painted = np.zeros((64, 96), np.uint8)
    painted[10:40, 20:60] = 1
    viewer.add_labels(painted, name="img labels")  # a sample's, or painted
    flow = flow_for_cup(viewer, img, style)
    flow.segment.form["session.size"].value = 48
    flow.stylize.form["session.size"].value, flow.stylize.form["style.steps"].value = 32, 1
    flow.stylize.form["style.fine_steps"].value = 1
    flow.composite.score_form["segment.classifier"].set("tiny")
    flow.composite.score_form["session.size"].value = 48
    flow.toggle_all()
    assert flow.stylize.runner.running and not flow.segment.runner.running
    assert "stylizing the labels 'img labels'" in flow.status.text()
    qtbot.waitUntil(lambda: not flow.running_all, timeout=3 * TIMEOUT_MS)
    assert flow.status.text() == "Run all: done", flow.status.text()
    assert np.array_equal(viewer.layers["img labels"].data, painted) and "img composite" in viewer.layers
    assert np.array_equal(viewer.layers["img composite"].data[painted == 0], img.data[painted == 0])
    flow.resegment.setChecked(True)
    flow.toggle_all()
    assert flow.segment.runner.running
    qtbot.waitUntil(lambda: not flow.running_all, timeout=3 * TIMEOUT_MS)
    assert flow.status.text() == "Run all: done" and "img labels [2]" in viewer.layers  # the painted ones kept


def test_the_crf_soft_edge_is_one_setting_in_the_workflow_and_needs_the_crfs_probabilities(make_napari_viewer, errors):
    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    flow = dock(viewer, "Partial style (all steps)")
    stylize_edge, composite_edge = (
        flow.stylize.form["composite.crf_edge"],
        flow.composite.composite_form["composite.crf_edge"],
    )
    stylize_edge.value = 4.0
    assert composite_edge.value == 4.0
    composite_edge.value = 2.0
    assert stylize_edge.value == 2.0 and flow.params().composite.crf_edge == 2.0
    painted = np.zeros((64, 96), np.uint8)
    painted[10:40, 20:60] = 1
    viewer.add_labels(painted, name="img labels")  # painted from scratch: no CRF probabilities beside it
    widget = dock(viewer, "Stylize")
    widget.content.value, widget.style.value, widget.labels_layer.value = img, style, viewer.layers["img labels"]
    widget.form["composite.crf_edge"].value = 3.0
    widget.run.clicked()
    assert not widget.runner.running and "has none for this image" in errors[-1]
    assert "'CRF soft edge (px)'" in errors[-1]


@pytest.mark.slow
def test_the_issue_25_walk_through_the_menus(make_napari_viewer, qtbot, hub, tmp_path, errors):
    """A new user's afternoon, through the menus: samples Coffee then Stone, the all-steps dock on a
    1600×900 screen, its sensible starts and defaults, a class list that finds 'cup', a quick look
    and its estimate, Run all, File › Save Selected Layers… and the bundle opened in a fresh napari."""
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1600, 900 - SCREEN_FRAME_PX)
    viewer.open_sample(PLUGIN, "coffee")  # File › Open Sample
    viewer.open_sample(PLUGIN, "stone")
    flow = dock(viewer, "Partial style (all steps)")
    assert flow.segment.image.value.name == "coffee" and flow.stylize.style.value.name == "stone"
    assert flow.segment.threshold.native.placeholderText() == "0.2 (default for imagenet)"
    flow.segment.classifier.set("tiny")
    flow.composite.score_form["segment.classifier"].set("tiny")
    flow.segment.picker.above.value = False
    flow.segment.picker.search.value = "cup"
    assert flow.segment.picker.targets.choices[0] == "cup"
    flow.segment.picker.targets.value = ["cup"]
    for form, size in ((flow.segment.form, 96), (flow.stylize.form, 64), (flow.composite.score_form, 96)):
        form["session.size"].value = size
    flow.stylize.form["style.steps"].value, flow.stylize.form["style.fine_steps"].value = 3, 1
    flow.quick.clicked()
    wait_done(qtbot, flow.quick_runner)
    assert "coffee quick look" in viewer.layers and "Run all will take about" in flow.quick_status.value
    flow.run_all.click()
    assert "in all (from the quick look)" in flow.status.text()
    qtbot.waitUntil(lambda: not flow.running_all, timeout=3 * TIMEOUT_MS)
    assert flow.status.text() == "Run all: done", flow.status.text()
    assert "mean IU" in flow.composite.scores.value and not errors
    viewer.layers.select_all()
    saved = viewer.layers.save(str(tmp_path / "cup.pstyle"), selected=True)  # the extension picks our writer
    fresh = make_napari_viewer()
    fresh.open(saved[0], plugin=None)  # what `napari cup.pstyle`, File › Open and a drop do
    assert {"cup content", "cup style", "cup labels", "cup stylized", "cup composite"} <= {
        lyr.name for lyr in fresh.layers
    }
