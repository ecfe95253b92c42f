"""The Stylize dock: previews, styles per label, style masks, blends and sweeps, runs kept
side by side, Cancel and errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from scipy import ndimage as ndi

napari = pytest.importorskip("napari")

from napari_helpers import TIMEOUT_MS, composite_scene, dock, small_scene, wait_done  # noqa: E402
from synthetic import two_tone  # noqa: E402

from napari_partial_style._napari.common import shown  # noqa: E402


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


def test_previews_lie_over_the_photo_at_their_working_size_and_the_result_at_full_size(
    make_napari_viewer, qtbot, hub, monkeypatch
):
    """A preview is shown as it was made (a 24 Mpx one, resized to the photo, cost napari 0.3-0.6 s
    of texture upload a preview), its layer's scale and translate lay it pixel for pixel over the
    photo (scaled, shifted, rotated and under an affine here); the result is full size, on the photo."""
    from napari_partial_style.core import images

    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    widget = dock(viewer, "Stylize")
    widget.content.value, widget.style.value = img, style
    widget.form["session.size"].value, widget.form["style.steps"].value, widget.preview_every.value = 48, 6, 2
    widget.form["style.fine_steps"].value = 1
    resized_on, resize = [], images.resize_rgb
    monkeypatch.setattr(images, "resize_rgb", lambda *a: (resized_on.append(threading.current_thread()), resize(*a))[1])
    shown_previews, on_event = [], widget._on_event

    def corners(layer):
        h, w = layer.data.shape[:2]
        return np.array([layer.data_to_world(p) for p in [(-0.5, -0.5), (-0.5, w - 0.5), (h - 0.5, -0.5)]])

    def seen(layer, name, event, *rest):
        on_event(layer, name, event, *rest)
        if event.preview is not None:
            preview = viewer.layers[name]
            shown_previews.append((preview.data.shape, preview.data.dtype, corners(preview)))

    widget._on_event = seen
    widget.run.clicked()
    wait_done(qtbot, widget.runner)
    assert widget.runner.last_error is None, widget.status.value
    assert shown_previews[0][:2] == ((32, 48, 3), np.uint8)  # the working size: 48 px wide
    for _, _, where in shown_previews:
        np.testing.assert_allclose(where, corners(img), atol=1e-6)  # its edges on the photo's
    assert threading.main_thread() not in resized_on
    result = viewer.layers["img stylized"]
    assert result.data.shape == (64, 96, 3)
    np.testing.assert_allclose(corners(result), corners(img), atol=1e-9)
    np.testing.assert_allclose(result.scale, img.scale)


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
