"""The step docks are views of the content's job document: their buttons run its pipeline, so a
result one dock made is current for the next, a button pressed again with nothing changed computes
nothing, a stroke recomposites without stylizing again, and the all-steps dock undoes their steps."""

from __future__ import annotations

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari_helpers import dock, segment_for_cup, small_scene, wait_done  # noqa: E402

from napari_partial_style._napari.job_view import view_of  # noqa: E402


def test_each_docks_button_runs_the_documents_pipeline(make_napari_viewer, qtbot, hub):
    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    segment = segment_for_cup(viewer, img, size=48)
    segment.form["segment.crf.method"].value = "none"
    segment.run.clicked()
    wait_done(qtbot, segment.runner)
    assert segment.runner.last_error is None, segment.status.value
    doc = view_of(img).document
    assert doc.runs["segment"] == 1 and np.array_equal(viewer.layers["img labels"].data, doc.labels)

    segment.run.clicked()  # nothing changed: the current segmentation, no second run
    wait_done(qtbot, segment.runner)
    assert doc.runs["segment"] == 1 and segment.runner.last_error is None

    stylize = dock(viewer, "Stylize")
    stylize.content.value, stylize.style.value = img, style
    stylize.form["session.size"].value, stylize.form["style.steps"].value = 48, 1
    stylize.form["style.fine_steps"].value = 1
    stylize.run.clicked()
    wait_done(qtbot, stylize.runner)
    assert stylize.runner.last_error is None, stylize.status.value
    assert stylize.labels_layer.value is viewer.layers["img labels"]
    assert doc.runs["stylize"] == 1 and doc.runs["segment"] == 1  # the segmentation Segment made is used
    assert np.array_equal(viewer.layers["img stylized"].data, doc.results["stylize"].value.image)

    composite = dock(viewer, "Composite and score")
    composite.content.value = img
    composite.recomposite()
    assert doc.runs["composite"] == 1 and "Composite: done" in composite.status.value, composite.status.value
    assert np.array_equal(viewer.layers["img composite"].data, doc.results["composite"].value.image)

    labels = viewer.layers["img labels"]
    region = labels.data > 0
    painted = labels.data.copy()
    painted[np.argwhere(region)[0][0], np.argwhere(region)[0][1]] = 0  # one pixel taken out of the region
    labels.data = painted
    composite.recomposite()
    assert doc.runs["composite"] == 2 and doc.runs["stylize"] == 1  # a stroke: composite again, no style transfer
    assert np.array_equal(doc.labels, painted)

    flow = dock(viewer, "Partial style (all steps)")
    flow.segment.image.value = img
    assert flow.undo.isEnabled()
    flow.undo.click()  # the painted correction's composite, then the correction itself
    flow.undo.click()
    assert not np.array_equal(doc.labels, painted) and np.array_equal(viewer.layers["img labels"].data, doc.labels)


def test_composite_takes_the_stylized_layer_chosen_even_one_the_document_did_not_make(make_napari_viewer, qtbot, hub):
    """A stylized layer of the user's own (or an earlier run's) is what Composite pastes: it becomes
    the document's stylized image, one undoable step."""
    viewer = make_napari_viewer()
    img, _ = small_scene(viewer)
    labels = np.zeros((64, 96), np.uint8)
    labels[10:30, 20:50] = 1
    viewer.add_labels(labels, name="img labels")
    mine = viewer.add_image(np.full((64, 96, 3), 200, np.uint8), name="img stylized", rgb=True)
    composite = dock(viewer, "Composite and score")
    composite.content.value = img
    assert composite.stylized.value is mine
    composite.recomposite()
    assert composite.runner.last_error is None, composite.status.value
    doc = view_of(img).document
    out = viewer.layers["img composite"].data
    assert (out[15:25, 25:45] == 200).all() and np.array_equal(out[45:], np.asarray(img.data)[45:])
    assert doc.runs["composite"] == 1 and doc.history.done[-2].what == "stylized image img stylized"


def test_two_docks_prepared_together_each_run_with_the_settings_they_were_prepared_with(make_napari_viewer, hub):
    """Segment and Stylize clicked together on one photo with other working sizes: each job runs with
    its own dock's settings, whichever worker takes the document first (Stylize took the settings the
    document held when its worker started, Segment's, and failed with "other session settings")."""
    from napari_partial_style.core.progress import drain

    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    segment = segment_for_cup(viewer, img, size=64)
    stylize = dock(viewer, "Stylize")
    stylize.content.value, stylize.style.value = img, style
    stylize.form["session.size"].value, stylize.form["style.steps"].value = 48, 2
    stylize.form["style.fine_steps"].value = 1
    segment_job, *_ = segment._segment_job()  # both prepared on the GUI thread, as two clicks do
    stylize_job, *_ = stylize._stylize_job()
    segmented, size, _ = drain(segment_job())  # Segment's worker first: the document takes its settings
    assert segmented is not None and size == 64
    stylized, size, *_ = drain(stylize_job())
    assert stylized.shape == img.data.shape and size == 48
