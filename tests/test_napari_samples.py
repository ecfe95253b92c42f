"""The sample data (File › Open Sample) and what the docks pick from it."""

from __future__ import annotations

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari_helpers import PLUGIN, dock  # noqa: E402
from synthetic import two_tone  # noqa: E402


def test_sample_data_opens(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "coffee_labels")
    assert viewer.layers["coffee"].data.shape == (400, 600, 3)
    labels = viewer.layers["coffee labels"]
    assert labels.data.dtype == np.uint8 and labels.data.max() == 1
    viewer.open_sample(PLUGIN, "stone")
    assert viewer.layers["stone"].data.shape == (512, 512)


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


def test_a_texture_opened_after_a_photo_opens_hidden_and_leaves_the_photo_in_view(make_napari_viewer, infos):
    viewer = make_napari_viewer()
    dock(viewer, "Stylize")
    viewer.open_sample(PLUGIN, "stone")  # alone: shown
    assert viewer.layers["stone"].visible
    viewer.open_sample(PLUGIN, "coffee")
    viewer.open_sample(PLUGIN, "brick")  # over the photo: hidden, and said so once
    assert not viewer.layers["brick"].visible and viewer.layers["coffee"].visible
    assert [m for m in infos if "brick" in m] == [
        "brick opened hidden, so the photo stays in view; tick its eye to look at it."
    ]


def test_a_texture_opened_over_the_photo_before_the_dock_is_hidden_when_the_dock_opens(make_napari_viewer, infos):
    """The issue-37 walk: samples Coffee then Stone, then the all-steps dock: the stone hid the photo."""
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "coffee")
    viewer.open_sample(PLUGIN, "stone")
    assert viewer.layers["stone"].visible
    dock(viewer, "Partial style (all steps)")
    assert not viewer.layers["stone"].visible and viewer.layers["coffee"].visible
    assert len([m for m in infos if "stone" in m]) == 1
