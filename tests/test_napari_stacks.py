"""Stacks in every dock: the current slice, all slices, and small RGB images napari reads as stacks."""

from __future__ import annotations

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari_helpers import dock, segment_for_cup, wait_done  # noqa: E402
from synthetic import two_tone  # noqa: E402

from napari_partial_style._napari.common import shown  # noqa: E402


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


def test_a_3_slice_stack_gives_3_slice_output_layers(make_napari_viewer, qtbot, hub):
    """Segment, Stylize and Composite on all slices: each output keeps the stack's axes."""

    viewer = make_napari_viewer()
    frames = np.stack([two_tone((40, 56), rng=np.random.default_rng(i)) for i in range(3)])
    stack = viewer.add_image(frames, name="movie", rgb=True, scale=(1.0, 2.0, 2.0))
    style = viewer.add_image(two_tone((32, 32), rng=np.random.default_rng(7)), name="style", rgb=True)
    segment = segment_for_cup(viewer, stack, size=48)
    assert shown(segment.slices)
    segment.slices.value = "all slices"
    viewer.dims.set_current_step(0, 0)  # the region is followed from the slice shown (napari opens the middle one)
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
    stylize._on_event = lambda layer, name, event: (
        stages.append(event.stage),
        on_event(layer, name, event),
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
