"""Video decoding: PyAV against imageio-ffmpeg, frames per second and install size.

Each library writes a generated clip itself (H.264, yuv420p) and then decodes it to RGB arrays
frame by frame, as core/video/frames.py streams them; the two alternate in one run. The download
size of each wheel is what `pip download --no-deps` fetches for this platform.
Usage: python bench/bench_video_decode.py [--frames 300] [--size 240 320] [--repeats 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from video_clips import moving_object  # noqa: E402


def write_av(path: Path, frames: np.ndarray) -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())


def read_av(path: Path) -> int:
    import av

    n = 0
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frame.to_ndarray(format="rgb24")
            n += 1
    return n


def write_imageio(path: Path, frames: np.ndarray) -> None:
    import imageio_ffmpeg

    h, w = frames.shape[1:3]
    writer = imageio_ffmpeg.write_frames(str(path), (w, h), fps=25, codec="libx264", pix_fmt_out="yuv420p")
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()


def read_imageio(path: Path) -> int:
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    n = 0
    for raw in reader:
        np.frombuffer(raw, np.uint8).reshape(h, w, 3)
        n += 1
    return n


def download_mb(package: str) -> float:
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", folder, package], check=True)
        return sum(p.stat().st_size for p in Path(folder).iterdir()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", type=int, nargs=2, default=(240, 320))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    clip = moving_object(frames=args.frames, shape=tuple(args.size)).frames
    libraries = {"PyAV": (write_av, read_av, "av"), "imageio-ffmpeg": (write_imageio, read_imageio, "imageio-ffmpeg")}
    with tempfile.TemporaryDirectory() as folder:
        rates: dict[str, list[float]] = {name: [] for name in libraries}
        for name, (write, _, _) in libraries.items():
            write(Path(folder) / f"{name}.mp4", clip)
        for _ in range(args.repeats):
            for name, (_, read, _) in libraries.items():
                start = time.perf_counter()
                n = read(Path(folder) / f"{name}.mp4")
                rates[name].append(n / (time.perf_counter() - start))
                assert n == args.frames, (name, n)
    h, w = args.size
    print(f"{args.frames} frames {w}×{h}, H.264; best of {args.repeats}")
    for name, (_, _, package) in libraries.items():
        print(f"{name:15s} {max(rates[name]):7.0f} frames/s   wheel {download_mb(package):5.1f} MB")


if __name__ == "__main__":
    main()
