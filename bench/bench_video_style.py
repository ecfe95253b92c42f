"""Style without flicker: the clip job (core/video/clip.py) with the temporal term against frames
stylized independently, and its cost per frame (its peak memory for 30 and 300 frames is
bench/bench_clip_memory.py's).

Clips (tests/video_clips.py, 30 frames, --size H W): `object` (a textured ellipse crossing a
textured background while the camera pans) and `coffee` (the bundled photo under a sliding, zooming
crop). Frame 0's true mask is given; the region is then tracked (core/video/track.py).
1. Flicker: the warping error of Lai et al. 2018 inside the region, between each result and the
   previous result carried to it, averaged over frame pairs: mean over the pixels of both frames'
   true masks that the flow keeps in view, of the squared RGB difference (in [0, 1]); once along
   the true flow, once along the flow the job estimated (ILK) over its non-occluded pixels (the
   paper's protocol: it had no true flow). Runs: --temporal 0 (each frame on its own) and each
   weight of --weights.
2. Cost: seconds per frame of each run (tracking, style and composite), against one independent
   frame: Session.stylize + composite of frame 0 alone with its true mask, timed in the same run.
Random-weight checkpoints work (TORCH_HOME from bench/make_random_weights.py): the numbers are
then about consistency and cost, not looks.
Usage: python bench/bench_video_style.py [--size 48 64] [--steps 20] [--weights 1000 100000]
           [--object-frames 30]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from napari_partial_style.api import Session
from napari_partial_style.core.params import JobParams, SessionParams, StyleParams
from napari_partial_style.core.video import flow as flows
from napari_partial_style.core.video.clip import ClipFrame, run_clip

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from video_clips import coffee_crop, moving_object  # noqa: E402


def style_image() -> np.ndarray:
    from napari_partial_style import samples

    return samples.stone()


def warping_errors(frames: list[ClipFrame], clip, estimated: list) -> tuple[float, float]:
    """Lai et al.'s warping error along the true flow and along the job's own (ILK, non-occluded)."""
    truth, own = [], []
    for (before, after), (flow, occluded) in zip(zip(frames, frames[1:]), estimated[1:]):
        a, b = (f.stylized.astype(np.float32) / 255 for f in (after, before))
        seen = clip.masks[after.index] & clip.masks[before.index]
        truth.append(((a - flows.warp(b, clip.flows[before.index])) ** 2).mean(-1)[seen].mean())
        own.append(((a - flows.warp(b, flow)) ** 2).mean(-1)[seen & ~occluded].mean())
    return float(np.mean(truth)), float(np.mean(own))


def estimated_flows(clip) -> list:
    """The backward flow and occlusion the job finds between frames (the same whatever the style)."""
    from napari_partial_style.core.video.track import track

    return [(f.flow, f.occluded) for f in track(clip.frames, clip.masks[0].astype(np.uint8))]


def run(session: Session, clip, params: JobParams) -> tuple[list[ClipFrame], list[float]]:
    job = run_clip(session, clip.frames, style_image(), params, clip.masks[0].astype(np.uint8))
    frames = []
    while True:
        try:
            item = next(job)
        except StopIteration as stop:
            return frames, stop.value.seconds
        if isinstance(item, ClipFrame):
            frames.append(item)


def independent_frame(session: Session, clip, params: JobParams) -> float:
    """Seconds for one frame stylized and composited as a photo job would, its true mask given."""
    from napari_partial_style.core.job.stages import compositing
    from napari_partial_style.core.progress import drain

    started = time.perf_counter()
    stylized = session.stylize(clip.frames[0], style_image(), params.style, mask=clip.masks[0]).result()
    drain(compositing(clip.frames[0], stylized, clip.masks[0], params.composite))
    return time.perf_counter() - started


def flicker_table(args) -> None:
    session = Session(SessionParams(size=max(args.size), device="cpu"))
    base = JobParams(session=session.params, style=StyleParams(steps=args.steps, realism=args.realism))
    print(f"\n## Flicker and cost: {args.frames} frames of {args.size[1]}×{args.size[0]} px, {args.steps} steps")
    print("clip    frames  temporal  warp err (true flow)  warp err (own flow)  s/frame  × independent frame")
    clips = {"object": (moving_object, args.object_frames), "coffee": (coffee_crop, args.frames)}
    for name in args.clips:
        make, count = clips[name]
        clip = make(frames=count, shape=tuple(args.size))
        estimated = estimated_flows(clip)
        independent_frame(session, clip, base)  # the network loaded and warm before timing
        single = np.median([independent_frame(session, clip, base) for _ in range(3)])
        for weight in [0.0, *args.weights]:
            params = replace(base, style=replace(base.style, temporal=weight))
            frames, seconds = run(session, clip, params)
            truth, own = warping_errors(frames, clip, estimated)
            per_frame = float(np.mean(seconds[1:]))
            print(
                f"{name:7} {count:6}  {weight:8g}  {truth:20.5f}  {own:19.5f}  {per_frame:7.2f}  {per_frame / single:8.2f}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, nargs=2, default=(48, 64), metavar=("H", "W"))
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument(
        "--object-frames", type=int, default=30, help="the object clip's frames (it leaves a small frame sooner)"
    )
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--realism", type=float, default=0.0)
    parser.add_argument("--weights", type=float, nargs="+", default=[1e3, 1e5])
    parser.add_argument("--clips", nargs="+", choices=("object", "coffee"), default=["object", "coffee"])
    args = parser.parse_args()
    flicker_table(args)


if __name__ == "__main__":
    main()
