"""The command line end to end, with random-weight checkpoints (no download, no accuracy claim)."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from synthetic import two_tone

from napari_partial_style.cli import build_parser, main
from napari_partial_style.core.io.bundle import read_bundle
from napari_partial_style.core.io.image_files import read_image_file, write_image_file


@pytest.fixture
def inputs(tmp_path):
    content = two_tone((48, 64))
    labels = np.zeros((48, 64), np.uint8)
    labels[12:36, 16:40] = 1
    paths = {"content": tmp_path / "content.png", "style": tmp_path / "style.png", "labels": tmp_path / "mask.png"}
    write_image_file(paths["content"], content)
    write_image_file(paths["style"], two_tone((40, 40), rng=np.random.default_rng(7))[:, ::-1])
    write_image_file(paths["labels"], labels)
    return paths


def run_args(inputs, out, *extra):
    """A small job on the tiny classifier; `extra` flags come last, so they win."""
    return [
        "run",
        str(inputs["content"]),
        str(inputs["style"]),
        "--labels",
        str(inputs["labels"]),
        "--out",
        str(out),
        "--steps",
        "3",
        "--fine-steps",
        "1",
        "--size",
        "48",
        "--device",
        "cpu",
        "--classifier",
        "tiny",
        *extra,
    ]


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


def test_demo_with_bundled_labels(hub, tmp_path, capsys):
    out = tmp_path / "demo.pstyle"
    assert (
        main(
            [
                "demo",
                "--labels",
                "--out",
                str(out),
                "--size",
                "64",
                "--steps",
                "2",
                "--fine-steps",
                "1",
                "--no-score",
                "--quiet",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == str(out)
    bundle = read_bundle(out)
    assert bundle.composite.shape == (400, 600, 3)
    assert bundle.labels.sum() > 10_000
    manifest = bundle.manifest
    assert manifest["inputs"]["content"] == "skimage.data.coffee" and manifest["classifier_classes"] is None
    assert bundle.scores is None


def test_demo_segments_the_cup_automatically(hub, tmp_path):
    out = tmp_path / "demo.pstyle"
    assert (
        main(
            [
                "demo",
                "--out",
                str(out),
                "--size",
                "64",
                "--steps",
                "2",
                "--fine-steps",
                "1",
                "--no-score",
                "--crf",
                "none",
                "--classifier",
                "tiny",
                "--quiet",
            ]
        )
        == 0
    )
    bundle = read_bundle(out)
    assert bundle.manifest["targets"] == ["cup"]
    assert bundle.saliency.shape == (1, 400, 600) and bundle.labels.shape == (400, 600)
    assert bundle.crf_probabilities.shape == (2, 400, 600)
    changed = np.any(bundle.composite != bundle.content, axis=2)
    assert changed.any() and not changed[bundle.labels == 0].any()


def test_segment_end_to_end(hub, tmp_path):
    from napari_partial_style import samples

    image = tmp_path / "coffee.png"
    write_image_file(image, samples.coffee()[::4, ::4])
    out = tmp_path / "seg.pstyle"
    assert (
        main(
            [
                "segment",
                str(image),
                "--out",
                str(out),
                "--target",
                "cup",
                "espresso",
                "--size",
                "96",
                "--device",
                "cpu",
                "--classifier",
                "tiny",
                "--quiet",
            ]
        )
        == 0
    )
    bundle = read_bundle(out)
    assert bundle.manifest["targets"] == ["cup", "espresso"]
    assert bundle.saliency.shape == (2, 100, 150) and bundle.saliency.dtype == np.float32
    assert 0 < bundle.saliency.min() and bundle.saliency.max() <= 1
    assert bundle.labels.dtype == np.uint8 and bundle.labels.max() <= 2
    assert bundle.crf_probabilities.shape == (3, 100, 150)
    assert np.allclose(bundle.crf_probabilities.sum(axis=0), 1, atol=1e-3)
    assert bundle.composite is None and bundle.stylized is None
    assert set(bundle.manifest["class_scores"]) == {"cup", "espresso"}


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


def test_demo_offline_without_weights_says_what_to_download(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    monkeypatch.setenv("NAPARI_PARTIAL_STYLE_OFFLINE", "1")
    assert main(["demo", "--out", str(tmp_path / "d.pstyle")]) == 2
    err = capsys.readouterr().err
    assert "vgg19-dcbb9e9d.pth" in err and "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth" in err
    assert "Traceback" not in err
    assert not (tmp_path / "d.pstyle").exists()


def png_claiming(path, width, height):
    """A tiny PNG whose header claims width×height (valid CRC): only a header check can refuse it
    without trying to decode 20000² pixels."""
    import zlib

    write_image_file(path, np.zeros((40, 40, 3), np.uint8))
    data = bytearray(path.read_bytes())
    ihdr = data[12:29]  # b"IHDR" + 13 bytes
    ihdr[4:8], ihdr[8:12] = width.to_bytes(4, "big"), height.to_bytes(4, "big")
    data[12:29] = ihdr
    data[29:33] = zlib.crc32(bytes(ihdr)).to_bytes(4, "big")
    path.write_bytes(bytes(data))
    return path


def fail_if_called(*args, **kwargs):
    raise AssertionError("the style transfer ran before a bad option was reported")


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("not_an_image", "cannot be read as an image: it is a text file"),
        ("missing_file", "no such file"),
        ("mask_shape", "differs"),
        ("empty_mask", "no pixel"),
        ("tiny", "too small"),
        ("bad_device", "device"),
        ("corrupt_weights", "is a text file, not torchvision's VGG19 weights"),
        ("folder_as_input", "a batch (several contents, a folder or a pattern) takes a folder of masks"),
        ("two_channel_tiff", "2 values that are not marked as gray and alpha"),
        ("animated_gif", "animated or multi-page GIF with 3 frames"),
        ("text_as_classifier", "is a text file, not a classifier checkpoint"),
        ("folder_as_classifier", "is a folder, not a classifier checkpoint"),
        ("huge_png_header", "above the limit of 100 Mpx"),
        ("over_max_pixels", "--max-pixels 3072"),
        ("unknown_expect", "'unicornz' is not one of the classifier's 1000 classes"),
        ("unknown_class", "Close matches: cup"),
        ("no_class_above_threshold", "top scorers"),
        ("checkpoint_format", "is not a napari-partial-style classifier checkpoint"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(case, words, hub, inputs, tmp_path, capsys, monkeypatch):
    args = run_args(inputs, tmp_path / "out.pstyle")
    if case == "not_an_image":
        (tmp_path / "notes.png").write_text("hello")
        args[1] = str(tmp_path / "notes.png")
    elif case == "missing_file":
        args[2] = str(tmp_path / "nope.jpg")
    elif case == "mask_shape":
        write_image_file(inputs["labels"], np.ones((40, 64), np.uint8))
    elif case == "empty_mask":
        write_image_file(inputs["labels"], np.zeros((48, 64), np.uint8))
    elif case == "tiny":
        write_image_file(inputs["style"], np.zeros((16, 16, 3), np.uint8))
    elif case == "bad_device":
        args[args.index("cpu")] = "tpu"
    elif case == "corrupt_weights":
        (tmp_path / "broken.pth").write_text("garbage")
        args += ["--vgg19", str(tmp_path / "broken.pth")]
    elif case == "unknown_class":
        args.remove("--labels")
        args.remove(str(inputs["labels"]))
        args += ["--target", "cupp"]
    elif case == "no_class_above_threshold":
        args.remove("--labels")
        args.remove(str(inputs["labels"]))
        args += ["--threshold", "0.99"]
    elif case == "folder_as_input":
        args[1] = str(tmp_path)
    elif case == "two_channel_tiff":
        import tifffile

        tifffile.imwrite(tmp_path / "two.tif", np.zeros((48, 64, 2), np.uint8))
        args[1] = str(tmp_path / "two.tif")
    elif case == "animated_gif":
        from PIL import Image

        frames = [Image.new("RGB", (64, 48), (i * 80, 0, 0)) for i in range(3)]
        frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
        args[2] = str(tmp_path / "anim.gif")
    elif case == "text_as_classifier":
        (tmp_path / "notes.txt").write_text("not weights")
        args += ["--classifier", str(tmp_path / "notes.txt")]
    elif case == "folder_as_classifier":
        args += ["--classifier", str(tmp_path)]
    elif case == "huge_png_header":
        args[1] = str(png_claiming(tmp_path / "huge.png", 20000, 20000))
    elif case == "over_max_pixels":
        args += ["--max-pixels", "1000"]
    elif case == "unknown_expect":
        monkeypatch.setattr("napari_partial_style.api.Session.style_network", fail_if_called)
        args += ["--expect", "unicornz"]
    elif case == "checkpoint_format":
        import torch

        torch.save({"format": "something else", "state_dict": {}}, tmp_path / "other.pt")
        args += ["--classifier", str(tmp_path / "other.pt")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "out.pstyle").exists()
    assert not any(p.name.startswith(".out.pstyle") for p in tmp_path.iterdir())


def test_existing_output_needs_overwrite(hub, inputs, tmp_path, capsys):
    out = tmp_path / "out.pstyle"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    assert main(run_args(inputs, out)) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "manifest.json").read_text() == "{}"


def test_weights_command_lists_files_and_state(hub, tmp_path, monkeypatch, capsys):
    assert main(["weights"]) == 0
    out = capsys.readouterr().out
    assert out.count("found: " + str(hub)) == 2
    assert out.count("not torchvision's") == 2  # the tests' random weights: PyTorch files, other sha256
    (tmp_path / "text.png").write_text("not weights")
    assert main(["weights", "--vgg19", str(tmp_path / "text.png")]) == 1
    assert "but it is a text file, not PyTorch weights" in capsys.readouterr().out
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    assert main(["weights"]) == 0
    out = capsys.readouterr().out
    assert out.count("missing") == 2
    assert "curl -L -o" in out and "https://download.pytorch.org/models/vgg16-397923af.pth" in out


@pytest.mark.parametrize(
    "option", ["--style-weight", "--content-weight", "--tv-weight", "--feather", "--bg-alpha", "--threshold"]
)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_numbers_are_refused_before_any_work(option, value, inputs, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(run_args(inputs, tmp_path / "out.pstyle", f"{option}={value}"))
    assert stop.value.code == 2
    assert f"{option}: must be a finite number, not {value}" in capsys.readouterr().err


def test_non_finite_parameters_are_refused_by_the_library_too():
    from napari_partial_style.core.errors import InputError
    from napari_partial_style.core.params import CompositeParams, CRFParams, StyleParams

    for make in (
        lambda: StyleParams(style_weight=float("nan")),
        lambda: CRFParams(background_alpha=float("inf")),
        lambda: CompositeParams(feather=float("nan")),
        lambda: CRFParams(gaussian=(3.0, float("nan"))),
    ):
        with pytest.raises(InputError, match="must be a finite number"):
            make()


def test_out_of_range_options_are_refused_with_their_flag_and_bounds(inputs, tmp_path, capsys):
    assert main(run_args(inputs, tmp_path / "out.pstyle", "--content-weight", "3e38")) == 2
    assert "error: content-weight must be at most 1e+12, not 3e+38." in capsys.readouterr().err
    assert not (tmp_path / "out.pstyle").exists()


def test_a_loss_that_overflows_mid_run_stops_with_a_line_of_its_own():
    """Features that overflow float32 make the loss non-finite during the run: the loop stops
    with a message naming the step and the fix, not NaNs carried to the end."""
    from napari_partial_style.core.errors import InputError
    from napari_partial_style.core.params import StyleParams
    from napari_partial_style.core.progress import drain
    from napari_partial_style.core.style.objectives.gatys import TAPS
    from napari_partial_style.core.style.transfer import LevelRequest, optimise, style_stats

    def exploding(x):
        return {name: x * 1e30 for name in TAPS}

    rgb = np.random.default_rng(0).random((8, 8, 3), dtype=np.float32)
    cpu = torch.device("cpu")
    targets = [(style_stats(exploding, [(rgb[::-1].copy(), 1.0, None)], StyleParams(), cpu), None)]
    with pytest.raises(InputError, match="the style loss became (nan|inf) at step 1.*lower --style-weight"):
        drain(optimise(LevelRequest(exploding, rgb, targets, StyleParams(), cpu, 3)))


def test_repeated_class_flags_accumulate():
    args = build_parser().parse_args(
        [
            "segment",
            "a.png",
            "--out",
            "a.pstyle",
            "--target",
            "cup",
            "--target",
            "plate",
            "spoon",
            "--subtract",
            "table",
            "--subtract",
            "bowl",
        ]
    )
    assert args.segment__saliency__targets == ["cup", "plate", "spoon"]
    assert args.segment__saliency__subtract == ["table", "bowl"]


def test_the_estimate_waits_for_a_few_steps(monkeypatch):
    import io

    from napari_partial_style import _terminal
    from napari_partial_style.core.progress import Progress

    clock = iter([0.0, 2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6])  # a slow first step, then 0.1 s a step
    monkeypatch.setattr(_terminal.time, "perf_counter", lambda: next(clock))
    stream = io.StringIO()
    printer = _terminal.ProgressPrinter(stream=stream)
    for step in range(1, 8):
        printer(Progress("style", step, 100))
        if step < 6:
            assert "about" not in stream.getvalue()
    assert "style: about 9.9s for 100 steps (0.1 s a step over steps 2-6)" in stream.getvalue()


def test_the_estimate_weighs_finer_levels_by_their_pixels_and_is_told_again_there():
    """A pyramid: 10 steps of 1 unit (pixels) at 0.1 s, then 5 steps of 4 units at 0.6 s. Counting
    steps would say the last 5 take 0.5 s; weighed by pixels, 2.0 s; measured there, 3.0 s."""
    from napari_partial_style import _terminal
    from napari_partial_style.core.progress import Estimator, Progress

    times = [1.0 + 0.1 * k for k in range(10)] + [2.9 + 0.6 * k for k in range(5)]
    events = [
        Progress(
            "style",
            k,
            15,
            message="level 2/2 at 600 px" if k > 10 else "",
            work=(float(min(k, 10) + 4 * max(0, k - 10)), 30.0),
        )
        for k in range(1, 16)
    ]
    estimator, told = Estimator(), {}
    estimator.started = 0.0
    for event, now in zip(events, times):
        if (estimate := estimator.update(event, now)) is not None:
            told[event.step] = estimate
        if event.step == 10:
            assert estimator.left(event) == pytest.approx(0.1 * 20)
    assert sorted(told) == [6, 13]  # after 5 steps of the first level, after 1 s of the second
    assert (told[6].total, told[6].per_step, told[6].first, told[6].again) == (
        pytest.approx(1.5 + 2.4),
        pytest.approx(0.1),
        2,
        False,
    )
    assert (told[13].left, told[13].per_step, told[13].first, told[13].again) == (
        pytest.approx(1.2),
        pytest.approx(0.6),
        12,
        True,
    )
    assert estimator.left(events[-1]) == 0
    assert (
        _terminal._estimate_line(events[12], told[13])
        == "style: about 1.2s left, 5.3s in all (0.6 s a step over steps 12-13, level 2/2 at 600 px)"
    )


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


def test_version_and_the_short_output_flag(inputs, tmp_path, capsys):
    from napari_partial_style import __version__

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"napari-partial-style {__version__}"
    args = build_parser().parse_args(["segment", str(inputs["content"]), "-o", str(tmp_path / "s.pstyle")])
    assert args.out == str(tmp_path / "s.pstyle")


def test_target_with_labels_is_refused_not_ignored(inputs, tmp_path, capsys):
    """--labels gives the region, so a --target (or --subtract) would be silently unused."""
    assert main(run_args(inputs, tmp_path / "out.pstyle", "--target", "cup")) == 2
    assert "--target and --subtract choose what segmentation finds, but --labels" in capsys.readouterr().err
    assert not (tmp_path / "out.pstyle").exists()


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--classes", "brick,Brick,stone"], "--classes names Brick, brick more than once"),
        (["--resume", "--overwrite"], "--resume continues the run of --out and --overwrite starts it afresh"),
    ],
)
def test_train_refuses_flags_that_contradict_or_repeat(tmp_path, capsys, extra, words):
    assert main(["train", str(tmp_path), "--out", str(tmp_path / "m.pt"), *extra]) == 2
    assert words in capsys.readouterr().err and not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize("extra", [["--scheduler", "tcp://localhost:8786"], ["--workers", "2"]])
def test_batch_only_flags_on_a_single_run_are_refused_not_ignored(inputs, tmp_path, capsys, extra):
    assert main(run_args(inputs, tmp_path / "out.pstyle", *extra)) == 2
    assert "--workers and --scheduler spread a batch" in capsys.readouterr().err


HOLDER = """
import sys, time
from napari_partial_style.core.io.claim import claimed
with claimed(sys.argv[1]):
    print("holding", flush=True)
    time.sleep(60)
"""


def test_a_second_writer_of_the_same_output_is_refused_and_a_killed_ones_claim_is_gone(inputs, tmp_path, capsys):
    """Two `run`s on one --out: both used to say "wrote" and one result was lost."""
    out = tmp_path / "out.pstyle"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        assert main(run_args(inputs, out)) == 2
        err = capsys.readouterr().err
        assert f"{out} is being written by process {holder.pid} on " in err and "choose another output" in err
    finally:
        holder.kill()
        holder.wait()
    assert main(run_args(inputs, out, "--no-score", "--style-network", "tiny")) == 0  # the killed holder's claim went
    assert out.is_file()


def test_bad_options_are_refused_before_torch_is_imported(inputs, tmp_path):
    """`run ... --steps 0` imported torch (6.7 s on a cold disk) before saying steps must be at least 1."""
    script = (
        "import sys; from napari_partial_style.cli import main; "
        f"code = main(['run', {str(inputs['content'])!r}, {str(inputs['style'])!r}, '--steps', '0', "
        f"'--out', {str(tmp_path / 'x.pstyle')!r}]); print(code, 'torch' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["2", "False"], proc.stdout + proc.stderr
    assert "steps must be at least 1, not 0" in proc.stderr


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


def test_an_interrupt_that_a_library_swallowed_still_stops_the_job_with_nothing_written(
    hub, inputs, tmp_path, monkeypatch, capsys
):
    """A Ctrl-C caught by a bare `except:` (around an import, say) let the job run on and write its
    bundle (1 of 46 early interrupts)."""
    import signal

    from napari_partial_style import api

    real_record = api.record_of

    def swallowing(*args, **kwargs):
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            pass
        return real_record(*args, **kwargs)

    monkeypatch.setattr(api, "record_of", swallowing)
    out = tmp_path / "x.pstyle"
    assert main(run_args(inputs, out)) == 130
    assert "interrupted; nothing was written" in capsys.readouterr().err and not out.exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back for the rest of the process


@pytest.mark.slow
def test_ctrl_c_at_any_moment_exits_130_without_a_traceback_or_a_result(hub, inputs, tmp_path):
    """Once a bare traceback at 0.33 s (before the command's own handling began). The moments are
    counted from when our first module has been imported: a Ctrl-C before that lands in Python's
    own start-up (importing runpy), which no program can handle, and on a loaded machine that
    start-up takes longer than the shortest delay."""
    import signal
    import threading
    import time

    for delay in (0.0, 0.03, 0.08, 0.15, 0.3, 0.6, 1.2, 2.4):
        out = tmp_path / f"after-{delay}.pstyle"
        job = [*run_args(inputs, out, "--no-score")]
        del job[
            job.index("--classifier") : job.index("--classifier") + 2
        ]  # the entry point as installed: no tiny sources
        child = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "napari_partial_style", *job],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        lines: list[str] = []
        ours = threading.Event()

        def read(stream=child.stderr, lines=lines, ours=ours) -> None:
            for line in stream:
                lines.append(line)
                if "napari_partial_style._entry" in line:
                    ours.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert ours.wait(60), "".join(lines)
        time.sleep(delay)
        child.send_signal(signal.SIGINT)
        child.wait(timeout=60)
        reader.join(10)
        err = "".join(line for line in lines if not line.startswith("import time:"))
        assert "Traceback" not in err, (delay, err)
        if child.returncode != 0:  # it may have finished first
            assert child.returncode == 130 and "interrupted" in err and not out.exists(), (delay, child.returncode, err)


def test_progress_into_a_log_is_plain_lines_and_on_a_terminal_fits_its_width(monkeypatch):
    """`\\r` bars 79 columns wide were written into log files."""
    import io
    import os

    from napari_partial_style import _terminal
    from napari_partial_style.core.progress import Progress

    clock = iter(float(t) for t in range(0, 1000, 10))  # 10 s a step
    monkeypatch.setattr(_terminal.time, "perf_counter", lambda: next(clock))
    log = io.StringIO()
    printer = _terminal.ProgressPrinter(stream=log)
    for step in range(1, 11):
        printer(Progress("style", step, 10))
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and 3 <= len(lines) <= 5, lines  # every 30 s, and the end
    assert lines[-1].startswith("style: 10/10")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(_terminal.shutil, "get_terminal_size", lambda: os.terminal_size((50, 20)))
    screen = Terminal()
    _terminal.ProgressPrinter(stream=screen)(Progress("segment", 1, 3, message="a long message " * 10))
    assert screen.getvalue().startswith("\rsegment") and len(screen.getvalue()) == 1 + 49


def test_a_batch_takes_its_one_style_from_style_too(inputs, tmp_path, monkeypatch, capsys):
    """`--style s.png` (no REGION=) was refused with a message about REGION=STYLE."""
    from napari_partial_style.batch import runner
    from napari_partial_style.core.errors import InputError

    def reached(contents, style, *args):
        raise InputError(f"batch of {len(contents)} with style {style}")

    monkeypatch.setattr(runner, "batch_steps", reached)
    two = [str(inputs["content"]), str(inputs["labels"])]
    assert main(["run", *two, "--style", str(inputs["style"]), "--out", str(tmp_path / "b")]) == 2
    assert f"batch of 2 with style {inputs['style']}" in capsys.readouterr().err
    assert main(["run", *two, "--style", f"1={inputs['style']}", "--out", str(tmp_path / "b")]) == 2
    assert "a batch takes one style (positional, or --style STYLE)" in capsys.readouterr().err
    assert (
        main(
            [
                "run",
                *two,
                "--style",
                str(inputs["style"]),
                "--style",
                str(inputs["style"]),
                "--out",
                str(tmp_path / "b"),
            ]
        )
        == 2
    )
    assert "blending several" in capsys.readouterr().err


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
