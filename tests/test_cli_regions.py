"""Regions that used to come out silently wrong (issue 37): a region --grow erases, colour-coded
label images, float labels, and --style-labels with label values or --style-region."""

import pytest
from cli_inputs import run_args, write_inputs

from napari_partial_style.cli import main


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
