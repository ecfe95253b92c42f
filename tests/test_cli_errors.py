"""Bad input ends in one line naming the problem and the fix, exit status 2, before any work and
with nothing written."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from cli_inputs import run_args, write_inputs

from napari_partial_style.cli import build_parser, main
from napari_partial_style.core.io.image_files import write_image_file


@pytest.fixture
def inputs(tmp_path):
    return write_inputs(tmp_path)


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
        ("folder_as_input", "a folder with --out NAME.pstyle is one clip; for a batch give --out DIR"),
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


def test_version_and_the_short_output_flag(inputs, tmp_path, capsys):
    from napari_partial_style import __version__

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"napari-partial-style {__version__}"
    args = build_parser().parse_args(["segment", str(inputs["content"]), "-o", str(tmp_path / "s.pstyle")])
    assert args.out == str(tmp_path / "s.pstyle")


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
