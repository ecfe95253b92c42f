"""`sweep`: one bundle per style weight and a labelled sheet, resumable after an interruption."""

import numpy as np
import pytest
from cli_inputs import write_inputs

from napari_partial_style.cli import main
from napari_partial_style.core.io.bundle import read_bundle


@pytest.fixture
def inputs(tmp_path):
    return write_inputs(tmp_path)


def test_sweep_writes_a_labelled_tile_and_a_bundle_per_weight_and_keeps_what_exists(hub, inputs, tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "sweep"
    command = [
        "sweep",
        str(inputs["content"]),
        str(inputs["style"]),
        "--labels",
        str(inputs["labels"]),
        "--style-weight",
        "1e5",
        "1e7",
        "--out",
        str(out),
        "--steps",
        "1",
        "--fine-steps",
        "1",
        "--size",
        "48",
        "--device",
        "cpu",
        "--quiet",
    ]
    assert main(command) == 0
    sheet = np.asarray(Image.open(out / "sweep.png"))
    one = read_bundle(out / "style-weight-100000.pstyle").manifest
    ten = read_bundle(out / "style-weight-1e+07.pstyle").manifest
    assert one["parameters"]["style"]["style_weight"] == 1e5 and ten["parameters"]["style"]["style_weight"] == 1e7
    assert one["parameters"]["style"]["max_size"] == 256 and one["parameters"]["score"]["enabled"] is False
    assert sheet.shape[1] > 2 * sheet.shape[0] - 60 and sheet.shape[2] == 3  # two tiles side by side
    caption_rows = sheet[-30:]
    assert (caption_rows < 100).any()  # the captions' text
    before = (out / "sweep.png").read_bytes()
    capsys.readouterr()
    assert main(command) == 0
    assert capsys.readouterr().out.strip() == str(out / "sweep.png") and (out / "sweep.png").read_bytes() == before
    assert main([*command, "--steps", "2"]) == 2
    assert "exists from a run with other settings" in capsys.readouterr().err
    assert (out / "sweep.png").read_bytes() == before


@pytest.mark.slow  # a kill and a resume: the full run covers it
def test_an_interrupted_sweep_keeps_its_finished_bundles_and_the_same_command_finishes_it(
    hub, inputs, tmp_path, capsys, monkeypatch
):
    """SIGTERM during the second weight said "nothing was written." beside the first weight's
    bundle, and the same command was then refused because that bundle existed."""
    from napari_partial_style.api import Session

    out = tmp_path / "sweep"
    command = [
        "sweep",
        str(inputs["content"]),
        str(inputs["style"]),
        "--style-weight",
        "1e5",
        "1e7",
        "--out",
        str(out),
        "--target",
        "cup",
        "--steps",
        "1",
        "--fine-steps",
        "1",
        "--size",
        "48",
        "--device",
        "cpu",
        "--quiet",
    ]
    real_run, runs = Session.run, []

    def run_then_stop(self, *args, **kwargs):
        runs.append(args[2].style.style_weight)
        if len(runs) == 2:
            raise KeyboardInterrupt
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(Session, "run", run_then_stop)
    assert main(command) == 130
    err = capsys.readouterr().err
    assert f"the bundles of style weight 100000 are in {out}; run the same command again" in err
    first = (out / "style-weight-100000.pstyle").read_bytes()
    assert not (out / "sweep.png").exists()
    monkeypatch.setattr(
        Session, "run", lambda self, *a, **k: (runs.append(a[2].style.style_weight), real_run(self, *a, **k))[1]
    )
    assert main(command) == 0
    assert runs == [1e5, 1e7, 1e7]  # the first weight is not made again, and its region serves the second
    assert (out / "style-weight-100000.pstyle").read_bytes() == first and (out / "sweep.png").is_file()
    again = read_bundle(out / "style-weight-1e+07.pstyle")
    assert np.array_equal(again.labels > 0, read_bundle(out / "style-weight-100000.pstyle").labels > 0)


def test_a_sweep_onto_a_file_or_into_a_missing_folder_is_one_line(inputs, tmp_path, capsys):
    (tmp_path / "afile").write_text("mine")
    for out, words in ((tmp_path / "afile", "is a file; give a folder"), (tmp_path / "no" / "where", "does not exist")):
        assert (
            main(
                [
                    "sweep",
                    str(inputs["content"]),
                    str(inputs["style"]),
                    "--style-weight",
                    "1e5",
                    "1e6",
                    "--out",
                    str(out),
                ]
            )
            == 2
        )
        assert words in capsys.readouterr().err
    assert (tmp_path / "afile").read_text() == "mine"
