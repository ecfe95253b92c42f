"""The command-line tests' small job: its input files, and the flags of a run on the tiny classifier."""

from pathlib import Path

import numpy as np
from synthetic import two_tone

from napari_partial_style.core.io.image_files import write_image_file


def write_inputs(folder: Path) -> dict[str, Path]:
    """A 48×64 content, a 40×40 style and the content's labels (one rectangle), as PNGs in `folder`."""
    content = two_tone((48, 64))
    labels = np.zeros((48, 64), np.uint8)
    labels[12:36, 16:40] = 1
    paths = {"content": folder / "content.png", "style": folder / "style.png", "labels": folder / "mask.png"}
    write_image_file(paths["content"], content)
    write_image_file(paths["style"], two_tone((40, 40), rng=np.random.default_rng(7))[:, ::-1])
    write_image_file(paths["labels"], labels)
    return paths


def run_args(inputs: dict[str, Path], out: Path, *extra: str) -> list[str]:
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
