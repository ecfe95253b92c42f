"""Peak memory (RSS, from /usr/bin/time) of `run` on large photos, and its growth per input pixel.

Makes a 6 Mpx and a 24 Mpx photo (coffee, enlarged) with a centred mask, then runs each job in a
fresh process: the growth between the two sizes, divided by the 18 Mpx between them, is the cost
per input pixel (the models' memory is the same in both and cancels). Random or real weights
alike (set TORCH_HOME); `--cli` picks the command, so another checkout can be measured in the same
session:

    TORCH_HOME=/tmp/scratch/th python bench/bench_memory.py [--cli PATH/napari-partial-style]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SIZES = {"6 Mpx": (2000, 3000), "24 Mpx": (4000, 6000)}
JOBS = {  # the result at 64 px: what grows with the input is the full-resolution bookkeeping alone
    "--max-size 64 --no-score": ["--max-size", "64", "--no-score"],
    "--max-size 64, scoring": ["--max-size", "64"],
}


def inputs(folder: Path) -> dict[str, tuple[Path, Path]]:
    from PIL import Image
    from skimage import data

    made = {}
    for name, (h, w) in SIZES.items():
        photo, mask = folder / f"{h}x{w}.png", folder / f"{h}x{w}-mask.png"
        Image.fromarray(data.coffee()).resize((w, h), Image.Resampling.BICUBIC).save(photo)
        labels = np.zeros((h, w), np.uint8)
        labels[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 1
        Image.fromarray(labels).save(mask)
        made[name] = (photo, mask)
    Image.fromarray(data.gravel()).convert("RGB").save(folder / "style.png")
    return made


def peak(cli: str, folder: Path, photo: Path, mask: Path, flags: list[str]) -> tuple[float, float]:
    """Peak RSS in GB and seconds of one job in a fresh process."""
    report = folder / "time.txt"
    out = folder / "out.pstyle"
    out.unlink(missing_ok=True)
    subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "%M %e",
            "-o",
            str(report),
            cli,
            "run",
            str(photo),
            str(folder / "style.png"),
            "--labels",
            str(mask),
            "--out",
            str(out),
            "--device",
            "cpu",
            "--quiet",
            *flags,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    kilobytes, seconds = report.read_text().split()
    return int(kilobytes) / 1e6, float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", default="napari-partial-style")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        made = inputs(folder)
        print("| job | 6 Mpx | 24 Mpx | bytes per input pixel |\n|---|---|---|---|")
        for label, flags in JOBS.items():
            (small, t_small), (large, t_large) = (peak(args.cli, folder, *made[size], flags) for size in SIZES)
            growth = (large - small) * 1e9 / (24e6 - 6e6)
            print(
                f"| `{label}` | {small:.2f} GB, {t_small:.0f} s | {large:.2f} GB, {t_large:.0f} s | {growth:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
