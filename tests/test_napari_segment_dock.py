"""The Segment dock: saliency and labels layers, targets picked by name or click, errors."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt

napari = pytest.importorskip("napari")

from napari_helpers import PLUGIN, TIMEOUT_MS, WIDGETS, dock, segment_for_cup, small_scene, wait_done  # noqa: E402

from napari_partial_style._napari.common import shown  # noqa: E402


def test_segment_widget_makes_saliency_and_labels_layers(make_napari_viewer, qtbot, hub, infos):
    viewer = make_napari_viewer()
    img, _ = small_scene(viewer)
    widget = dock(viewer, "Segment")
    widget.image.value = img
    widget.classifier.set("tiny")
    widget.picker.above.value = False
    widget.picker.search.value = "cup"
    widget.picker.targets.value = ["cup"]
    viewer.add_image(np.zeros((40, 40)), name="another")
    widget.reset_choices()  # what napari does to docked widgets when layers change
    assert "cup" in widget.picker.targets.choices and widget.picker.targets.value == ["cup"]
    widget.form["session.size"].value = 64
    widget.form["segment.crf.method"].value = "none"
    bars, show = [], widget.progress.show_event
    widget.progress.show_event = lambda event: (
        show(event),
        bars.append((widget.progress.text.value, shown(widget.progress))),
    )
    added_visible = {}  # napari builds a new layer when it is added and draws it once shown: two turns
    viewer.layers.events.inserted.connect(lambda event: added_visible.update({event.value.name: event.value.visible}))
    widget.run.clicked()
    assert widget.run.text == "Cancel"
    wait_done(qtbot, widget.runner)
    assert widget.run.text == "Segment" and widget.runner.last_error is None, widget.status.value
    assert bars and all(seen for _, seen in bars) and not shown(widget.progress)  # Segment's bar is in its dock
    # the tiny network's softmax gives 'cup' about 1/1000: far under the threshold, one warning line
    assert "Warning: the classifier barely sees its target here ('cup' scores 0.00" in widget.status.value
    assert "name another 'target classes'" in widget.status.value
    assert viewer.layers["img labels"].contour > 0  # outlines: filled labels vanished on a same-coloured object
    saliency = viewer.layers["img saliency [cup]"]
    assert saliency.data.shape == (64, 96) and saliency.data.dtype == np.float32
    assert tuple(saliency.scale) == (2.0, 2.0) and tuple(saliency.translate) == (5.0, 7.0)
    assert np.allclose(saliency.rotate, img.rotate) and np.allclose(
        saliency.affine.affine_matrix, img.affine.affine_matrix
    )
    labels = viewer.layers["img labels"]
    assert added_visible["img labels"] is False and labels.visible
    assert labels.data.shape == (64, 96) and labels.data.dtype == np.uint8
    assert list(labels.features["class"]) == ["background", "cup"]
    assert labels.metadata["partial_style"]["targets"] == ["cup"]

    painted = 0 if labels.data[3, 4] else 1
    labels.data_setitem((np.array([3]), np.array([4])), painted)  # the user paints a pixel
    widget.run.clicked()
    wait_done(qtbot, widget.runner)
    assert "img labels [2]" in viewer.layers and viewer.layers["img labels"].data[3, 4] == painted
    assert added_visible["img labels [2]"] is False and viewer.layers["img labels [2]"].visible
    assert any("was painted" in message for message in infos)

    widget.form["segment.crf.method"].value = "torch"
    widget.crf_only.clicked()
    wait_done(qtbot, widget.crf_runner)
    assert widget.crf_runner.last_error is None, widget.status.value
    assert viewer.layers["img labels [2]"].metadata["partial_style"]["parameters"]["crf"]["method"] == "torch"


def test_empty_boxes_show_the_value_a_job_will_use(make_napari_viewer):
    viewer = make_napari_viewer()
    segment, stylize = dock(viewer, "Segment"), dock(viewer, "Stylize")
    placeholder = lambda widget: widget.native.placeholderText()  # noqa: E731
    assert placeholder(segment.threshold) == "0.2 (default for imagenet)"  # softmax over 1000 classes
    segment.classifier.set("tiny-materials")  # sigmoid scores, as a trained checkpoint
    assert placeholder(segment.threshold) == "0.5 (default for tiny-materials)"
    assert placeholder(segment.form["session.size"]) == "auto: 256 px on cpu"
    assert placeholder(stylize.form["style.max_size"]) == "the content's, at most 1024 px on cpu"


def test_a_click_on_the_image_adds_the_class_the_classifier_sees_there(make_napari_viewer, qtbot, hub):
    viewer = make_napari_viewer()
    img, _ = small_scene(viewer)
    widget = dock(viewer, "Segment")
    widget.image.value = img
    widget.classifier.set("tiny")
    widget.form["session.size"].value = 64
    widget.click.clicked()
    points = viewer.layers["img target points"]
    assert viewer.layers.selection.active is points and points.mode == "add"
    assert tuple(points.scale) == tuple(img.scale)  # on the image, so its data coordinates are the image's
    points.add([30, 40])
    qtbot.waitUntil(
        lambda: widget.status.value.startswith("Pick: ") and "added" in widget.status.value, timeout=TIMEOUT_MS
    )
    picked = widget.status.value.split("Pick: done — ")[1].split(" (")[0]
    assert widget.picker.get() == (picked,) and not widget.picker.above.value
    assert picked in widget.picker.targets.choices
    assert widget.picker.picked.value == f"chosen: {picked}" and shown(widget.picker.picked)
    classes = widget.picker.targets.native
    item = classes.findItems(picked, Qt.MatchFlag.MatchExactly)[0]
    assert classes.viewport().rect().intersects(classes.visualItemRect(item))  # in view, not scrolled away


def test_a_click_with_no_class_chosen_picks_one_and_bad_input_is_one_line_in_the_dock(make_napari_viewer, qtbot, hub):
    from napari_partial_style._napari.common import CHECKPOINT

    viewer = make_napari_viewer()
    img, _ = small_scene(viewer)
    widget = dock(viewer, "Segment")
    widget.image.value = img
    widget.classifier.set("tiny")
    widget.form["session.size"].value = 64
    widget.picker.above.value = False  # "every class" unticked, nothing chosen
    assert list(widget.picker.targets.value) == []
    widget.click.clicked()
    points = viewer.layers["img target points"]
    points.add([30, 40])
    wait_done(qtbot, widget.point_runner)
    assert widget.status.value.startswith("Pick: done — "), widget.status.value
    assert len(widget.picker.get()) == 1
    widget.classifier.source.value = CHECKPOINT  # and no file chosen: what to do, in the dock
    points.add([10, 10])
    wait_done(qtbot, widget.point_runner)
    assert (
        widget.status.value
        == "Pick failed: choose a classifier checkpoint file, or a named classifier such as imagenet."
    )


def test_the_class_list_shows_eight_rows_and_word_starts_first(make_napari_viewer):
    from napari_partial_style._napari.common import LISTED_ROWS, ranked_matches

    viewer = make_napari_viewer(show=True)
    for name in WIDGETS:  # all docks open: the class list keeps its rows, the docks scroll
        dock(viewer, name)
    widget = dock(viewer, "Segment")
    widget.picker.above.value = False
    listing = widget.picker.targets.native
    assert listing.height() >= LISTED_ROWS * listing.sizeHintForRow(0)
    widget.picker.search.value = "cup"
    listed = list(widget.picker.targets.choices)
    assert listed[0] == "cup" and listed.index("cup") < listed.index("porcupine")
    assert ranked_matches(["porcupine", "coffee mug", "mugger", "mug"], "MUG") == ["mug", "mugger", "coffee mug"]


def test_segment_widget_reads_a_trained_checkpoints_classes(make_napari_viewer, material_checkpoint):
    widget = dock(make_napari_viewer(), "Segment")
    widget.classifier.source.value = "checkpoint file"
    widget.classifier.checkpoint.value = material_checkpoint
    widget.picker.above.value = False
    assert list(widget.picker.targets.choices) == ["leather", "metal", "wood"]
    widget.picker.targets.value = ["metal"]
    chosen = widget.params().segment
    assert chosen.classifier == str(material_checkpoint) and chosen.saliency.targets == ("metal",)


def test_a_core_error_names_the_fix_by_the_widgets_label_not_the_cli_flag(make_napari_viewer, qtbot, hub, errors):
    """Random weights score no ImageNet class above the threshold: the core says "Name the target
    with --target, or lower --threshold", which a napari user has no flag for."""
    viewer = make_napari_viewer()
    img, _ = small_scene(viewer)
    widget = dock(viewer, "Segment")
    widget.image.value = img
    widget.classifier.set("tiny")
    widget.form["session.size"].value = 48
    widget.run.clicked()
    wait_done(qtbot, widget.runner)
    assert "no class scores above the threshold" in widget.status.value
    for shown_text in (widget.status.value, errors[-1]):
        assert "'target classes'" in shown_text and "'threshold'" in shown_text and "--" not in shown_text


def test_napari_activity_panel_lists_jobs_only_when_the_settings_ask(make_napari_viewer, qtbot, hub, monkeypatch):
    """Each dock shows its job's progress; napari's activity panel spins a loading animation that
    redraws the window 30 times a second (2x the CRF's time on software OpenGL): its bars are opt-in."""
    import napari.utils
    from napari.settings import get_plugin_settings

    opened = []

    class Recorded(napari.utils.progress):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr(napari.utils, "progress", Recorded)
    viewer = make_napari_viewer()
    img, _ = small_scene(viewer)
    widget = segment_for_cup(viewer, img, size=48)
    widget.form["segment.crf.method"].value = "none"
    settings = get_plugin_settings(PLUGIN).general
    assert settings.activity_panel is False
    runs = {}
    try:
        for setting, size in ((False, 48), (True, 40)):  # another size: the second run has work to do
            settings.activity_panel = setting
            widget.form["session.size"].value = size
            widget.run.clicked()
            wait_done(qtbot, widget.runner)
            assert widget.runner.last_error is None, widget.status.value
            runs[setting] = list(opened)
            opened.clear()
    finally:
        settings.activity_panel = False
    assert runs[False] == []
    still_open = {id(bar) for bar in napari.utils.progress._all_instances}
    assert runs[True] and not any(id(bar) in still_open for bar in runs[True])
