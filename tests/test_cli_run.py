"""`run` on one content end to end: styles per region, blends, style masks and labels, standard
input, --save-image, realism and smoothing."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from cli_inputs import run_args, write_inputs

from napari_partial_style.cli import main
from napari_partial_style.core.io.bundle import read_bundle
from napari_partial_style.core.io.image_files import read_image_file, write_image_file


@pytest.fixture
def inputs(tmp_path):
    return write_inputs(tmp_path)


@pytest.mark.slow
def test_run_end_to_end_in_a_subprocess(hub, inputs, tmp_path):
    out = tmp_path / "job.pstyle"
    env = {**os.environ, "TORCH_HOME": str(hub)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "napari_partial_style",
            *run_args(inputs, out, "--feather", "4", "--steps", "8", "--max-size", "48", "--classifier", "imagenet"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "style: about" in proc.stderr and "8/8" in proc.stderr
    bundle = read_bundle(out)
    content = read_image_file(inputs["content"])
    assert bundle.composite.shape == content.shape and bundle.composite.dtype == np.uint8
    assert bundle.stylized.shape == content.shape
    far = np.ones((48, 64), bool)
    far[6:42, 10:46] = False
    assert np.array_equal(bundle.composite[far], content[far])
    assert not np.array_equal(bundle.composite[20:28, 24:32], content[20:28, 24:32])
    manifest = bundle.manifest
    assert manifest["device"] == "cpu" and manifest["size"] == 48
    assert manifest["parameters"]["style"]["steps"] == 8 and manifest["parameters"]["composite"]["feather"] == 4.0
    assert set(manifest["timings_s"]) == {"weights", "load classifier", "style", "composite", "score"}
    assert manifest["targets"] == ["target"] and len(manifest["classifier_classes"]) == 1000
    assert bundle.preview.shape[2] == 3
    scores = bundle.scores
    assert 0 <= scores["pixel_accuracy"] <= 1 and 0 <= scores["mean_iu"] <= 1
    assert scores["expected_class"] in manifest["classifier_classes"]
    assert scores["class_set"][0] == scores["expected_class"]
    assert manifest["scores"]["mean_iu"] == scores["mean_iu"]


@pytest.mark.slow
def test_run_without_labels_with_a_material_checkpoint(hub, material_checkpoint, inputs, tmp_path):
    out = tmp_path / "mat.pstyle"
    args = [
        "run",
        str(inputs["content"]),
        str(inputs["style"]),
        "--out",
        str(out),
        "--classifier",
        str(material_checkpoint),
        "--target",
        "leather",
        "--expect",
        "metal",
        "--crf",
        "none",
        "--steps",
        "2",
        "--fine-steps",
        "1",
        "--scales",
        "1",
        "--size",
        "48",
        "--device",
        "cpu",
        "--quiet",
    ]
    assert main(args) == 0
    bundle = read_bundle(out)
    manifest = bundle.manifest
    assert manifest["classifier_classes"] == ["leather", "metal", "wood"] and manifest["targets"] == ["leather"]
    assert bundle.scores["expected_class"] == "metal" and bundle.scores["class_set"] == ["metal", "leather"]
    changed = np.any(bundle.composite != bundle.content, axis=2)
    assert not changed[bundle.labels == 0].any()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--style", "=stone.jpg"], "--style '=stone.jpg' is not [REGION=]STYLE"),
        (["--style", "cup="], "--style 'cup=' is not [REGION=]STYLE"),
        ([], "give a content image and a style image"),
    ],
)
def test_region_styles_are_checked_before_any_work(inputs, tmp_path, capsys, extra, message):
    out = tmp_path / "out.pstyle"
    assert main(["run", str(inputs["content"]), *extra, "--out", str(out), "--device", "cpu"]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_a_style_per_region_from_the_command_line(hub, inputs, tmp_path):
    out = tmp_path / "two.pstyle"
    assert (
        main(
            [
                "run",
                str(inputs["content"]),
                "--style",
                f"1={inputs['style']}",
                "--labels",
                str(inputs["labels"]),
                "--out",
                str(out),
                "--steps",
                "2",
                "--size",
                "48",
                "--max-size",
                "48",
                "--device",
                "cpu",
                "--no-score",
                "--quiet",
            ]
        )
        == 0
    )
    manifest = read_bundle(out).manifest
    assert manifest["style"]["regions"] == ["1"] and manifest["inputs"]["style"] == f"1={inputs['style']}"


def test_styles_of_one_region_are_blended_by_weight(hub, inputs, tmp_path, capsys):
    out = tmp_path / "blend.pstyle"
    common = [
        "--labels",
        str(inputs["labels"]),
        "--steps",
        "1",
        "--size",
        "48",
        "--max-size",
        "48",
        "--device",
        "cpu",
        "--no-score",
        "--quiet",
    ]
    assert (
        main(
            [
                "run",
                str(inputs["content"]),
                "--style",
                str(inputs["style"]),
                "--style",
                str(inputs["content"]),
                "--style-blend",
                "0.7",
                "0.3",
                "--out",
                str(out),
                *common,
            ]
        )
        == 0
    )
    assert read_bundle(out).manifest["inputs"]["style"] == f"{inputs['style']} (0.7), {inputs['content']} (0.3)"
    capsys.readouterr()
    assert (
        main(
            [
                "run",
                str(inputs["content"]),
                "--style",
                str(inputs["style"]),
                "--style",
                str(inputs["content"]),
                "--style-blend",
                "1",
                "--out",
                str(tmp_path / "x.pstyle"),
                *common,
            ]
        )
        == 2
    )
    assert "1 weights for 2 --style images" in capsys.readouterr().err
    assert (
        main(
            [
                "run",
                str(inputs["content"]),
                "--style",
                str(inputs["style"]),
                "--style",
                f"1={inputs['style']}",
                "--out",
                str(tmp_path / "x.pstyle"),
                *common,
            ]
        )
        == 2
    )
    assert "cannot be mixed" in capsys.readouterr().err and not (tmp_path / "x.pstyle").exists()


def test_a_style_mask_limits_the_style_and_is_checked_first(hub, inputs, tmp_path, capsys):
    """--style-mask: the style's statistics from its nonzero pixels, recorded; a mask of the wrong
    size, an empty one or a count that does not match the styles is one line, and nothing is written."""
    from napari_partial_style.core.io.image_files import write_image_file

    half = np.zeros((40, 40), np.uint8)
    half[:, :20] = 255
    write_image_file(tmp_path / "half.png", half)
    write_image_file(tmp_path / "empty.png", np.zeros((40, 40), np.uint8))
    out = tmp_path / "masked.pstyle"
    assert (
        main(
            [
                *run_args(
                    inputs, out, "--style-mask", str(tmp_path / "half.png"), "--max-size", "48", "--no-score", "--quiet"
                )
            ]
        )
        == 0
    )
    manifest = read_bundle(out).manifest
    assert manifest["style"]["style_regions"] == [[{"class": None, "coverage": 0.5}]]
    assert manifest["inputs"]["style_masks"] == str(tmp_path / "half.png")
    for extra, message in [
        (["--style-mask", str(inputs["labels"])], "differs from the style image's 40×40"),
        (["--style-mask", str(tmp_path / "empty.png")], "no pixel is in it"),
        (["--style-mask", str(tmp_path / "half.png")] * 2, "2 --style-mask for 1 style image"),
    ]:
        capsys.readouterr()
        bad = tmp_path / "bad.pstyle"
        assert main(run_args(inputs, bad, *extra)) == 2
        assert message in capsys.readouterr().err and not bad.exists()


def test_an_unknown_style_region_class_is_named_before_any_work(inputs, tmp_path, capsys):
    out = tmp_path / "x.pstyle"
    assert main(run_args(inputs, out, "--style-region", "cupp")) == 2
    err = capsys.readouterr().err
    assert "cupp" in err and "cup" in err.replace("cupp", "") and "Traceback" not in err and not out.exists()


def test_target_with_labels_is_refused_not_ignored(inputs, tmp_path, capsys):
    """--labels gives the region, so a --target (or --subtract) would be silently unused."""
    assert main(run_args(inputs, tmp_path / "out.pstyle", "--target", "cup")) == 2
    assert "--target and --subtract choose what segmentation finds, but --labels" in capsys.readouterr().err
    assert not (tmp_path / "out.pstyle").exists()


def test_save_image_writes_the_composite_alone_and_is_checked_first(hub, inputs, tmp_path, capsys):
    out, picture = tmp_path / "x.pstyle", tmp_path / "x.png"
    assert main(run_args(inputs, tmp_path / "x.png", "--no-score")) == 2
    assert "for the picture alone, add --save-image x.png" in capsys.readouterr().err
    for bad, says in (("x.jpg", "written as .png; name it x.png"), ("nodir/x.png", "does not exist")):
        assert main(run_args(inputs, out, "--no-score", "--save-image", str(tmp_path / bad))) == 2
        assert says in capsys.readouterr().err and not out.exists()
    assert main(run_args(inputs, out, "--no-score", "--save-image", str(picture))) == 0
    assert np.array_equal(read_image_file(picture), read_bundle(out).composite)
    capsys.readouterr()
    assert main(run_args(inputs, tmp_path / "y.pstyle", "--no-score", "--save-image", str(picture))) == 2
    err = capsys.readouterr().err
    assert f"--save-image {picture} exists; pass --overwrite" in err and not (tmp_path / "y.pstyle").exists()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_content_piped_into_standard_input_is_read_once_and_not_from_a_terminal(
    hub, inputs, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "piped.pstyle"
    piped = run_args(inputs, out, "--no-score")
    piped[1] = "-"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(inputs["content"].read_bytes())))
    assert main(piped) == 0
    assert np.array_equal(read_bundle(out).content, read_image_file(inputs["content"]))
    refused = run_args(inputs, tmp_path / "no.pstyle", "--no-score")
    refused[1] = "-"
    cases = [
        (io.TextIOWrapper(io.BytesIO(b"")), refused, "standard input is empty"),
        (Terminal(), refused, "nothing is piped in"),
        (io.TextIOWrapper(io.BytesIO(b"x")), [*refused, "--style-mask", "-"], "given 2 times"),
        (io.TextIOWrapper(io.BytesIO(b"x")), ["run", "-", str(inputs["content"]), *refused[2:]], "a batch reads files"),
    ]
    for stdin, args, says in cases:
        monkeypatch.setattr(sys, "stdin", stdin)
        assert main(args) == 2
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err and not (tmp_path / "no.pstyle").exists()


def test_style_labels_pair_the_styles_parts_with_the_contents_labels_and_refuse_what_cannot_pair(
    hub, inputs, tmp_path, capsys
):
    content_labels = np.zeros((48, 64), np.uint8)
    content_labels[8:24, 8:56], content_labels[28:44, 8:56] = 1, 2
    style_labels = np.zeros((40, 40), np.uint8)
    style_labels[:, :10], style_labels[:, 10:] = 1, 2
    for name, array in (("two.png", content_labels), ("style-labels.png", style_labels)):
        write_image_file(tmp_path / name, array)
    out = tmp_path / "paired.pstyle"
    paired = ["--labels", str(tmp_path / "two.png"), "--style-labels", str(tmp_path / "style-labels.png")]
    assert main(run_args(inputs, out, *paired, "--max-size", "48", "--no-score", "--quiet")) == 0
    manifest = read_bundle(out).manifest
    assert manifest["style"]["regions"] == ["1", "2"]
    assert manifest["style"]["style_regions"] == [
        [{"class": None, "coverage": 0.25}],
        [{"class": None, "coverage": 0.75}],
    ]
    assert manifest["inputs"]["style_labels"] == str(tmp_path / "style-labels.png")
    style_labels[style_labels == 2] = 0
    write_image_file(tmp_path / "style-labels.png", style_labels)
    bad = tmp_path / "bad.pstyle"
    unlabelled = [a for a in run_args(inputs, bad, *paired[2:]) if a not in ("--labels", str(inputs["labels"]))]
    for args, message in [
        (run_args(inputs, bad, *paired), "content label 2 has no pixel in the --style-labels"),
        ([*run_args(inputs, bad, *paired), "--style-mask", str(tmp_path / "style-labels.png")], "drop --style-mask"),
        (unlabelled, "--labels MASK with the same"),
        (["run", str(inputs["content"]), *run_args(inputs, bad, *paired)[1:]], "one content at a time"),
    ]:
        assert main(args) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and not bad.exists()


def test_realism_and_smoothing_from_the_command_line_are_recorded_and_keep_the_outside(hub, inputs, tmp_path):
    out = tmp_path / "photo.pstyle"
    assert main(run_args(inputs, out, "--realism", "100", "--smooth", "2", "--no-score", "--quiet")) == 0
    bundle = read_bundle(out)
    parameters = bundle.manifest["parameters"]
    assert parameters["style"]["realism"] == 100 and parameters["composite"]["smooth"] == 2
    outside = read_image_file(inputs["labels"]) == 0
    assert np.array_equal(bundle.composite[outside], bundle.content[outside])
    assert not np.array_equal(bundle.composite[~outside], bundle.content[~outside])
