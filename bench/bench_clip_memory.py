"""Peak memory of the whole clip job for a short and a long clip: issue 40 asks that 30 and 300 frames
peak within 10% of each other, since frames are streamed (read, tracked, stylized, written one at a time).

The parent writes each clip (tests/video_clips.py's `coffee_crop`: the bundled photo under a sliding,
zooming window, its cup in view in every frame) as a video file (or a multi-page TIFF, or a folder of
PNGs) and frame 0's true mask; then each length runs in a fresh process: decode → track (flow, carry,
CRF) → stylize (`--steps` a frame) → composite → the bundle written a frame at a time (and the composite
video with --save-video), through `Session.save_clip` as the API and the CLI run it. The child reports
- peak RSS (resource.getrusage ru_maxrss): everything, torch's tensors and the decoder's buffers too;
- the growth of peak RSS after frame 2 (the networks are loaded and every buffer has been made once by
  then, so what comes after is what the clip's length adds), and the peak so far at frames 2, 10, 30,
  100, 200, ...;
- tracemalloc's peak and its end value (Python and NumPy allocations only, byte-exact: a list of frames
  or a leak per frame shows here long before it shows in RSS).

Random weights are enough (memory does not depend on their values):

    TORCH_HOME=/tmp/scratch/th python bench/make_random_weights.py   # once
    TORCH_HOME=/tmp/scratch/th python bench/bench_clip_memory.py [--frames 30 300] [--size 36 48]
        [--steps 1] [--source video|tiff|folder] [--save-video]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def write_clip(folder: Path, frames: int, size: tuple[int, int], source: str) -> tuple[Path, Path]:
    """The clip as `source` in `folder`, and frame 0's true mask as a PNG."""
    from video_clips import coffee_crop

    from napari_partial_style.core.io.image_files import write_image_file

    clip = coffee_crop(frames=frames, shape=size)
    write_image_file(folder / "mask.png", clip.masks[0].astype(np.uint8))
    if source == "video":
        from napari_partial_style.core.video.video_out import video_writer

        path = folder / "clip.mp4"
        with video_writer(path) as write:
            for frame in clip.frames:
                write(frame)
    elif source == "tiff":
        import tifffile

        path = folder / "clip.tif"
        with tifffile.TiffWriter(path) as writer:
            for frame in clip.frames:
                writer.write(frame)
    else:
        path = folder / "frames"
        path.mkdir()
        for index, frame in enumerate(clip.frames):
            write_image_file(path / f"frame{index}.png", frame)
    return path, folder / "mask.png"


def child(path: Path, mask: Path, steps: int, save_video: bool) -> None:
    """One clip job into a bundle; prints its memory as one JSON line."""
    import tracemalloc

    from napari_partial_style import samples
    from napari_partial_style.api import Session
    from napari_partial_style.core.io.image_files import read_image_file
    from napari_partial_style.core.params import JobParams, SessionParams, StyleParams
    from napari_partial_style.core.progress import Progress
    from napari_partial_style.core.video.frames import open_frames

    frames = open_frames(path)
    labels = read_image_file(mask)
    session = Session(SessionParams(size=max(frames.shape), device="cpu"))
    params = JobParams(session=session.params, style=StyleParams(steps=steps, fine_steps=1, realism=0.0))
    marks: dict[str, float] = {}
    peaks: dict[int, int] = {}  # peak RSS so far after frames 2, 10, 30, 100, 200, ...

    def on_progress(event: Progress) -> None:
        if event.stage != "clip":
            return
        if event.step in (2, 10, 30) or event.step % 100 == 0:
            peaks[event.step] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if event.step == 2:
            marks["after_frame_2"] = peaks[2]
            marks["seconds_2"] = time.perf_counter()

    tracemalloc.start()
    started = time.perf_counter()
    out = path.parent / "clip.pstyle"
    video = path.parent / "composite.mp4" if save_video else None
    session.save_clip(
        frames, samples.stone(), out, params, labels, overwrite=True, video=video, on_progress=on_progress
    )
    current, peak = tracemalloc.get_traced_memory()
    end = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "peak_rss_kb": rss,
                "rss_growth_after_frame_2_kb": rss - marks["after_frame_2"],
                "tracemalloc_peak_kb": peak / 1024,
                "tracemalloc_end_kb": current / 1024,
                "seconds": end - started,
                "seconds_per_frame_after_2": (end - marks["seconds_2"]) / max(frames.count - 2, 1),
                "peak_rss_after_frame_kb": peaks,
            }
        )
    )


def measure(path: Path, mask: Path, steps: int, save_video: bool) -> dict:
    """The child's report, from a fresh process."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), str(mask), "--steps", str(steps)]
        + (["--save-video"] if save_video else []),
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(f"the child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[30, 300])
    parser.add_argument("--size", type=int, nargs=2, default=(36, 48), metavar=("H", "W"))
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--source", choices=("video", "tiff", "folder"), default="video")
    parser.add_argument("--save-video", action="store_true", help="also write the composite video")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]), args.steps, args.save_video)
        return
    print(f"## Clip job memory: {args.source}, {args.size[1]}×{args.size[0]} px, {args.steps} step(s) a frame")
    print("frames  peak RSS (MB)  RSS growth after frame 2 (MB)  tracemalloc peak (MB)  end (MB)  s/frame")
    results = {}
    for count in args.frames:
        with tempfile.TemporaryDirectory() as folder:
            path, mask = write_clip(Path(folder), count, tuple(args.size), args.source)
            r = results[count] = measure(path, mask, args.steps, args.save_video)
        print(
            f"{count:6}  {r['peak_rss_kb'] / 1024:13.1f}  {r['rss_growth_after_frame_2_kb'] / 1024:29.2f}  "
            f"{r['tracemalloc_peak_kb'] / 1024:21.2f}  {r['tracemalloc_end_kb'] / 1024:8.2f}  "
            f"{r['seconds_per_frame_after_2']:7.2f}",
            flush=True,
        )
        print(
            "        peak RSS after frame "
            + ", ".join(f"{k}: {v / 1024:.1f}" for k, v in r["peak_rss_after_frame_kb"].items())
        )
    short, long = (results[n] for n in (min(args.frames), max(args.frames)))
    print(
        f"{max(args.frames)} / {min(args.frames)} frames: peak RSS {long['peak_rss_kb'] / short['peak_rss_kb']:.3f}, "
        f"tracemalloc peak {long['tracemalloc_peak_kb'] / short['tracemalloc_peak_kb']:.3f}"
    )


if __name__ == "__main__":
    main()
