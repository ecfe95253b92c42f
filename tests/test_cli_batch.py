"""`run` on several contents: what a batch takes, and the flags that only a batch takes."""

import pytest
from cli_inputs import run_args, write_inputs

from napari_partial_style.cli import main


@pytest.fixture
def inputs(tmp_path):
    return write_inputs(tmp_path)


@pytest.mark.parametrize("extra", [["--scheduler", "tcp://localhost:8786"], ["--workers", "2"]])
def test_batch_only_flags_on_a_single_run_are_refused_not_ignored(inputs, tmp_path, capsys, extra):
    assert main(run_args(inputs, tmp_path / "out.pstyle", *extra)) == 2
    assert "--workers and --scheduler spread a batch" in capsys.readouterr().err


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
