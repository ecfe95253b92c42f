"""--prompts on the command line: napari's Points CSV and prompt label images correct `segment`
and `run`, are kept in the bundle, and a bad prompts file is one line and exit 2."""

import numpy as np
import pytest
from cli_inputs import run_args, write_inputs

from napari_partial_style.cli import main
from napari_partial_style.core.io.bundle import read_bundle
from napari_partial_style.core.io.image_files import write_image_file


@pytest.fixture
def inputs(tmp_path):
    return write_inputs(tmp_path)


def segment_args(inputs, out, *extra):
    return [
        "segment",
        str(inputs["content"]),
        "--out",
        str(out),
        "--target",
        "cup",
        "--size",
        "48",
        "--device",
        "cpu",
        "--classifier",
        "tiny",
        "--quiet",
        *extra,
    ]


def test_segment_obeys_a_prompt_label_image_and_keeps_it_in_the_bundle(hub, inputs, tmp_path):
    plain = tmp_path / "plain.pstyle"
    assert main(segment_args(inputs, plain)) == 0
    before = read_bundle(plain).labels
    painted = np.zeros((48, 64), np.uint8)
    painted[20:28, 4:12] = 2 if before[24, 8] else 1  # the opposite of what the CRF found there
    write_image_file(tmp_path / "strokes.png", painted)
    out = tmp_path / "prompted.pstyle"
    assert main(segment_args(inputs, out, "--prompts", f"cup={tmp_path / 'strokes.png'}")) == 0
    bundle = read_bundle(out)
    flipped = bundle.labels[20:28, 4:12]
    assert (flipped == (0 if before[24, 8] else 1)).all()
    assert bundle.manifest["inputs"]["prompts"].startswith("cup=") and len(bundle.manifest["prompts"]) == 1


def test_run_takes_points_from_napari_points_csv(hub, inputs, tmp_path):
    table = tmp_path / "points.csv"
    table.write_text("index,axis-0,axis-1,sign\n0,24,8,+\n1,24,56,-\n")
    args = run_args(inputs, tmp_path / "out.pstyle", "--prompts", str(table), "--no-score", "--target", "cup")
    args.remove("--labels")
    args.remove(str(inputs["labels"]))
    assert main(args) == 0
    bundle = read_bundle(tmp_path / "out.pstyle")
    assert bundle.labels[24, 8] == 1 and bundle.labels[24, 56] == 0
    assert [p["positive"] for p in bundle.manifest["prompts"]] == [True, False]


@pytest.mark.parametrize(
    "name, text, words",
    [
        ("empty.csv", "index,axis-0,axis-1\n", "holds no points"),
        ("far.csv", "index,axis-0,axis-1\n0,500,8\n", "lies outside the image at row 500"),
        ("notes.txt", "hello", "give napari's Points CSV (.csv) or a prompt label image"),
        ("spoon.csv", "index,axis-0,axis-1\n0,4,8\n", "prompt region 'spoon' is neither a target class (cup)"),
    ],
)
def test_a_bad_prompts_file_is_one_line_and_exit_2(name, text, words, hub, inputs, tmp_path, capsys):
    (tmp_path / name).write_text(text)
    value = f"spoon={tmp_path / name}" if name == "spoon.csv" else str(tmp_path / name)
    out = tmp_path / "out.pstyle"
    assert main(segment_args(inputs, out, "--prompts", value)) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_prompts_with_given_labels_are_refused(inputs, tmp_path, capsys):
    (tmp_path / "p.csv").write_text("index,axis-0,axis-1\n0,4,8\n")
    args = run_args(inputs, tmp_path / "out.pstyle", "--prompts", str(tmp_path / "p.csv"))
    assert main(args) == 2
    assert "--prompts correct a segmentation, and --labels gives the region already" in capsys.readouterr().err
