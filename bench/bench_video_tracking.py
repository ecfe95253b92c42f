"""Following a region through a clip: flow methods, tracking IoU against re-segmenting each frame,
and peak memory for 30 and 300 frames.

Clips (tests/video_clips.py, 30 frames, 96×128 unless --size): `object`, a brick-textured ellipse
crossing a gravel background while the camera pans; `coffee`, the bundled photo under a sliding,
zooming crop, its mask the bundled cup labels. Motion and masks are known exactly.
1. Flow: end-point error against the true flow and milliseconds per frame pair, for each method; and
   the IoU at frame 30 of the region carried by the flow alone (no CRF), hard labels against soft.
2. Tracking: IoU with the true mask per frame, frame 0's true mask given and no correction, for
   - tracked: core/video/track.py as it stands (flow ILK, the refit CRF);
   - tracked + saliency: the same, with each frame's noisy saliency (below) joining the prior;
   - tracked, PSA CRF: the segmentation's default CRF kernels for the refit instead;
   - independent: each frame segmented on its own, as a job segments one photo: the dense CRF
     (segmentation defaults: torch, Otsu calibration, PSA kernels) over a noisy saliency map of that
     frame. The map stands in for DCSM (no pretrained classifier here): the true mask blurred
     (sigma 3 px), scaled to 0.85, plus smooth noise (sigma 2 px, amplitude 0.25), clipped to [0, 1].
3. Memory: peak traced memory (tracemalloc) of streaming every frame of a folder of PNGs, a
   multi-page TIFF and (with PyAV) an MPEG-4 file, and of tracking (flow and carry, no CRF) through
   an array clip, for 30 and 300 frames.
Usage: python bench/bench_video_tracking.py [--size 96 128] [--skip-memory]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

from napari_partial_style.core.params import CRFParams
from napari_partial_style.core.progress import drain
from napari_partial_style.core.segment.crf import crf_stage
from napari_partial_style.core.video import flow as flows
from napari_partial_style.core.video.frames import open_frames
from napari_partial_style.core.video.track import TrackParams, carry, track

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from video_clips import coffee_crop, iou, moving_object  # noqa: E402

REPORTED = (1, 5, 10, 15, 20, 25, 30)  # frame numbers counted from 1


def noisy_saliency(mask: np.ndarray, seed: int) -> np.ndarray:
    """A coarse, noisy one-class saliency map (1, H, W) of a frame whose true mask is known."""
    noise = gaussian_filter(np.random.default_rng(seed).normal(size=mask.shape), 2.0)
    noise *= 0.25 / max(noise.std(), 1e-6)
    return np.clip(0.85 * gaussian_filter(mask.astype(np.float32), 3.0) + noise, 0.0, 1.0)[None].astype(np.float32)


def flow_table(clips: dict) -> None:
    print("\n## Flow: error against the true flow, time, and the region carried by the flow alone")
    print("clip    method  EPE px  ms/pair  carried soft IoU@30  carried hard IoU@30")
    for name, clip in clips.items():
        methods = [m for m in flows.FLOW_METHODS if m != "dis" or _has_cv2()]
        for method in ["truth", *methods]:
            epe, seconds, soft, hard = [], 0.0, _one_hot(clip.masks[0]), clip.masks[0]
            for t in range(1, len(clip.frames)):
                start = time.perf_counter()
                found = (
                    clip.flows[t - 1] if method == "truth" else flows.flow(clip.frames[t], clip.frames[t - 1], method)
                )
                seconds += time.perf_counter() - start
                epe.append(np.sqrt(((found - clip.flows[t - 1]) ** 2).sum(0)).mean())
                soft = carry(soft, found)
                hard = carry(_one_hot(hard), found).argmax(0) > 0
            n = len(clip.frames) - 1
            print(
                f"{name:7s} {method:6s} {np.mean(epe):6.3f} {1000 * seconds / n:8.1f}  "
                f"{iou(soft.argmax(0) > 0, clip.masks[-1]):19.3f}  {iou(hard, clip.masks[-1]):19.3f}"
            )


def _has_cv2() -> bool:
    try:
        import cv2  # noqa: F401
    except ImportError:
        return False
    return True


def _one_hot(mask: np.ndarray) -> np.ndarray:
    return np.stack([~mask, mask]).astype(np.float32)


def independent(clip) -> list[float]:
    out = []
    for t, (frame, mask) in enumerate(zip(clip.frames, clip.masks)):
        labels, _ = drain(crf_stage(frame, noisy_saliency(mask, t), CRFParams()))
        out.append(iou(labels > 0, mask))
    return out


def tracked(clip, params: TrackParams, with_saliency: bool = False) -> tuple[list[float], float]:
    maps = (noisy_saliency(m, t) for t, m in enumerate(clip.masks)) if with_saliency else None
    start = time.perf_counter()
    out = [
        iou(f.labels > 0, clip.masks[f.index])
        for f in track(clip.frames, clip.masks[0].astype(np.uint8), saliency=maps, params=params)
    ]
    return out, (time.perf_counter() - start) / len(clip.frames)


def tracking_table(clips: dict) -> None:
    print("\n## Tracking: IoU with the true mask at frame (1-based)")
    print(f"clip    {'way':22s} " + " ".join(f"{n:>5d}" for n in REPORTED) + "   s/frame")
    for name, clip in clips.items():
        rows = {
            "tracked": tracked(clip, TrackParams()),
            "tracked + saliency": tracked(clip, TrackParams(), with_saliency=True),
            "tracked, PSA CRF": tracked(clip, TrackParams(crf=CRFParams())),
        }
        start = time.perf_counter()
        rows["independent (CRF)"] = independent(clip), (time.perf_counter() - start) / len(clip.frames)
        for way, (ious, seconds) in rows.items():
            cells = " ".join(f"{ious[n - 1]:5.3f}" for n in REPORTED if n <= len(ious))
            print(f"{name:7s} {way:22s} {cells}   {seconds:6.2f}")


def _peak(make) -> int:
    """Peak traced bytes while the iterable `make()` returns is consumed, each item dropped."""
    tracemalloc.start()
    try:
        for _ in make():
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _sources(folder: Path, clip: np.ndarray) -> dict:
    import tifffile
    from PIL import Image

    frames_dir = folder / "frames"
    frames_dir.mkdir()
    for i, frame in enumerate(clip):
        Image.fromarray(frame).save(frames_dir / f"{i}.png")
    tifffile.imwrite(folder / "clip.tif", clip, photometric="rgb")
    sources = {"folder of PNGs": frames_dir, "multi-page TIFF": folder / "clip.tif"}
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from test_video_frames import write_video

        sources["MPEG-4 (PyAV)"] = write_video(folder / "clip.mp4", clip)
    except BaseException:  # pytest's skip when PyAV is missing
        pass
    return sources


def memory_table(shape: tuple[int, int]) -> None:
    print("\n## Peak traced memory (MB) streaming 30 and 300 frames")
    results: dict[str, list[float]] = {}
    for n in (30, 300):
        clip = moving_object(frames=n, shape=shape)
        with tempfile.TemporaryDirectory() as folder:
            for kind, path in _sources(Path(folder), clip.frames).items():
                source = open_frames(path)
                _peak(lambda s=source: s)  # the first pass imports the readers
                results.setdefault(kind, []).append(_peak(lambda s=source: s) / 1e6)
        params = TrackParams(crf=CRFParams(method="none"))
        labels = clip.masks[0].astype(np.uint8)
        peak = _peak(lambda c=clip, given=labels, p=params: track(iter(c.frames), given, params=p))
        results.setdefault("tracking (flow + carry)", []).append(peak / 1e6)
    for kind, (a, b) in results.items():
        print(f"{kind:25s} 30: {a:7.2f}   300: {b:7.2f}   ratio {b / a:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs=2, default=(96, 128))
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    shape = tuple(args.size)
    clips = {"object": moving_object(shape=shape), "coffee": coffee_crop(shape=shape)}
    flow_table(clips)
    tracking_table(clips)
    if not args.skip_memory:
        memory_table((48, 64))


if __name__ == "__main__":
    main()
