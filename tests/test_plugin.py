"""The napari plugin, headless under Xvfb: layers, workers, cancel, errors, reader and writer."""

from __future__ import annotations

import threading
import time
import zipfile

import numpy as np
import pytest
from qtpy.QtCore import Qt
from scipy import ndimage as ndi

napari = pytest.importorskip("napari")

from synthetic import two_tone  # noqa: E402

from napari_partial_style._napari import CompositeWidget, SegmentWidget, StylizeWidget, WorkflowWidget  # noqa: E402
from napari_partial_style._napari.common import shown  # noqa: E402

PLUGIN = "napari-partial-style"
TIMEOUT_MS = 120_000


@pytest.fixture
def errors(monkeypatch):
    """Messages the widgets sent to napari's error notifications."""
    import napari.utils.notifications as notifications

    seen: list[str] = []
    monkeypatch.setattr(notifications, "show_error", lambda message: seen.append(message))
    return seen


@pytest.fixture
def infos(monkeypatch):
    import napari.utils.notifications as notifications

    seen: list[str] = []
    monkeypatch.setattr(notifications, "show_info", lambda message: seen.append(message))
    return seen


def wait_done(qtbot, runner):
    qtbot.waitUntil(lambda: not runner.running, timeout=TIMEOUT_MS)


WIDGETS = {
    "Segment": SegmentWidget,
    "Stylize": StylizeWidget,
    "Composite and score": CompositeWidget,
    "Partial style (all steps)": WorkflowWidget,
}


def dock(viewer, name):
    """Open a widget the way Plugins › Partial Style Transfer › NAME does."""
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, name)
    step = getattr(widget, "step", widget)  # the separate steps scroll: the step is inside
    assert isinstance(step, WIDGETS[name])
    return step


@pytest.mark.parametrize("name", list(WIDGETS))
def test_every_widget_opens_from_the_plugins_menu(make_napari_viewer, name):
    viewer = make_napari_viewer()
    viewer.add_image(two_tone((48, 64)), name="img", rgb=True)
    widget = dock(viewer, name)
    first = {"Segment": lambda: widget.image, "Partial style (all steps)": lambda: widget.segment.image}.get(
        name, lambda: widget.content
    )()
    assert first.value is not None and first.value.name == "img"


# A window's title bar and a task bar take about this much of a screen's height.
SCREEN_FRAME_PX = 80


@pytest.mark.parametrize("screen, names", [((1366, 768), [name]) for name in WIDGETS] + [((1600, 900), list(WIDGETS))])
def test_the_docks_fit_a_small_screen_alone_and_all_together_a_larger_one(make_napari_viewer, qtbot, screen, names):
    """Docks opened from the Plugins menu, with their Advanced sections open: the window can
    shrink to the screen: each dock scrolls."""
    viewer = make_napari_viewer(show=True)
    viewer.add_image(two_tone((48, 64)), name="img", rgb=True)
    for name in names:
        step = dock(viewer, name)
        steps = [step.segment, step.stylize, step.composite] if isinstance(step, WorkflowWidget) else [step]
        forms = [
            form
            for each in steps
            for form in (
                getattr(each, "form", None),
                getattr(each, "composite_form", None),
                getattr(each, "score_form", None),
            )
            if form and len(form.advanced)
        ]
        assert forms
        for form in forms:
            form._toggle()
            assert form.advanced_open
    window = viewer.window._qt_window
    qtbot.wait(50)
    width, height = window.minimumSizeHint().width(), window.minimumSizeHint().height()
    assert width <= screen[0] and height <= screen[1] - SCREEN_FRAME_PX, (width, height)
    window.resize(screen[0], screen[1] - SCREEN_FRAME_PX)
    qtbot.wait(50)
    assert window.height() <= screen[1] - SCREEN_FRAME_PX


def test_step_docks_opened_one_under_another_share_the_height(make_napari_viewer, qtbot):
    """Qt left the first dock its whole height and squeezed the next ones to two rows each."""
    from qtpy.QtWidgets import QDockWidget

    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1600, 900 - SCREEN_FRAME_PX)
    viewer.add_image(two_tone((48, 64)), name="img", rgb=True)
    steps = ["Segment", "Stylize", "Composite and score"]
    for name in steps:
        dock(viewer, name)
        qtbot.wait(20)
    qtbot.wait(50)
    heights = {
        d.windowTitle().split(" (")[0]: d.height()
        for d in viewer.window._qt_window.findChildren(QDockWidget)
        if d.isVisible() and d.windowTitle().split(" (")[0] in steps
    }
    assert len(heights) == 3 and min(heights.values()) >= 200, heights


def test_manifest_is_valid_and_complete():
    import subprocess
    import sys

    from npe2 import PluginManifest

    check = subprocess.run(
        [sys.executable, "-m", "npe2", "validate", "--imports", PLUGIN], capture_output=True, text=True
    )
    assert check.returncode == 0 and "valid" in check.stdout, check.stdout + check.stderr

    manifest = PluginManifest.from_distribution(PLUGIN)
    manifest.validate_imports()
    contributions = manifest.contributions
    assert {w.display_name for w in contributions.widgets} == set(WIDGETS)
    assert contributions.readers[0].filename_patterns == ["*.pstyle"]
    assert contributions.writers[0].filename_extensions == [".pstyle"]
    assert {s.key for s in contributions.sample_data} >= {"coffee", "coffee_labels", "stone"}


def test_sample_data_opens(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "coffee_labels")
    assert viewer.layers["coffee"].data.shape == (400, 600, 3)
    labels = viewer.layers["coffee labels"]
    assert labels.data.dtype == np.uint8 and labels.data.max() == 1
    viewer.open_sample(PLUGIN, "stone")
    assert viewer.layers["stone"].data.shape == (512, 512)


def test_empty_boxes_show_the_value_a_job_will_use(make_napari_viewer):
    viewer = make_napari_viewer()
    segment, stylize = dock(viewer, "Segment"), dock(viewer, "Stylize")
    placeholder = lambda widget: widget.native.placeholderText()  # noqa: E731
    assert placeholder(segment.threshold) == "0.2 (default for imagenet)"  # softmax over 1000 classes
    segment.classifier.set("tiny-materials")  # sigmoid scores, as a trained checkpoint
    assert placeholder(segment.threshold) == "0.5 (default for tiny-materials)"
    assert placeholder(segment.form["session.size"]) == "auto: 256 px on cpu"
    assert placeholder(stylize.form["style.max_size"]) == "the content's, at most 1024 px on cpu"


def test_docks_start_on_a_photo_as_the_content_and_a_texture_as_the_style(make_napari_viewer):
    from napari_partial_style._napari.common import mark_used

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "coffee")
    viewer.open_sample(PLUGIN, "stone")  # the texture opened last is the selected layer
    segment, stylize, composite = dock(viewer, "Segment"), dock(viewer, "Stylize"), dock(viewer, "Composite and score")
    assert segment.image.value.name == stylize.content.value.name == composite.content.value.name == "coffee"
    assert stylize.style.value.name == "stone"
    viewer.open_sample(PLUGIN, "brick")
    assert stylize.style.value.name == "stone" and stylize.content.value.name == "coffee"  # a chosen style is kept

    fresh = make_napari_viewer()
    fresh.open_sample(PLUGIN, "stone")
    stylize = dock(fresh, "Stylize")
    assert stylize.content.value.name == "stone" and stylize.style.value is None  # nothing else to take
    fresh.open_sample(PLUGIN, "coffee")  # the photo, opened after the dock: it becomes the content
    assert stylize.content.value.name == "coffee" and stylize.style.value.name == "stone"

    third = make_napari_viewer()
    third.open_sample(PLUGIN, "coffee")
    third.open_sample(PLUGIN, "stone")
    third.add_image(two_tone((48, 64)), name="mine", rgb=True)
    mark_used(content=third.layers["mine"], style=third.layers["coffee"])  # a job ran on these
    later = dock(third, "Stylize")
    assert later.content.value.name == "mine" and later.style.value.name == "coffee"


def segment_for_cup(viewer, img, size=64, classifier="tiny"):
    """The Segment widget, opened from the menu, set to find a cup in `img` (with the tests' tiny
    network unless `classifier` says otherwise)."""
    segment = dock(viewer, "Segment")
    segment.image.value = img
    segment.classifier.set(classifier)
    segment.picker.above.value = False
    segment.picker.search.value = "cup"
    segment.picker.targets.value = ["cup"]
    segment.form["session.size"].value = size
    return segment


def small_scene(viewer):
    affine = np.array([[1.0, 0.2, 3.0], [0.0, 1.0, -2.0], [0.0, 0.0, 1.0]])
    img = viewer.add_image(
        two_tone((64, 96)), name="img", rgb=True, scale=(2.0, 2.0), translate=(5, 7), rotate=30, affine=affine
    )
    style = viewer.add_image(two_tone((48, 48), rng=np.random.default_rng(5))[::-1], name="style", rgb=True)
    return img, style


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


def composite_scene(viewer):
    content = two_tone((48, 64))
    stylized = np.full_like(content, 200)
    viewer.add_image(content, name="img", rgb=True)
    viewer.add_image(stylized, name="img stylized", rgb=True)
    labels = np.zeros((48, 64), np.uint8)
    labels[10:20, 10:20] = 1
    viewer.add_labels(labels, name="img labels")
    widget = dock(viewer, "Composite and score")
    widget.content.value = viewer.layers["img"]
    widget.stylized.value = viewer.layers["img stylized"]
    widget.labels_layer.value = viewer.layers["img labels"]
    return widget, content


def test_painting_labels_then_recompositing_changes_exactly_those_pixels(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    widget, content = composite_scene(viewer)
    widget.composite_button.clicked()
    before = viewer.layers["img composite"].data.copy()
    assert np.array_equal(before[:10], content[:10]) and np.all(before[10:20, 10:20] == 200)

    widget.auto.value = True
    painted = (np.arange(30, 35).repeat(5), np.tile(np.arange(40, 45), 5))
    viewer.layers["img labels"].data_setitem(painted, 1)
    qtbot.waitUntil(lambda: not np.array_equal(viewer.layers["img composite"].data, before), timeout=5000)
    after = viewer.layers["img composite"].data
    changed = np.any(after != before, axis=2)
    expected = np.zeros_like(changed)
    expected[painted] = True
    assert np.array_equal(changed, expected)


def test_photo_smoothing_is_a_tick_box_and_a_slider_and_runs_in_a_worker_without_stylizing_again(
    make_napari_viewer, qtbot
):
    viewer = make_napari_viewer()
    widget, content = composite_scene(viewer)
    viewer.layers["img stylized"].data = np.random.default_rng(1).integers(0, 256, content.shape, dtype=np.uint8)
    smooth = widget.composite_form["composite.smooth"]
    assert (smooth.get(), smooth.readout.value, smooth.slider.enabled) == (0.0, "off", False)
    widget.composite_button.clicked()  # off: on the main thread, at once
    plain = viewer.layers["img composite"].data.copy()
    smooth.on.value = True
    assert smooth.get() == 1.0 and smooth.readout.value == "1" and smooth.slider.enabled
    smooth.slider.value = 1.47  # the slider moves over powers of ten
    assert smooth.get() == float(smooth.readout.value) == 30.0  # what it shows is what runs
    events = []
    widget.composite_runner.start = lambda job, show, start=widget.composite_runner.start: (
        events.append("worker"),
        start(job, show),
    )
    widget.composite_button.clicked()
    qtbot.waitUntil(lambda: not widget.composite_runner.running, timeout=20000)
    assert events == ["worker"] and widget.composite_runner.last_error is None, widget.status.value
    smoothed = viewer.layers["img composite"].data
    inside = viewer.layers["img labels"].data > 0
    assert not np.array_equal(smoothed[inside], plain[inside])
    assert np.array_equal(smoothed[~inside], content[~inside]) and "px changed region" in widget.status.value
    smooth.set(250.0)  # a bundle's value beyond the slider's range is kept exact
    assert smooth.get() == 250.0 and smooth.on.value and smooth.slider.value == 2.0  # at the slider's end


def test_a_long_smoothing_is_cancelled_by_the_button_and_leaves_the_earlier_composite(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    rng = np.random.default_rng(2)
    viewer.add_image(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8), name="img", rgb=True)
    viewer.add_image(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8), name="img stylized", rgb=True)
    labels = np.zeros((300, 400), np.uint8)
    labels[20:280, 20:380] = 1
    viewer.add_labels(labels, name="img labels")
    widget = dock(viewer, "Composite and score")
    widget.composite_button.clicked()  # instant, smoothing off
    earlier = viewer.layers["img composite"].data.copy()
    widget.composite_form["composite.smooth"].set(100.0)  # hundreds of iterations on a random picture
    widget.composite_button.clicked()  # now in a worker: the button says Cancel, the bar counts iterations
    qtbot.waitUntil(lambda: widget.progress.bar.value >= 2, timeout=20000)
    assert widget.composite_runner.running and widget.composite_button.text == "Cancel"
    widget.composite_button.clicked()
    wait_done(qtbot, widget.composite_runner)
    assert "cancelled" in widget.status.value and widget.composite_button.text == "Composite"
    assert np.array_equal(viewer.layers["img composite"].data, earlier)


def test_stylize_previews_during_the_run_and_ends_with_the_result(make_napari_viewer, qtbot, hub):
    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    widget = dock(viewer, "Stylize")
    widget.content.value, widget.style.value = img, style
    widget.form["session.size"].value, widget.form["style.steps"].value, widget.preview_every.value = 48, 8, 2
    widget.form["style.fine_steps"].value = 1
    updates = []
    viewer.layers.events.inserted.connect(
        lambda e: e.value.events.data.connect(lambda _: updates.append(widget.runner.running))
    )
    estimates, on_event = [], widget._on_event
    widget._on_event = lambda *args: (
        on_event(*args),
        estimates.append((widget.progress.text.value, shown(widget.progress), widget.progress.bar.value)),
    )
    widget.run.clicked()
    wait_done(qtbot, widget.runner)
    assert widget.runner.last_error is None, widget.status.value
    result = viewer.layers["img stylized"]
    assert result.data.shape == (64, 96, 3) and result.data.dtype == np.uint8 and result.rgb
    # the API's result as it is: converting the uint8 result "from float" again posterized it to 0 and 255
    assert len(np.unique(result.data)) > 8 and 0 < result.data.mean() < 255
    assert updates.count(True) >= 2  # previews at steps 4 and 6 arrived while the job ran
    # the dock's own bar showed the steps and the time left, and is gone at the end
    assert any(text.startswith("style ") and "left" in text and seen and value > 0 for text, seen, value in estimates)
    assert not shown(widget.progress) and widget.progress.text.value == ""


def test_each_label_value_takes_the_style_chosen_for_it(make_napari_viewer, qtbot, hub, errors):
    viewer = make_napari_viewer()
    img, stone = small_scene(viewer)
    wood = viewer.add_image(two_tone((40, 40), rng=np.random.default_rng(9)), name="wood", rgb=True)
    labels = np.zeros((64, 96), np.uint8)
    labels[5:25, 5:30], labels[35:60, 50:90] = 1, 2
    viewer.add_labels(labels, name="img labels", features={"class": ["background", "cup", "table"]})
    widget = dock(viewer, "Stylize")
    widget.content.value, widget.style.value = img, stone
    assert widget.labels_layer.value is viewer.layers["img labels"]
    widget.label_styles.toggle.value = True
    rows = list(widget.label_styles.rows)
    assert [row.label for row in rows] == ["1 (cup)", "2 (table)"] and all(row.value is stone for row in rows)
    rows[1].value = wood
    viewer.layers["img labels"].paint((10, 80), 3)  # a value painted now gets its row, others keep their choice
    rows = list(widget.label_styles.rows)
    assert [row.label for row in rows] == ["1 (cup)", "2 (table)", "3"] and rows[1].value is wood
    rows[2].value = None  # left as it is
    regions, mask = widget._style_input((64, 96), widget.params(), None, widget._label_styles())
    assert mask is None and [r.name for r in regions] == ["1", "2"]
    assert np.array_equal(regions[1].mask, viewer.layers["img labels"].data == 2)
    assert regions[1].style.shape == (40, 40)
    widget.form["session.size"].value, widget.form["style.steps"].value = 48, 2
    widget.form["style.fine_steps"].value, widget.form["style.band"].value = 1, 2
    widget.run.clicked()
    wait_done(qtbot, widget.runner)
    assert widget.runner.last_error is None, widget.status.value
    result = viewer.layers["img stylized"]
    assert result.metadata["partial_style"]["label_styles"] == {"1": "style", "2": "wood"}
    far = ndi.distance_transform_edt(np.isin(viewer.layers["img labels"].data, [1, 2]) == 0) > 12
    assert far.any() and np.array_equal(result.data[far], img.data[far])
    for row in widget.label_styles.rows:
        row.value = None
    widget.run.clicked()
    assert "no label value has a style" in widget.status.value


def test_label_values_pair_with_the_style_masks_and_a_missing_one_is_one_line(make_napari_viewer, qtbot, hub):
    viewer = make_napari_viewer()
    img, stone = small_scene(viewer)
    labels = np.zeros((64, 96), np.uint8)
    labels[5:25, 5:30], labels[35:60, 50:90] = 1, 2
    viewer.add_labels(labels, name="img labels")
    style_labels = np.zeros(stone.data.shape[:2], np.uint8)
    style_labels[:, :12], style_labels[:, 12:] = 1, 2
    viewer.add_labels(style_labels, name="style labels")
    widget = dock(viewer, "Stylize")
    widget.content.value, widget.style.value = img, stone
    assert widget.style_mask.value is viewer.layers["style labels"] and shown(widget.pair_labels)
    widget.pair_labels.value = True
    regions, mask = widget._style_input((64, 96), widget.params(), None, widget._label_styles())
    assert mask is None and [r.name for r in regions] == ["1", "2"]
    assert [np.array_equal(r.style.alpha > 0, style_labels == v) for r, v in zip(regions, (1, 2))] == [True, True]
    widget.form["session.size"].value, widget.form["style.steps"].value = 48, 2
    widget.form["style.fine_steps"].value, widget.form["style.band"].value = 1, 2
    widget.run.clicked()
    wait_done(qtbot, widget.runner)
    assert widget.runner.last_error is None, widget.status.value
    assert viewer.layers["img stylized"].metadata["partial_style"]["label_styles"] == {
        "1": "style (style labels 1)",
        "2": "style (style labels 2)",
    }
    viewer.layers["style labels"].data = np.where(style_labels == 2, 0, style_labels).astype(np.uint8)
    widget.run.clicked()
    assert "content label 2 has no pixel in the style labels" in widget.status.value


def test_labels_painted_on_the_style_limit_its_statistics(make_napari_viewer, qtbot, hub):
    """A labels layer over the style image (`style labels`, as painting or Segment on it makes) is
    picked as the style mask; the job's style then carries that region, and a mask of another
    size is one line in the dock."""
    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    widget = dock(viewer, "Stylize")
    widget.content.value, widget.style.value = img, style
    assert widget.style_mask.value is None and widget.form["style.style_region"].get() is None
    painted = np.zeros((48, 48), np.uint8)
    painted[:, :20] = 1
    viewer.add_labels(painted, name="style labels")
    assert widget.style_mask.value is viewer.layers["style labels"] and widget.labels_layer.value is None
    _, _, source = widget._inputs()
    assert np.array_equal(source.alpha > 0, painted > 0)
    widget.form["session.size"].value, widget.form["style.steps"].value = 32, 1
    widget.form["style.fine_steps"].value = 1
    widget.run.clicked()
    wait_done(qtbot, widget.runner)
    assert widget.runner.last_error is None, widget.status.value
    assert viewer.layers["img stylized"].metadata["partial_style"]["style_mask"] == "style labels"
    widget.style_mask.value = viewer.add_labels(np.ones((10, 10), np.uint8), name="odd")
    widget.run.clicked()
    assert "differs from the style image's 48×48" in widget.status.value


def test_a_blend_and_a_sweep_from_the_stylize_dock(make_napari_viewer, qtbot, hub):
    """`blend with` mixes a second style into the region's targets; Preview sweep shows the region
    at each weight side by side in `<content> sweep`; a bad weight list is one line."""
    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    wood = viewer.add_image(two_tone((40, 40), rng=np.random.default_rng(9)), name="wood", rgb=True)
    labels = np.zeros((64, 96), np.uint8)
    labels[10:40, 20:60] = 1
    viewer.add_labels(labels, name="img labels")
    widget = dock(viewer, "Stylize")
    widget.content.value, widget.style.value = img, style
    widget.blend.value, widget.blend_share.value = wood, 0.25
    (region,), mask = widget._style_input((64, 96), widget.params(), widget._inputs()[2], None)
    assert region.mix()[1][1] == pytest.approx(0.25) and region.blend[0][0].shape == (40, 40)
    assert np.array_equal(region.mask, labels > 0) and np.array_equal(mask, labels > 0)
    widget.form["session.size"].value, widget.form["style.steps"].value = 32, 1
    widget.form["style.fine_steps"].value = 1
    widget.sweep_weights.value = "1e5, 1e7"
    widget.sweep.clicked()
    wait_done(qtbot, widget.sweep_runner)
    assert widget.sweep_runner.last_error is None, widget.status.value
    sheet = viewer.layers["img sweep"]
    assert sheet.rgb and sheet.data.shape[1] > 2 * sheet.data.shape[0] - 60 and "2 weights" in widget.status.value
    assert sheet.metadata["partial_style"]["style_weights"] == [1e5, 1e7]
    widget.sweep_weights.value = "1e5 lots"
    widget.sweep.clicked()
    assert "sweep weights: '1e5 lots' is not a list of numbers" in widget.status.value


def test_each_stylize_run_keeps_the_earlier_results_and_composite_takes_the_newest(make_napari_viewer, qtbot, hub):
    from napari_partial_style._napari import layer_names as names

    assert names.next_version("a stylized", ["a stylized", "a stylized [2]"]) == "a stylized [3]"
    assert (
        names.newest_version("a stylized", ["a stylized [10]", "a stylized [9]", "a stylized [x]"]) == "a stylized [10]"
    )
    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    widget = dock(viewer, "Stylize")
    widget.content.value, widget.style.value = img, style
    widget.form["session.size"].value, widget.form["style.steps"].value = 32, 1
    widget.form["style.fine_steps"].value = 1
    for _ in range(2):
        widget.run.clicked()
        wait_done(qtbot, widget.runner)
        assert widget.runner.last_error is None, widget.status.value
    assert [lyr.name for lyr in viewer.layers][-2:] == ["img stylized", "img stylized [2]"]
    composite = dock(viewer, "Composite and score")
    composite.content.value = img
    assert composite.stylized.value is viewer.layers["img stylized [2]"]
    viewer.layers.remove("img stylized [2]")  # the undo: the one before is used again
    assert composite.stylized.value is viewer.layers["img stylized"]


def test_two_stylize_runs_at_once_give_two_layers(make_napari_viewer, qtbot, hub):
    """Stylize from its dock and from the workflow's Stylize tab at the same time: each run holds its
    own output name from its start, so neither result replaces the other; a cancelled run frees its name."""
    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    alone, flow = dock(viewer, "Stylize"), dock(viewer, "Partial style (all steps)").stylize
    for widget in (alone, flow):
        widget.content.value, widget.style.value = img, style
        widget.form["session.size"].value, widget.form["style.steps"].value = 32, 2
        widget.form["style.fine_steps"].value = 1
    alone.run.clicked()
    flow.run.clicked()
    assert alone.runner.running and flow.runner.running
    wait_done(qtbot, alone.runner)
    wait_done(qtbot, flow.runner)
    assert alone.runner.last_error is None and flow.runner.last_error is None, (alone.status.value, flow.status.value)
    made = [lyr for lyr in viewer.layers if lyr.name.startswith("img stylized")]
    assert sorted(lyr.name for lyr in made) == ["img stylized", "img stylized [2]"]
    assert all(lyr.metadata["partial_style"]["stage"] == "stylize" for lyr in made)  # results, not previews
    alone.form["style.steps"].value = 5000
    alone.run.clicked()
    qtbot.waitUntil(lambda: "style" in alone.status.value, timeout=TIMEOUT_MS)
    alone.run.clicked()  # Cancel
    wait_done(qtbot, alone.runner)
    flow.run.clicked()
    wait_done(qtbot, flow.runner)
    assert "img stylized [3]" in viewer.layers and "img stylized [4]" not in viewer.layers  # [3] was freed


def test_composite_takes_a_finished_result_never_a_running_preview(make_napari_viewer, qtbot, hub):
    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    stylize, composite = dock(viewer, "Stylize"), dock(viewer, "Composite and score")
    composite.content.value = img
    stylize.content.value, stylize.style.value = img, style
    stylize.form["session.size"].value, stylize.form["style.steps"].value, stylize.preview_every.value = 32, 40, 2
    stylize.form["style.fine_steps"].value = 1
    stylize.run.clicked()
    qtbot.waitUntil(lambda: "img stylized" in viewer.layers, timeout=TIMEOUT_MS)  # the run's first preview
    assert stylize.runner.running and composite.stylized.value is not viewer.layers["img stylized"]
    wait_done(qtbot, stylize.runner)
    assert stylize.runner.last_error is None, stylize.status.value
    assert composite.stylized.value is viewer.layers["img stylized"]  # picked as it became the result


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


def flow_for_cup(viewer, img, style):
    """The all-steps dock, opened from the menu, set to find a cup in `img` with the tests' tiny
    classifier and to stylize it with `style`."""
    flow = dock(viewer, "Partial style (all steps)")
    flow.segment.image.value, flow.stylize.style.value = img, style
    flow.segment.classifier.set("tiny")
    flow.segment.picker.above.value = False
    flow.segment.picker.search.value = "cup"
    flow.segment.picker.targets.value = ["cup"]
    return flow


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


def test_cancel_stops_a_long_run_within_two_seconds_even_inside_a_network_pass(
    make_napari_viewer, qtbot, hub, errors, monkeypatch
):
    """Once running, each ReLU takes 0.5 s, so one forward pass takes 8 s (as VGG19 does on a large
    image on a busy CPU): Cancel must stop the pass, not wait for the step to end."""
    import torch

    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    widget = dock(viewer, "Stylize")
    widget.content.value, widget.style.value = img, style
    widget.form["session.size"].value, widget.form["style.steps"].value, widget.preview_every.value = 48, 5000, 0
    widget.form["style.fine_steps"].value = 1
    widget.run.clicked()
    qtbot.waitUntil(lambda: "style" in widget.status.value, timeout=TIMEOUT_MS)
    relu, inside, widths = torch.nn.ReLU.forward, threading.Event(), []

    def slow(self, x):
        if widths and widths[-1] == 512 and x.shape[1] == 64:  # relu1_1 after relu5_1: a new pass
            inside.set()
        widths.append(x.shape[1])
        time.sleep(0.5)
        return relu(self, x)

    monkeypatch.setattr(torch.nn.ReLU, "forward", slow)
    qtbot.waitUntil(inside.is_set, timeout=TIMEOUT_MS)  # a pass has begun: 8 s of it are left
    start = time.perf_counter()
    widget.run.clicked()  # the button is Cancel now
    wait_done(qtbot, widget.runner)
    assert time.perf_counter() - start < 2.0
    assert "img stylized" not in viewer.layers and widget.run.text == "Stylize"
    assert "cancelled" in widget.status.value and not errors


def test_errors_become_notifications_and_the_widget_still_works(
    make_napari_viewer, qtbot, hub, errors, tmp_path, monkeypatch
):
    viewer = make_napari_viewer()
    img = viewer.add_image(two_tone((64, 96)), name="img", rgb=True)
    widget = dock(viewer, "Stylize")
    widget.content.value = img
    widget.style.value = None
    widget.run.clicked()
    assert errors and "style layer" in errors[-1] and widget.run.text == "Stylize"

    viewer.add_image(two_tone((48, 48)), name="style", rgb=True)
    widget.style.value = viewer.layers["style"]
    widget.form["session.size"].value, widget.form["style.steps"].value = 48, 2
    widget.form["style.fine_steps"].value = 1
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    widget.run.clicked()
    wait_done(qtbot, widget.runner)
    assert "vgg19-dcbb9e9d.pth" in errors[-1] and "download.pytorch.org" in errors[-1]
    assert widget.run.text == "Stylize"

    monkeypatch.setenv("TORCH_HOME", str(hub))
    widget.run.clicked()
    wait_done(qtbot, widget.runner)
    assert widget.runner.last_error is None and "img stylized" in viewer.layers

    composite, _ = composite_scene(make_napari_viewer())
    composite.labels_layer.value.data = np.zeros((48, 64), np.uint8)
    composite.composite_button.clicked()
    assert "no pixel" in errors[-1]


def test_reader_writer_round_trip_with_painted_labels(make_napari_viewer, tmp_path, rng):
    from napari_partial_style._napari.writer import write_bundle_layers
    from napari_partial_style.core.io.bundle import Bundle, read_bundle, write_bundle

    content = two_tone((48, 64))
    labels = np.zeros((48, 64), np.uint8)
    labels[5:15, 5:15] = 1
    source = write_bundle(
        Bundle(
            manifest={"targets": ["cup"]},
            content=content,
            stylized=content[::-1].copy(),
            composite=content,
            labels=labels,
            saliency=rng.random((1, 48, 64)).astype(np.float32),
        ),
        tmp_path / "job.pstyle",
    )
    viewer = make_napari_viewer()
    viewer.open(str(source), plugin=PLUGIN)
    names = [layer.name for layer in viewer.layers]
    assert names == ["job content", "job saliency [cup]", "job stylized", "job composite", "job labels"]
    from napari_partial_style._napari.layers import LABELS_CONTOUR

    assert viewer.layers["job labels"].contour == LABELS_CONTOUR  # outlines, as the job drew them
    assert "outline_when_added" not in viewer.layers["job labels"].metadata
    viewer.layers["job labels"].data_setitem((np.array([40]), np.array([60])), 1)
    data = [layer.as_layer_data_tuple() for layer in viewer.layers]
    written = write_bundle_layers(str(tmp_path / "edited.pstyle"), data)
    back = read_bundle(written[0])
    assert back.labels[40, 60] == 1 and back.labels.sum() == labels.sum() + 1
    assert np.array_equal(back.content, content) and back.manifest["targets"] == ["cup"]
    assert back.saliency.shape == (1, 48, 64)


def test_reader_ignores_other_paths_and_names_a_damaged_file(tmp_path):
    from napari_partial_style._napari.reader import get_reader
    from napari_partial_style.core.errors import BundleError

    assert get_reader(str(tmp_path / "photo.png")) is None
    assert get_reader([str(tmp_path / "a.pstyle"), str(tmp_path / "b.pstyle")]) is None
    assert get_reader(str(tmp_path / "missing.pstyle")) is None
    broken = tmp_path / "broken.pstyle"
    broken.mkdir()
    reader = get_reader(str(broken))
    with pytest.raises(BundleError, match="manifest.json"):
        reader(str(broken))
    notes = tmp_path / "notes.pstyle"
    notes.write_text("not a bundle")
    with pytest.raises(BundleError, match="is not a result bundle: it is a text file"):
        get_reader(str(notes))(str(notes))


def event_loop_gaps(qtbot, viewer, runner, start):
    """Largest gap between ticks of a 10 ms timer from the click until the job's computation ended,
    leaving out the gaps in which napari added a layer (its own cost, 0.1-0.7 s on software OpenGL:
    a new Stylize result is a new layer, `stylized [2]`). Also returns how many were left out."""
    from qtpy.QtCore import QTimer

    ticks, inserted = [time.perf_counter()], []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    viewer.layers.events.inserted.connect(lambda _e: inserted.append(time.perf_counter()))
    timer.start(10)
    start()
    wait_done(qtbot, runner)
    timer.stop()
    ticks = [t for t in ticks if t <= runner.computed_at] + [runner.computed_at]
    gaps = [(b - a) for a, b in zip(ticks, ticks[1:]) if not any(a <= t <= b for t in inserted)]
    return float(max(gaps)), len(ticks) - 1 - len(gaps)


@pytest.mark.slow
def test_viewer_stays_responsive_while_stages_run(make_napari_viewer, qtbot, hub):
    """First runs included: the networks are loaded inside the jobs (the process-wide cache is
    emptied), in the worker thread, so loading them never holds up napari's drawing."""
    from napari_partial_style.core.nets import model_cache

    model_cache._load.cache_clear()
    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    segment = segment_for_cup(viewer, img, classifier="imagenet")  # the full network: its load is what could stall
    stylize = dock(viewer, "Stylize")
    stylize.content.value, stylize.style.value = img, style
    stylize.form["session.size"].value, stylize.form["style.steps"].value, stylize.preview_every.value = 48, 10, 5
    stylize.form["style.fine_steps"].value = 1
    gaps = {
        "segment": event_loop_gaps(qtbot, viewer, segment.runner, segment.run.clicked),
        "crf": event_loop_gaps(qtbot, viewer, segment.crf_runner, segment.crf_only.clicked),
        "stylize": event_loop_gaps(qtbot, viewer, stylize.runner, stylize.run.clicked),
    }
    assert segment.runner.last_error is None and stylize.runner.last_error is None
    assert all(gap < 0.2 for gap, _ in gaps.values()), gaps
    assert gaps["stylize"][1] <= 1  # only the preview layer's creation was left out


def test_what_napari_imports_for_a_first_labels_layer_is_imported_in_the_worker(qtbot, monkeypatch):
    """pandas and scikit-image's colour module took 0.5 s on the main thread as the first labels
    appeared; the job imports them in its thread, after its work (at its start they stalled napari)."""
    import threading

    from magicgui.widgets import Label, PushButton

    from napari_partial_style._napari import jobs
    from napari_partial_style.core.progress import Progress

    calls = []
    monkeypatch.setattr(jobs.importlib, "import_module", lambda name: calls.append((name, threading.current_thread())))

    def job():
        yield Progress("work", 1, 1)
        calls.append(("job done", threading.current_thread()))
        return 1

    runner = jobs.JobRunner(PushButton(), Label(), "Test")
    runner.start(job, on_result=lambda result: None)
    wait_done(qtbot, runner)
    assert [name for name, _ in calls] == ["job done", *jobs.LAYER_IMPORTS]
    threads = {thread for _, thread in calls}
    assert len(threads) == 1 and threading.main_thread() not in threads


def test_the_docks_progress_bar_is_drawn_once_a_turn_not_at_every_event(qtbot):
    """QProgressBar repaints at once on a new value; inside napari's window (an OpenGL canvas) that
    redrew the whole window, 25 ms an event on software OpenGL, and the CRF's ten quick events froze
    napari for their sum. The bar takes every value and is drawn in the next turn."""
    from qtpy.QtCore import QEvent, QObject

    from napari_partial_style._napari.jobs import JobProgress
    from napari_partial_style.core.progress import Progress

    class Paints(QObject):
        count = 0

        def eventFilter(self, _obj, event):
            self.count += event.type() == QEvent.Type.Paint
            return False

    progress = JobProgress()
    progress.native.show()
    progress.show_event(Progress("crf", 0, 10))
    qtbot.waitUntil(lambda: progress.native.isVisible())
    qtbot.wait(50)
    paints = Paints()
    progress.bar.native.installEventFilter(paints)
    for step in range(1, 11):
        progress.show_event(Progress("crf", step, 10))
    assert paints.count == 0 and progress.bar.value == 10
    qtbot.waitUntil(lambda: paints.count > 0, timeout=2000)
    progress.native.close()


def test_a_result_shown_in_parts_takes_an_event_loop_turn_a_part(qtbot):
    """napari spends 0.1-0.2 s making each layer on software OpenGL: Segment's maps and labels are
    added in turns of their own, so the viewer draws in between (ticks of a 0 ms timer), and the job
    ends (button, Run all's next stage) only after the last one; a part that fails is reported."""
    from magicgui.widgets import Label, PushButton
    from qtpy.QtCore import QTimer

    from napari_partial_style._napari import jobs
    from napari_partial_style.core.progress import Progress

    def job():
        yield Progress("work", 1, 1)
        return 3

    ticks, parts, done = [], [], []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(0)

    def show(count):
        for part in range(count):
            parts.append((len(ticks), runner.running))
            if part == 1:
                runner.cancel()  # a result being shown is not cancelled
            yield

    runner = jobs.JobRunner(PushButton(), Label(), "Test")
    runner.on_done.append(done.append)
    runner.start(job, on_result=show)
    wait_done(qtbot, runner)
    assert len(parts) == 3 and all(running for _, running in parts)
    assert parts[0][0] < parts[1][0] < parts[2][0]
    assert done == [True] and runner.status.value == "Test: done"

    def broken(count):
        yield
        raise ValueError("the input layer was deleted")

    runner.start(job, on_result=broken)
    wait_done(qtbot, runner)
    timer.stop()
    assert done == [True, False] and "the input layer was deleted" in runner.status.value


def test_new_labels_in_an_existing_layer_are_drawn_once_at_their_size_in_their_colours(make_napari_viewer):
    """Each property set on a visible labels layer redrew it (contours: 50 ms a megapixel, three
    times for a Re-run CRF); the layer is now drawn once, and a new size still updates its extent."""
    from napari_partial_style._napari.layers import put_labels
    from napari_partial_style._napari.stable_colors import class_color

    viewer = make_napari_viewer()
    img = viewer.add_image(np.zeros((40, 50), np.float32), name="img")
    layer, _ = put_labels(viewer, "img labels", np.zeros((40, 50), np.int32), ["a"], img)
    drawn = []
    layer.events.set_data.connect(lambda _e: drawn.append(1))
    again, renamed = put_labels(viewer, "img labels", np.full((40, 50), 2, np.int32), ["a", "b"], img)
    assert again is layer and not renamed and layer.visible and len(drawn) == 1
    np.testing.assert_allclose(layer.colormap.map(np.array([2]))[0], class_color("b"), atol=1e-6)
    put_labels(viewer, "img labels", np.ones((60, 70), np.int32), ["a"], img)
    assert tuple(layer.extent.data[1]) == (59, 69) and layer.mode == "pan_zoom"


def test_stacks_are_worked_on_at_the_current_slice(make_napari_viewer):
    from napari_partial_style._napari.layers import current_slice

    viewer = make_napari_viewer()
    stack = np.stack([np.full((40, 50), i, np.uint8) for i in range(4)])
    layer = viewer.add_image(stack, name="stack")
    viewer.dims.set_current_step(0, 2)
    plane, sliced = current_slice(viewer, layer)
    assert sliced and plane.shape == (40, 50) and np.all(plane == 2)
    rgb = viewer.add_image(np.zeros((40, 50, 3), np.uint8), name="rgb", rgb=True)
    assert current_slice(viewer, rgb)[0].shape == (40, 50, 3) and not current_slice(viewer, rgb)[1]


def test_a_small_rgb_image_napari_reads_as_a_stack_is_named_as_what_it_is(make_napari_viewer, tmp_path):
    from napari_partial_style._napari.common import source_image, stack_sources
    from napari_partial_style.core.errors import InputError
    from napari_partial_style.core.io.image_files import write_image_file

    viewer = make_napari_viewer()
    write_image_file(tmp_path / "tiny.png", np.zeros((20, 24, 3), np.uint8))
    layer = viewer.open(str(tmp_path / "tiny.png"))[0]
    assert not layer.rgb and layer.ndim == 3  # napari's guess for a side of 30 px or less
    for read in (lambda: source_image(viewer, layer, "a content image"), lambda: stack_sources(layer)):
        with pytest.raises(
            InputError,
            match=r"tiny is a 24×20 px RGB image \(napari shows it as a stack of 20 "
            r"slices.*need at least 32 px",
        ):
            read()
    stack = viewer.add_image(np.zeros((4, 40, 50), np.uint8), name="stack")
    assert source_image(viewer, stack, "a content image").shape == (40, 50)  # a real stack is a stack


def test_device_default_comes_from_the_plugin_settings(make_napari_viewer):
    from napari.settings import get_plugin_settings

    settings = get_plugin_settings(PLUGIN).general
    before = settings.device
    settings.device = "cpu"
    try:
        widget = dock(make_napari_viewer(), "Stylize")
        device = widget.form["session.device"]
        assert device.value == "cpu" and "cpu" in device.choices
    finally:
        settings.device = before


def test_segment_widget_reads_a_trained_checkpoints_classes(make_napari_viewer, material_checkpoint):
    widget = dock(make_napari_viewer(), "Segment")
    widget.classifier.source.value = "checkpoint file"
    widget.classifier.checkpoint.value = material_checkpoint
    widget.picker.above.value = False
    assert list(widget.picker.targets.choices) == ["leather", "metal", "wood"]
    widget.picker.targets.value = ["metal"]
    chosen = widget.params().segment
    assert chosen.classifier == str(material_checkpoint) and chosen.saliency.targets == ("metal",)


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
        for setting in (False, True):
            settings.activity_panel = setting
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


def test_two_jobs_at_once_leave_qts_global_pool_free(make_napari_viewer, qtbot, hub):
    from qtpy.QtCore import QThreadPool

    pool = QThreadPool.globalInstance()
    before = pool.maxThreadCount()
    pool.setMaxThreadCount(2)  # a 2-core machine
    try:
        viewer = make_napari_viewer()
        img, style = small_scene(viewer)
        segment = segment_for_cup(viewer, img)
        stylize = dock(viewer, "Stylize")
        stylize.content.value, stylize.style.value = img, style
        stylize.form["session.size"].value, stylize.form["style.steps"].value, stylize.preview_every.value = 48, 30, 5
        stylize.form["style.fine_steps"].value = 1
        segment.run.clicked()
        stylize.run.clicked()
        busy = []
        qtbot.waitUntil(
            lambda: busy.append(pool.activeThreadCount()) or not (segment.runner.running or stylize.runner.running),
            timeout=TIMEOUT_MS,
        )
        assert max(busy) == 0  # Qt's own image work on the main thread can always run
        assert segment.runner.last_error is None and stylize.runner.last_error is None
        assert "img labels" in viewer.layers and viewer.layers["img stylized"].data.shape == (64, 96, 3)
    finally:
        pool.setMaxThreadCount(before)


@pytest.mark.parametrize("existing", [False, True])
def test_cancel_removes_the_runs_preview_and_leaves_earlier_results(make_napari_viewer, qtbot, hub, existing):
    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    earlier = np.full((64, 96, 3), 7, np.uint8)
    if existing:
        viewer.add_image(earlier, name="img stylized", rgb=True, metadata={"partial_style": {"mine": 1}})
    widget = dock(viewer, "Stylize")
    widget.content.value, widget.style.value = img, style
    widget.form["session.size"].value, widget.form["style.steps"].value, widget.preview_every.value = 48, 5000, 1
    widget.form["style.fine_steps"].value = 1
    widget.run.clicked()
    qtbot.waitUntil(lambda: "left" in widget.progress.text.value, timeout=TIMEOUT_MS)
    preview = "img stylized [2]" if existing else "img stylized"
    assert preview in viewer.layers  # a preview is showing, in a layer of its own
    widget.run.clicked()
    wait_done(qtbot, widget.runner)
    assert widget.progress.text.value == "" and not shown(widget.progress)
    assert preview not in viewer.layers
    if existing:
        assert np.array_equal(viewer.layers["img stylized"].data, earlier)
        assert viewer.layers["img stylized"].metadata["partial_style"] == {"mine": 1}


def job_layers(viewer, qtbot, sizes=(64, 48, 64), steps=(2, 1), crf="none", crf_edge=0.0):
    """Segment, stylize, composite and score through the widgets, as a user would, at working
    `sizes` (segment, stylize, score) and `steps` (first and finer levels), with a CRF soft edge of
    `crf_edge` px set in Stylize and Composite; the scene and the docks."""
    from types import SimpleNamespace

    img, style = small_scene(viewer)
    segment = segment_for_cup(viewer, img, size=sizes[0])
    segment.form["segment.crf.method"].value = crf
    segment.run.clicked()
    wait_done(qtbot, segment.runner)
    stylize = dock(viewer, "Stylize")
    stylize.content.value, stylize.style.value = img, style
    stylize.form["session.size"].value, stylize.form["style.steps"].value = sizes[1], steps[0]
    stylize.form["style.fine_steps"].value = steps[1]
    stylize.form["composite.crf_edge"].value = crf_edge
    stylize.run.clicked()
    wait_done(qtbot, stylize.runner)
    composite = dock(viewer, "Composite and score")
    composite.content.value = img
    composite.labels_layer.value = viewer.layers["img labels"]
    composite.composite_form["composite.crf_edge"].value = crf_edge
    composite.composite_button.clicked()
    composite.style.value, composite.score_form["session.size"].value = style, sizes[2]
    composite.score_form["segment.classifier"].set("tiny")
    composite.score_button.clicked()
    wait_done(qtbot, composite.runner)
    for runner in (segment.runner, stylize.runner, composite.runner):
        assert runner.last_error is None, runner.status.value
    return SimpleNamespace(img=img, style=style, segment=segment, stylize=stylize, composite=composite)


def test_saving_all_layers_of_a_job_records_what_was_done(make_napari_viewer, qtbot, hub, tmp_path):
    from napari_partial_style.core.io.bundle import read_bundle

    viewer = make_napari_viewer()
    job = job_layers(viewer, qtbot)
    job.composite.composite_button.clicked()  # a new composite: the scores shown measured the old one
    assert job.composite.scores.value.startswith("Out of date") and "mean IU" in job.composite.scores.value
    job.composite.score_button.clicked()
    wait_done(qtbot, job.composite.runner)
    assert not job.composite.scores.value.startswith("Out of date") and "mean IU" in job.composite.scores.value
    viewer.layers["img labels"].data_setitem((np.array([1]), np.array([1])), 1)  # painted after the job
    viewer.add_labels(np.zeros((64, 96), np.uint8), name="img labels [2]")
    viewer.add_points([[3, 4]], name="clicks")
    viewer.layers.select_all()
    written = viewer.layers.save(str(tmp_path / "job.pstyle"), selected=True, plugin=PLUGIN)
    bundle = read_bundle(written[0])
    manifest = bundle.manifest
    assert manifest["targets"] == ["cup"] and manifest["parameters"]["score"]["enabled"] is True
    assert manifest["parameters"]["segment"]["saliency"]["targets"] == ["cup"]
    assert manifest["parameters"]["style"]["steps"] == 2 and manifest["scores"] == bundle.scores
    assert 0 <= bundle.scores["mean_iu"] <= 1 and len(manifest["classifier_classes"]) == 1000
    assert bundle.labels.max() == 0  # the newest of the job's labels layers: `img labels [2]`
    seen = viewer.layers["img re-segmentation"]  # what the classifier saw in the composite, hidden at first
    assert (
        seen.data.shape == (64, 96)
        and not seen.visible
        and "mean IU" in dock(viewer, "Composite and score").scores.value
    )
    assert bundle.stylized.shape == bundle.composite.shape == (64, 96, 3) and bundle.saliency.shape == (1, 64, 96)


@pytest.mark.parametrize("crf_edge", [0.0, 6.0])
def test_the_docks_compute_what_session_run_computes(make_napari_viewer, qtbot, hub, tmp_path, crf_edge):
    """One job through the docks, stage by stage (Segment, Stylize, Composite, Score), and through
    `Session.run` with the parameters the docks show: the same bundle, array for array; also with a
    CRF soft edge, which softens masked's style guides as well as the composite's alpha."""
    from dataclasses import replace

    from napari_partial_style.api import Session
    from napari_partial_style.core.io.bundle import read_bundle
    from napari_partial_style.core.params import JobParams

    viewer = make_napari_viewer()
    job = job_layers(viewer, qtbot, sizes=(48, 48, 48), steps=(3, 2), crf="torch", crf_edge=crf_edge)
    img, style, segment, stylize, composite = job.img, job.style, job.segment, job.stylize, job.composite
    viewer.layers.selection = {lyr for lyr in viewer.layers if lyr.name.startswith("img") and "re-seg" not in lyr.name}
    docks = read_bundle(viewer.layers.save(str(tmp_path / "docks.pstyle"), selected=True, plugin=PLUGIN)[0])

    shown = stylize.params()
    params = replace(
        JobParams(),
        session=shown.session,
        segment=segment.params().segment,
        style=shown.style,
        composite=composite.composite_form.params().composite,
        score=composite.score_form.params().score,
    )
    assert params.segment.classifier == "tiny" and params.segment.saliency.targets == ("cup",)
    assert params.composite.crf_edge == crf_edge
    ran = read_bundle(Session(params.session).run(img.data, style.data, params).result().save(tmp_path / "run.pstyle"))
    for name in ("labels", "saliency", "crf_probabilities", "stylized", "composite", "style", "preview"):
        assert np.array_equal(getattr(docks, name), getattr(ran, name)), name
    for key in ("expected_class", "pixel_accuracy", "mean_iu", "class_set"):
        assert docks.scores[key] == ran.scores[key], key


def test_a_bundle_saved_from_napari_carries_the_job_back(make_napari_viewer, qtbot, hub, tmp_path):
    """Saved from napari, a job's bundle holds what the CLI's holds (the style included, though its
    layer is not selected, and the preview); reopened in a fresh viewer, its layers sit where they
    were with the user's metadata, and Score and Composite run without naming anything again."""
    from napari_partial_style.core.errors import BundleError
    from napari_partial_style.core.io.bundle import LAYERS, read_bundle

    viewer = make_napari_viewer()
    img = job_layers(viewer, qtbot).img
    img.scale, img.translate, img.units = (0.5, 0.25), (10, -3), ("mm", "mm")
    img.metadata.update(mine={"taken": "2026-12-01", "exposure": [1, 2]}, opaque=object())
    viewer.layers["img composite"].metadata["note"] = "keep"
    viewer.layers.selection = {lyr for lyr in viewer.layers if lyr.name.startswith("img") and "re-seg" not in lyr.name}
    assert viewer.layers["style"] not in viewer.layers.selection
    path = viewer.layers.save(str(tmp_path / "job.pstyle"), selected=True, plugin=PLUGIN)[0]
    bundle = read_bundle(path)
    assert set(bundle.manifest["files"]) == set(LAYERS)  # everything a CLI job with a segmentation writes
    assert np.array_equal(bundle.style, viewer.layers["style"].data)
    assert bundle.preview.shape[0] == 384 and bundle.preview.shape[2] == 3
    assert bundle.scores["expected_class"] and bundle.manifest["targets"] == ["cup"]
    assert bundle.manifest["napari"]["metadata_left_out"] == ["content: opaque"]  # named, not silently dropped

    fresh = make_napari_viewer()
    fresh.open(path, plugin=PLUGIN)
    content, composite = fresh.layers["job content"], fresh.layers["job composite"]
    for layer in (content, composite, fresh.layers["job labels"], fresh.layers["job saliency [cup]"]):
        assert tuple(layer.scale) == (0.5, 0.25) and tuple(layer.translate) == (10, -3), layer.name
        assert [str(u) for u in layer.units] == ["millimeter", "millimeter"]
    assert tuple(fresh.layers["job style"].scale) == (1, 1)  # the style has a grid of its own
    assert content.metadata["mine"] == {"taken": "2026-12-01", "exposure": [1, 2]}
    assert composite.metadata["note"] == "keep"
    dock_ = dock(fresh, "Composite and score")
    dock_.content.value = content
    assert dock_.style.value is fresh.layers["job style"]
    dock_.score_form["segment.classifier"].set("tiny")
    dock_.score_form["session.size"].value = 64
    dock_.score_button.clicked()
    wait_done(qtbot, dock_.runner)
    assert dock_.runner.last_error is None and "mean IU" in dock_.scores.value, dock_.status.value
    dock_.composite_button.clicked()
    assert "px changed region" in dock_.status.value

    stack = fresh.add_image(np.zeros((3, 64, 80, 3), np.uint8), name="movie", rgb=True)
    fresh.layers.selection = {stack}
    with pytest.raises(BundleError, match=r"'movie' is a stack of 3 slices .* Split Stack"):
        fresh.layers.save(str(tmp_path / "movie.pstyle"), selected=True, plugin=PLUGIN)
    assert not (tmp_path / "movie.pstyle").exists()


def test_the_crf_soft_edge_uses_the_labels_probabilities_also_after_a_bundle_round_trip(
    make_napari_viewer, qtbot, hub, tmp_path
):
    viewer = make_napari_viewer()
    job_layers(viewer, qtbot)
    probabilities = viewer.layers["img labels"].metadata["crf_probabilities"]
    assert probabilities.shape == (2, 64, 96)
    viewer.layers["img stylized"].data = np.zeros((64, 96, 3), np.uint8)  # black, so alpha shows in the composite
    composite = dock(viewer, "Composite and score")
    composite.composite_form["composite.crf_edge"].value = 3
    composite.composite_button.clicked()
    content, mask = viewer.layers["img"].data, viewer.layers["img labels"].data > 0
    alpha = 1 - viewer.layers["img composite"].data.astype(float).sum(2) / np.maximum(content.astype(float).sum(2), 1)
    assert ((alpha > 0.05) & (alpha < 0.95)).any(), "no soft edge"
    assert np.all(alpha[mask] > 0.45) and np.all(alpha[~mask] < 0.55)
    job = [viewer.layers[n] for n in ("img", "img labels", "img stylized", "img composite")]
    viewer.layers.selection = set(job)
    written = viewer.layers.save(str(tmp_path / "job.pstyle"), selected=True, plugin=PLUGIN)
    reopened = make_napari_viewer()
    reopened.open(written[0], plugin=PLUGIN)
    assert np.allclose(reopened.layers["job labels"].metadata["crf_probabilities"], probabilities)


def test_writer_errors_reach_the_user(make_napari_viewer, tmp_path):
    from napari_partial_style.core.errors import BundleError

    viewer = make_napari_viewer()
    viewer.add_labels(np.zeros((48, 64), np.uint8), name="img labels")
    viewer.layers.select_all()
    with pytest.raises(BundleError, match="select the content image layer too"):
        viewer.layers.save(str(tmp_path / "x.pstyle"), selected=True, plugin=PLUGIN)
    assert not (tmp_path / "x.pstyle").exists()


def test_a_fresh_napari_opens_a_bundle_without_asking_by_open_and_drop(make_napari_viewer, tmp_path, monkeypatch):
    """No reader preference is set (the plugin never ran in this viewer), yet `viewer.open`, File ›
    Open and drag-and-drop (both `_qt_open`) open the bundle with no reader chooser."""
    from napari.settings import get_settings

    from napari_partial_style.core.io.bundle import Bundle, write_bundle

    path = write_bundle(
        Bundle(manifest={"targets": ["cup"]}, content=two_tone((48, 64)), labels=np.ones((48, 64), np.uint8)),
        tmp_path / "job.pstyle",
    )
    viewer = make_napari_viewer()
    assert not any("pstyle" in pattern for pattern in get_settings().plugins.extension2reader)
    viewer.open(str(path), plugin=None)  # `napari job.pstyle` and scripts
    assert [layer.name for layer in viewer.layers] == ["job content", "job labels"]
    chooser = []
    monkeypatch.setattr("napari._qt.qt_viewer.handle_gui_reading", lambda *a, **k: chooser.append(a))
    viewer.layers.clear()
    viewer.window._qt_viewer._qt_open([str(path)], stack=False)  # File › Open and a drop
    assert chooser == [] and [layer.name for layer in viewer.layers] == ["job content", "job labels"]
    # napari's folder reader claims every folder; once the plugin has run, unzipped and 0.1 bundles come to us too
    assert get_settings().plugins.extension2reader["*.pstyle/"] == PLUGIN
    with zipfile.ZipFile(path) as archive:
        archive.extractall(tmp_path / "old.pstyle")
    viewer.window._qt_viewer._qt_open([str(tmp_path / "old.pstyle")], stack=False)
    assert chooser == [] and viewer.layers[-1].name == "old labels"


def test_composite_never_pastes_the_content_onto_itself(make_napari_viewer, errors):
    viewer = make_napari_viewer()
    viewer.add_image(two_tone((48, 64)), name="img", rgb=True)
    labels = np.zeros((48, 64), np.uint8)
    labels[5:20, 5:20] = 1
    viewer.add_labels(labels, name="img labels")
    widget = dock(viewer, "Composite and score")
    widget.content.value = viewer.layers["img"]
    assert widget.stylized.value is None  # before: the content itself, the first image layer
    widget.stylized.value = viewer.layers["img"]
    widget.composite_button.clicked()
    assert "its own stylized image" in errors[-1] and "img composite" not in viewer.layers
    viewer.add_image(two_tone((48, 64))[::-1].copy(), name="img stylized", rgb=True)
    assert widget.stylized.value.name == "img stylized"
    again = dock(viewer, "Composite and score")  # docked after the layers exist
    assert again.stylized.value.name == "img stylized" and again.labels_layer.value.name == "img labels"


def test_the_widgets_offer_every_option_of_the_cli_with_the_same_defaults(make_napari_viewer):
    from napari_partial_style._napari.composite_widget import NOT_IN_NAPARI
    from napari_partial_style._napari.forms import read
    from napari_partial_style.core.errors import InputError
    from napari_partial_style.core.options import leaves
    from napari_partial_style.core.params import JobParams

    viewer = make_napari_viewer()
    composite = dock(viewer, "Composite and score")
    forms = [dock(viewer, "Segment").form, dock(viewer, "Stylize").form, composite.composite_form, composite.score_form]
    shown = set()
    for form in forms:
        for leaf in form.leaves:
            assert read(form.fields[".".join(leaf.path)]) == leaf.default, leaf.path
            shown.add(leaf.path)
        assert not form.advanced_open  # advanced settings start collapsed
    assert shown | set(NOT_IN_NAPARI) == {leaf.path for leaf in leaves(JobParams)}
    stylize = forms[1]
    stylize.toggle.clicked()
    assert stylize.advanced_open and stylize["style.history_size"].value == 100
    stylize.toggle.clicked()
    assert not stylize.advanced_open
    stylize["style.style_weight"].value = "1e7"
    assert stylize.params().style.style_weight == 1e7
    stylize["style.style_weight"].value = "lots"
    with pytest.raises(InputError, match="style weight: 'lots' is not a number"):
        stylize.params()


def test_a_3_slice_stack_gives_3_slice_output_layers(make_napari_viewer, qtbot, hub):
    """Segment, Stylize and Composite on all slices: each output keeps the stack's axes."""
    from napari_partial_style._napari.common import shown

    viewer = make_napari_viewer()
    frames = np.stack([two_tone((40, 56), rng=np.random.default_rng(i)) for i in range(3)])
    stack = viewer.add_image(frames, name="movie", rgb=True, scale=(1.0, 2.0, 2.0))
    style = viewer.add_image(two_tone((32, 32), rng=np.random.default_rng(7)), name="style", rgb=True)
    segment = segment_for_cup(viewer, stack, size=48)
    assert shown(segment.slices)
    segment.slices.value = "all slices"
    segment.form["segment.crf.method"].value = "none"
    segment.run.clicked()
    wait_done(qtbot, segment.runner)
    assert segment.runner.last_error is None, segment.status.value
    labels = viewer.layers["movie labels"]
    assert labels.data.shape == (3, 40, 56) and tuple(labels.scale) == (1.0, 2.0, 2.0)
    assert viewer.layers["movie saliency [cup]"].data.shape == (3, 40, 56)

    stylize = dock(viewer, "Stylize")
    stylize.content.value, stylize.style.value = stack, style
    stylize.slices.value = "all slices"
    assert shown(stylize.chain)
    stylize.chain.value = True
    stylize.form["session.size"].value, stylize.form["style.steps"].value = 32, 2
    stylize.form["style.fine_steps"].value = 1
    stages = []
    on_event = stylize._on_event
    stylize._on_event = lambda layer, name, content, event: (
        stages.append(event.stage),
        on_event(layer, name, content, event),
    )
    stylize.run.clicked()
    wait_done(qtbot, stylize.runner)
    assert stylize.runner.last_error is None, stylize.status.value
    stylized = viewer.layers["movie stylized"]
    assert stylized.data.shape == (3, 40, 56, 3) and stylized.data.dtype == np.uint8
    assert "(56×40 px, from 32 px, on cpu)" in stylize.status.value  # the result's size, not the working one
    assert {"slice 1/3 style", "slice 3/3 style"} <= set(stages)  # progress per slice

    composite = dock(viewer, "Composite and score")
    composite.content.value = stack
    composite.slices.value = "all slices"
    composite.composite_button.clicked()
    result = viewer.layers["movie composite"].data
    assert result.shape == (3, 40, 56, 3)
    outside = labels.data == 0
    assert np.array_equal(result[outside], frames[outside])  # pixels outside the labels are the original's


def test_a_single_slice_of_a_stack_gives_outputs_on_that_slice_only(make_napari_viewer, qtbot, hub):
    """Segment, Stylize and Composite on "this slice": each output is stack-shaped with the result
    on its own slice (so napari shows it there only), slices done before are kept, the others are
    empty (labels) or the content's own (images), and the status names the slice."""
    viewer = make_napari_viewer()
    frames = np.stack([two_tone((40, 56), rng=np.random.default_rng(i)) for i in range(3)])
    stack = viewer.add_image(frames, name="movie", rgb=True)
    style = viewer.add_image(two_tone((32, 32), rng=np.random.default_rng(7)), name="style", rgb=True)
    segment = segment_for_cup(viewer, stack, size=48)
    segment.form["segment.crf.method"].value = "none"
    labels_of = {}
    for index in (2, 0):
        viewer.dims.set_current_step(0, index)
        segment.run.clicked()
        wait_done(qtbot, segment.runner)
        assert segment.runner.last_error is None, segment.status.value
        assert f"(slice {index})" in segment.status.value
        labels_of[index] = viewer.layers["movie labels"].data[index].copy()
    labels = viewer.layers["movie labels"]
    assert labels.data.shape == (3, 40, 56) and not labels.data[1].any()
    assert np.array_equal(labels.data[2], labels_of[2]) and labels.data[2].any()  # kept when slice 0 was done
    assert viewer.layers["movie saliency [cup]"].data.shape == (3, 40, 56)

    stylize = dock(viewer, "Stylize")
    stylize.content.value, stylize.style.value = stack, style
    stylize.form["session.size"].value, stylize.form["style.steps"].value = 32, 1
    stylize.form["style.fine_steps"].value = 1
    stylize.run.clicked()
    wait_done(qtbot, stylize.runner)
    assert stylize.runner.last_error is None, stylize.status.value
    stylized = viewer.layers["movie stylized"]
    assert stylized.data.shape == (3, 40, 56, 3) and "(slice 0)" in stylize.status.value
    assert np.array_equal(stylized.data[1:], frames[1:])  # untouched slices are the content's

    composite = dock(viewer, "Composite and score")
    composite.content.value = stack
    composite.composite_button.clicked()
    result = viewer.layers["movie composite"].data
    assert result.shape == (3, 40, 56, 3) and np.array_equal(result[1:], frames[1:])
    assert np.array_equal(result[0][labels.data[0] == 0], frames[0][labels.data[0] == 0])


def test_defaults_follow_the_user_and_errors_keep_the_dock_narrow(make_napari_viewer, tmp_path, errors):
    """The active layer is the content; a reopened bundle pairs its layers, keeps the job's class
    colours and carries the style to Score; a long error wraps; Composite's errors say Composite."""
    from napari_partial_style._napari.stable_colors import class_color
    from napari_partial_style.core.io.bundle import Bundle, write_bundle

    viewer = make_napari_viewer()
    viewer.add_image(two_tone((32, 48)), name="marble", rgb=True)  # opened first: the style
    photo = viewer.add_image(two_tone((48, 64)), name="photo", rgb=True)
    viewer.layers.selection.active = photo
    assert dock(viewer, "Segment").image.value is photo and dock(viewer, "Stylize").content.value is photo

    labels = np.zeros((48, 64), np.uint8)
    labels[5:20, 5:20] = 1
    content = two_tone((48, 64))
    write_bundle(
        Bundle(
            manifest={"targets": ["cup"]},
            content=content,
            stylized=content[::-1].copy(),
            composite=content,
            labels=labels,
        ),
        tmp_path / "job.pstyle",
    )
    viewer.open(str(tmp_path / "job.pstyle"), plugin=PLUGIN)
    reopened = viewer.layers["job labels"]
    assert np.allclose(reopened.colormap.map(np.array([1]))[0], class_color("cup"))
    viewer.layers["job stylized"].metadata["partial_style"] = {"style_layer": "marble"}
    composite = dock(viewer, "Composite and score")
    composite.content.value = viewer.layers["job content"]
    assert composite.stylized.value is viewer.layers["job stylized"] and composite.labels_layer.value is reopened
    assert composite.style.value is viewer.layers["marble"]  # the style Stylize used goes to Score

    width = composite.native.sizeHint().width()
    composite.runner.report_error(ValueError("a very long message " * 30), "Composite")
    assert composite.status.native.wordWrap() and composite.native.sizeHint().width() <= width + 5
    viewer.layers.remove("job stylized")
    composite.stylized.value = None
    composite.composite_button.clicked()
    assert errors and errors[-1].startswith("Composite failed")


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


DOCK_IN_A_FRESH_PROCESS = """
import json, sys, threading, time
import napari
from qtpy.QtWidgets import QApplication

importers = []


class Watch:  # which thread imports torch
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            importers.append(threading.current_thread().name)
        return None


sys.meta_path.insert(0, Watch())
viewer = napari.Viewer(show=False)
_, widget = viewer.window.add_plugin_dock_widget("napari-partial-style", "Segment")
device = getattr(widget, "step", widget).form["session.device"]
deadline = time.perf_counter() + 60
while "torch" not in sys.modules:
    QApplication.processEvents()
    time.sleep(0.05)
    if time.perf_counter() > deadline:
        break
for _ in range(40):
    QApplication.processEvents()
    time.sleep(0.05)
print(json.dumps({"opened_without_torch": "MainThread" not in importers[:1], "listed_later": "torch" in sys.modules,
                  "choices": list(device.choices), "value": device.value}))
viewer.close()
"""


@pytest.mark.slow
def test_a_dock_opens_without_importing_torch_and_lists_the_devices_after(tmp_path):
    """Opening the Segment dock took 6.9 s: torch was imported to list the devices."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", DOCK_IN_A_FRESH_PROCESS], capture_output=True, text=True, timeout=300)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["opened_without_torch"] and result["listed_later"], out.stderr[-2000:]
    assert result["choices"][0] == "auto" and result["choices"][-1] == "cpu" and result["value"] in result["choices"]
