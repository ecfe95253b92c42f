"""Regions that used to come out silently wrong (issue 37): a region --grow erases, colour-coded
label images, float labels, and --style-labels with label values or --style-region."""

import numpy as np
import pytest
from cli_inputs import run_args, write_inputs

from napari_partial_style.cli import main
from napari_partial_style.core.io.bundle import read_bundle
from napari_partial_style.core.io.image_files import write_image_file


@pytest.fixture
def inputs(tmp_path):
    return write_inputs(tmp_path)


def fail_if_called(*args, **kwargs):
    raise AssertionError("the style transfer ran before the bad input was reported")


def refused(args, tmp_path, capsys, words: str) -> None:
    """Exit 2, `words` in one line without a traceback, nothing written."""
    assert main(args) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err, err
    assert not (tmp_path / "out.pstyle").exists()
    assert not any(p.name.startswith(".out.pstyle") for p in tmp_path.iterdir())


def test_a_grow_that_erases_the_region_is_refused_before_the_style_transfer(hub, inputs, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("napari_partial_style.api.Session.style_network", fail_if_called)
    monkeypatch.setattr("napari_partial_style.core.job.runtime.Runtime.style_network", fail_if_called)
    args = run_args(inputs, tmp_path / "out.pstyle", "--grow", "-1000", "--feather", "4")
    refused(args, tmp_path, capsys, "grow -1000 px and feather 4 px erases the whole region")
    args = run_args(inputs, tmp_path / "out.pstyle", "--grow", "-12")  # the 24×24 square's depth is 12 px
    refused(args, tmp_path, capsys, "give a grow (--grow) above -12 px")


def two_colours(shape, top, bottom) -> np.ndarray:
    """An RGB label image: colour `top` in the upper band, `bottom` in the lower, black around."""
    rgb = np.zeros((*shape, 3), np.uint8)
    h, w = shape
    rgb[h // 6 : h // 2, w // 8 : -w // 8], rgb[h // 2 + 2 : -h // 12, w // 8 : -w // 8] = top, bottom
    return rgb


RED, GREEN = (255, 0, 0), (0, 255, 0)
FAST = ("--max-size", "48", "--no-score", "--quiet")


def test_colour_coded_labels_are_a_region_per_colour(hub, inputs, tmp_path):
    """Red and green regions are labels 2 and 1 (green's colour value is the lower), not one region
    "255"; --label-values picks one of them, and --style-labels pairs colour with colour."""
    labels = two_colours((48, 64), RED, GREEN)
    write_image_file(tmp_path / "colours.png", labels)
    out = tmp_path / "red.pstyle"
    assert main(run_args(inputs, out, "--labels", str(tmp_path / "colours.png"), "--label-values", "2", *FAST)) == 0
    bundle = read_bundle(out)
    red = (labels == RED).all(axis=2)
    assert np.array_equal(bundle.labels == 1, red)  # the bundle keeps the region label 2 gave, as its one target
    assert np.array_equal(bundle.composite[~red], bundle.content[~red])
    assert not np.array_equal(bundle.composite[red], bundle.content[red])
    write_image_file(tmp_path / "style-colours.png", two_colours((40, 40), GREEN, RED))
    paired = tmp_path / "paired.pstyle"
    args = ["--labels", str(tmp_path / "colours.png"), "--style-labels", str(tmp_path / "style-colours.png")]
    assert main(run_args(inputs, paired, *args, *FAST)) == 0
    assert read_bundle(paired).manifest["style"]["regions"] == ["1", "2"]


def test_float_labels_with_whole_numbers_are_read_and_nan_is_refused_naming_the_file(hub, inputs, tmp_path, capsys):
    import tifffile

    labels = np.zeros((48, 64), np.float32)
    labels[12:36, 16:40] = 1.0
    tifffile.imwrite(tmp_path / "whole.tif", labels)
    out = tmp_path / "whole.pstyle"
    assert main(run_args(inputs, out, "--labels", str(tmp_path / "whole.tif"), *FAST)) == 0
    assert np.array_equal(read_bundle(out).labels, labels.astype(np.uint8))
    for value, words in ((np.nan, "contains NaN or infinite values"), (0.5, "float values that are not whole numbers")):
        labels[0, 0] = value
        tifffile.imwrite(tmp_path / "bad.tif", labels)
        args = run_args(inputs, tmp_path / "out.pstyle", "--labels", str(tmp_path / "bad.tif"))
        refused(args, tmp_path, capsys, f"labels ({tmp_path / 'bad.tif'}): {words}")


def test_style_labels_need_only_the_chosen_values_and_refuse_a_style_region(hub, inputs, tmp_path, capsys, monkeypatch):
    content_labels = np.zeros((48, 64), np.uint8)
    content_labels[8:24, 8:56], content_labels[28:44, 8:56] = 1, 2
    style_labels = np.zeros((40, 40), np.uint8)
    style_labels[:, :10] = 1  # no label 2: it is not being changed
    write_image_file(tmp_path / "two.png", content_labels)
    write_image_file(tmp_path / "style-labels.png", style_labels)
    paired = ["--labels", str(tmp_path / "two.png"), "--style-labels", str(tmp_path / "style-labels.png")]
    out = tmp_path / "one.pstyle"
    assert main(run_args(inputs, out, *paired, "--label-values", "1", *FAST)) == 0
    assert read_bundle(out).manifest["style"]["regions"] == ["1"]
    monkeypatch.setattr("napari_partial_style.core.job.runtime.Runtime.classifier", fail_if_called)
    args = run_args(inputs, tmp_path / "out.pstyle", *paired, "--label-values", "1", "--style-region", "auto")
    refused(args, tmp_path, capsys, "--style-labels already says where in the style image")
