"""The Composite and score dock: recompositing painted labels, photo smoothing, which
stylized layer it takes."""

from __future__ import annotations

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari_helpers import TIMEOUT_MS, composite_scene, dock, small_scene, wait_done  # noqa: E402
from synthetic import two_tone  # noqa: E402


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


def test_a_large_photo_is_composited_in_a_worker_not_on_the_gui_thread(make_napari_viewer, qtbot, monkeypatch):
    """Compositing (its region grown and feathered, the blend) took 3 s on the GUI thread for a 24 Mpx
    photo under load: beyond a megapixel it runs in the worker, and gives the same result."""
    from napari_partial_style._napari import composite_widget

    viewer = make_napari_viewer()
    widget, content = composite_scene(viewer)
    widget.composite_button.clicked()
    on_the_spot = viewer.layers["img composite"].data.copy()
    viewer.layers.remove("img composite")
    monkeypatch.setattr(composite_widget, "INSTANT_PIXELS", content.shape[0] * content.shape[1] - 1)
    widget.composite_button.clicked()
    assert widget.composite_runner.running and "img composite" not in viewer.layers
    wait_done(qtbot, widget.composite_runner)
    assert widget.composite_runner.last_error is None, widget.status.value
    assert np.array_equal(viewer.layers["img composite"].data, on_the_spot)


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


def test_the_labels_box_offers_only_the_contents_labels(make_napari_viewer):
    viewer = make_napari_viewer()
    coffee = viewer.add_image(two_tone((48, 64)), name="coffee", rgb=True)
    coffee_labels = viewer.add_labels(np.zeros((48, 64), np.uint8), name="coffee labels")
    camera = viewer.add_image(two_tone((40, 56)), name="camera", rgb=True)
    widget = dock(viewer, "Composite and score")
    widget.content.value = camera
    assert widget.labels_layer.value is None and list(widget.labels_layer.choices) == []  # not the coffee's
    painted = viewer.add_labels(np.zeros((40, 56), np.uint8), name="Labels")  # painted on the camera
    assert list(widget.labels_layer.choices) == [painted] and widget.labels_layer.value is painted
    widget.content.value = coffee
    assert list(widget.labels_layer.choices) == [coffee_labels] and widget.labels_layer.value is coffee_labels


def test_the_labels_being_corrected_lie_above_the_opaque_results(make_napari_viewer):
    from napari_partial_style._napari.layers import put_labels

    viewer = make_napari_viewer()
    widget, _ = composite_scene(viewer)
    viewer.layers.move(viewer.layers.index("img labels"), 0)  # under everything, as a job left it before
    widget.composite_button.clicked()
    order = [layer.name for layer in viewer.layers]
    assert order.index("img labels") > max(order.index("img stylized"), order.index("img composite")), order

    fresh = make_napari_viewer()
    img = fresh.add_image(two_tone((48, 64)), name="img", rgb=True)
    labels = np.zeros((48, 64), np.uint8)
    labels[5:10, 5:10] = 1
    put_labels(fresh, "img labels", labels, ["cup"], img)
    fresh.add_image(np.zeros((48, 64, 3), np.uint8), name="img stylized", rgb=True)  # a result over them
    again, renamed = put_labels(fresh, "img labels", labels, ["cup"], img)  # Segment again, into the same layer
    assert not renamed and [layer.name for layer in fresh.layers] == ["img", "img stylized", "img labels"]
