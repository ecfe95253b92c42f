"""The all-steps dock: Run all, the quick look, shared settings, and a new user's walk
through the menus."""

from __future__ import annotations

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari_helpers import PLUGIN, SCREEN_FRAME_PX, TIMEOUT_MS, dock, flow_for_cup, small_scene, wait_done  # noqa: E402

from napari_partial_style.core.io.bundle import read_bundle  # noqa: E402


def test_run_all_is_one_worker_over_the_document_and_a_stroke_reruns_composite_and_score(
    make_napari_viewer, qtbot, hub, tmp_path
):
    """Run all computes the content's job document in one worker; a brush stroke on its labels marks
    what it made out of date in the dock, the next Run all reruns only that, and Undo step goes back
    over whole steps. The shortcuts run and cancel the open tab's step."""
    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    flow = dock(viewer, "Partial style (all steps)")
    assert flow.tabs.count() == 3 and flow.help.text() == "Help" and "docs/napari.md" in flow.help.toolTip()
    flow.segment.image.value = img
    flow.run_all.clicked()  # no style chosen yet: nothing starts
    assert "choose the style image" in flow.status.value and not flow.running_all
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
    flow.run_all.clicked()
    assert flow.run_all.text == "Cancel" and flow.all_runner.running and not flow.segment.runner.running
    assert flow.status.value == "Run all: segment, stylize, composite, score"
    qtbot.waitUntil(lambda: not flow.running_all, timeout=3 * TIMEOUT_MS)
    assert flow.status.value.startswith("Run all: done (segment, stylize, composite, score)"), flow.status.value
    assert {"img labels", "img stylized", "img composite", "img re-segmentation"} <= {lyr.name for lyr in viewer.layers}
    assert "mean IU" in flow.status.value and flow.run_all.text == "Run all" and flow.undo.isEnabled()
    order = [lyr.name for lyr in viewer.layers]  # the labels to correct over the opaque results, the style hidden
    assert order.index("img labels") > max(order.index("img stylized"), order.index("img composite")), order
    assert not viewer.layers["style"].visible and viewer.layers["img labels"].visible
    composite = viewer.layers["img composite"].data.copy()
    labels = viewer.layers["img labels"]
    painted = labels.data.copy()
    painted[painted > 0] = 0  # a stroke erasing the whole region
    painted[20:30, 30:40] = 1
    labels.data = painted
    qtbot.waitUntil(lambda: "out of date: composite (labels changed)" in flow.status.value, timeout=TIMEOUT_MS)
    viewer.layers.selection = {lyr for lyr in viewer.layers if lyr.name.startswith("img") and "re-seg" not in lyr.name}
    saved = viewer.layers.save(str(tmp_path / "stale.pstyle"), selected=True, plugin=PLUGIN)[0]
    assert read_bundle(saved).manifest["stale"]["composite"] == "labels changed"  # saved, and says which
    flow.run_all.clicked()
    qtbot.waitUntil(lambda: not flow.running_all, timeout=3 * TIMEOUT_MS)
    assert flow.status.value.startswith("Run all: done (composite, score)"), flow.status.value
    assert flow.segment.runner.computed_at is None and not np.array_equal(
        viewer.layers["img composite"].data, composite
    )
    flow.undo.click()  # the score, then the composite: the earlier composite is back
    flow.undo.click()
    assert np.array_equal(viewer.layers["img composite"].data, composite)
    assert "undid composite" in flow.status.value and "out of date: composite (labels changed)" in flow.status.value
    flow.tabs.setCurrentIndex(1)
    flow.stylize.form["style.steps"].value = 5000  # new settings: the step has work to do (else it is current)
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
    flow.run_all.clicked()  # the full job now says how long it takes before it runs
    assert "in all (from the quick look)" in flow.status.value
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
    flow.run_all.clicked()
    assert flow.running_all and flow.status.value.startswith("Run all: stylize, composite, score")
    assert "stylizing the labels 'img labels'" in flow.status.value
    qtbot.waitUntil(lambda: not flow.running_all, timeout=3 * TIMEOUT_MS)
    assert flow.status.value.startswith("Run all: done (stylize, composite, score)"), flow.status.value
    assert np.array_equal(viewer.layers["img labels"].data, painted) and "img composite" in viewer.layers
    assert np.array_equal(viewer.layers["img composite"].data[painted == 0], img.data[painted == 0])
    flow.resegment.setChecked(True)
    flow.run_all.clicked()
    assert flow.running_all and flow.status.value.startswith("Run all: segment")
    qtbot.waitUntil(lambda: not flow.running_all, timeout=3 * TIMEOUT_MS)
    assert flow.status.value.startswith("Run all: done (segment,") and "img labels [2]" in viewer.layers  # painted kept


def test_the_crf_soft_edge_is_one_setting_in_the_workflow_and_needs_the_crfs_probabilities(
    make_napari_viewer, qtbot, errors
):
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
    widget.run.clicked()  # refused by the job's checks, which run first in the worker
    qtbot.waitUntil(lambda: not widget.runner.running, timeout=TIMEOUT_MS)
    assert "has none for this image" in errors[-1]
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
    flow.run_all.clicked()
    assert "in all (from the quick look)" in flow.status.value
    qtbot.waitUntil(lambda: not flow.running_all, timeout=3 * TIMEOUT_MS)
    assert flow.status.value.startswith("Run all: done"), flow.status.value
    assert "mean IU" in flow.status.value and not errors
    viewer.layers.select_all()
    saved = viewer.layers.save(str(tmp_path / "cup.pstyle"), selected=True)  # the extension picks our writer
    fresh = make_napari_viewer()
    fresh.open(saved[0], plugin=None)  # what `napari cup.pstyle`, File › Open and a drop do
    assert {"cup content", "cup style", "cup labels", "cup stylized", "cup composite"} <= {
        lyr.name for lyr in fresh.layers
    }


def test_a_reopened_bundle_is_a_live_document(make_napari_viewer, qtbot, hub, tmp_path):
    """A bundle opened by File › Open in a fresh viewer: the all-steps dock shows the settings it was
    made with, Run all finds nothing out of date, and after one change recomputes only what depends on it."""
    viewer = make_napari_viewer()
    flow = flow_for_cup(viewer, *small_scene(viewer))
    flow.stylize.form["style.network"].value = "tiny"
    flow.stylize.form["style.steps"].value, flow.stylize.form["style.fine_steps"].value = 2, 1
    flow.run_all.clicked()
    qtbot.waitUntil(lambda: not flow.running_all, timeout=3 * TIMEOUT_MS)
    viewer.layers.selection = {lyr for lyr in viewer.layers if lyr.name.startswith("img") and "re-seg" not in lyr.name}
    saved = viewer.layers.save(str(tmp_path / "job.pstyle"), selected=True, plugin=PLUGIN)[0]
    fresh = make_napari_viewer()
    fresh.open(saved, plugin=PLUGIN)
    again = dock(fresh, "Partial style (all steps)")
    again.segment.image.value = fresh.layers["job content"]
    again.stylize.style.value = fresh.layers["job style"]
    assert "settings of job content's bundle" in again.status.value
    assert again.stylize.form["style.network"].value == "tiny" and again.stylize.form["style.steps"].value == 2
    again.run_all.clicked()
    qtbot.waitUntil(lambda: not again.running_all, timeout=3 * TIMEOUT_MS)
    assert again.status.value.startswith("Run all: done (nothing was out of date)"), again.status.value
    again.stylize.form["style.style_weight"].value = 1e4
    again.run_all.clicked()
    qtbot.waitUntil(lambda: not again.running_all, timeout=3 * TIMEOUT_MS)
    assert again.status.value.startswith("Run all: done (stylize, composite, score)"), again.status.value
