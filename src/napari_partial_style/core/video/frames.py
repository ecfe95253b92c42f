"""Clips as streams of frames: an array with a leading frame axis, a folder of frames, a multi-page
TIFF or a video file, read one frame at a time so memory does not grow with the clip's length.

Video files are decoded with PyAV (the `video` extra), which ships FFmpeg's libraries in its wheel:
against imageio-ffmpeg (FFmpeg's executable behind a pipe) it decoded twice as many frames a second
(1874 against 912 per second, 320×240 H.264) and its wheel is half the size (36.6 against 68.0 MB):
bench/bench_video_decode.py, docs/benchmarks.md.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import SourceImage, as_source_image
from napari_partial_style.core.io.image_files import (
    DEFAULT_MAX_PIXELS,
    TIFF_SIGNATURES,
    _open_with_pillow,
    describe_file,
    image_dims,
    read_image_file,
)

FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".ogv")
GIF_SIGNATURE = b"GIF8"
VIDEO_EXTRA = 'pip install "napari-partial-style[video]"'
KINDS = f"a video file ({', '.join(VIDEO_SUFFIXES[:4])}...), an animated GIF, a multi-page TIFF or a folder of frames"


@dataclass(frozen=True)
class Frames:
    """A clip: its `name`, frame `shape` (H, W), frame `count` (None where the file does not say),
    and `read`, which starts a fresh pass over the frames' arrays. Iterating checks each frame and
    yields it as a SourceImage; two passes read the source twice rather than keep it in memory."""

    name: str
    shape: tuple[int, int]
    count: int | None
    read: Callable[[], Iterator[np.ndarray]]

    def __iter__(self) -> Iterator[SourceImage]:
        for index, array in enumerate(self.read()):
            frame = as_source_image(array, f"{self.name}, frame {index}")
            if frame.shape != self.shape:
                raise InputError(
                    f"{self.name}: frame {index} is {frame.shape[1]}×{frame.shape[0]} px but frame 0 is "
                    f"{self.shape[1]}×{self.shape[0]}; all frames of a clip need one size."
                )
            yield frame


def is_clip_file(path: Path) -> bool:
    """A video file, a TIFF of several pages or a GIF of several frames: a one-page TIFF and a
    still GIF are photos (the photo reader refuses an animated one: it is for clips)."""
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(GIF_SIGNATURE):
        return is_animated_gif(path)
    if head.startswith(TIFF_SIGNATURES):
        return is_tiff_clip(path)
    return path.suffix.lower() in VIDEO_SUFFIXES


def is_animated_gif(path: Path) -> bool:
    """More than one frame, counted by Pillow from the file's blocks (a damaged GIF is left to the photo reader)."""
    from PIL import UnidentifiedImageError

    try:
        with open(path, "rb") as fh, _open_with_pillow(fh) as image:
            return getattr(image, "n_frames", 1) > 1
    except (UnidentifiedImageError, OSError, ValueError, EOFError):
        return False


def frame_files(folder: Path) -> list[Path]:
    """A folder's frames, in natural order (2 before 10): its image files, hidden ones left out. The one
    rule for a folder as a clip, whether it is `run`'s content or one of a batch's."""
    files = (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES)
    return sorted((p for p in files if not p.name.startswith(".")), key=natural_key)


def is_frame_folder(path: Path) -> bool:
    """A folder holding frames (frame_files): how a batch tells a clip among its contents' folders."""
    return path.is_dir() and bool(frame_files(path))


def is_tiff_clip(path: Path) -> bool:
    """Several pages, each a picture of at least MIN_SIDE px a side: a 2-channel image that tifffile
    wrote as 48 pages of 64×2 (or a damaged TIFF) is left to the photo reader, which names its problem."""
    import tifffile

    from napari_partial_style.core.images import MIN_SIDE

    try:
        with tifffile.TiffFile(path) as tif:
            return len(tif.pages) > 1 and min(tif.pages[0].shape[:2]) >= MIN_SIDE
    except (tifffile.TiffFileError, ValueError, OSError, IndexError):
        return False


def open_frames(source: str | Path | np.ndarray | Sequence[np.ndarray], max_pixels: int = DEFAULT_MAX_PIXELS) -> Frames:
    """The frames of an array (T×H×W×3 or T×H×W, or a sequence of frames), a folder of image files
    (in natural order: 2 before 10), a multi-page TIFF or a video file."""
    if isinstance(source, np.ndarray):
        return _array_frames(source)
    if isinstance(source, Sequence) and not isinstance(source, str):
        return _list_frames(source)
    path = Path(source)
    if path.is_dir():
        return _folder_frames(path, max_pixels)
    if not path.is_file():
        raise InputError(f"{path}: no such file or folder; give {KINDS}.")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(TIFF_SIGNATURES):
        return _tiff_frames(path, max_pixels)
    if head.startswith(GIF_SIGNATURE):
        return _gif_frames(path, max_pixels)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return _video_frames(path, max_pixels)
    raise InputError(f"{path} is {describe_file(path)}, not a clip; give {KINDS}.")


def _array_frames(array: np.ndarray) -> Frames:
    if array.ndim not in (3, 4) or (array.ndim == 3 and array.shape[2] in (3, 4)) or not len(array):
        raise InputError(
            f"an array of shape {array.shape} is not a clip; give frames along the first axis: T×H×W×3 (RGB) or T×H×W."
        )
    return Frames("clip", tuple(array.shape[1:3]), len(array), lambda: iter(array))


def _list_frames(frames: Sequence[np.ndarray]) -> Frames:
    if not len(frames):
        raise InputError("the clip has no frames; give at least one.")
    first = np.asarray(frames[0])
    return Frames("clip", tuple(first.shape[:2]), len(frames), lambda: (np.asarray(f) for f in frames))


def natural_key(path: Path) -> list:
    """Sort key that orders numbers by value: frame2.png before frame10.png."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _folder_frames(folder: Path, max_pixels: int) -> Frames:
    files = frame_files(folder)
    if not files:
        raise InputError(f"{folder} holds no image files ({', '.join(FRAME_SUFFIXES)}); give a folder of frames.")
    shape = None
    for path in files:  # every header first: a frame of another size is named before any work
        with open(path, "rb") as fh:
            h, w, _ = image_dims(fh, str(path))
        if shape is not None and (h, w) != shape:
            raise InputError(
                f"{path} is {w}×{h} px but {files[0].name} is {shape[1]}×{shape[0]}; all frames of a clip need one size."
            )
        shape = (h, w)
    return Frames(str(folder), shape, len(files), lambda: (read_image_file(p, max_pixels) for p in files))


def _tiff_frames(path: Path, max_pixels: int) -> Frames:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        count = len(tif.pages)
        h, w = tif.pages.first.imagelength, tif.pages.first.imagewidth
    _check_size(path, h, w, max_pixels)
    return Frames(str(path), (h, w), count, lambda: _tiff_pages(path))


def _tiff_pages(path: Path) -> Iterator[np.ndarray]:
    """Each page's pixels, walking the file's chain of pages one at a time: iterating tifffile's
    `pages` keeps every page passed (its cache) or its offset, memory that grows with the clip.
    A page object sits in a reference cycle with what it read: the two youngest generations are collected
    after each page, or pages pile up until the collector's own threshold (+20% peak at 300 pages)."""
    import gc

    import tifffile

    with tifffile.TiffFile(path) as tif:
        fh, layout = tif.filehandle, tif.tiff
        offset, index = tif.pages.first.offset, 0
        while offset:
            fh.seek(offset)
            yield tifffile.TiffPage(tif, index).asarray()
            gc.collect(1)
            fh.seek(offset)
            (tags,) = struct.unpack(layout.tagnoformat, fh.read(layout.tagnosize))
            fh.seek(offset + layout.tagnosize + tags * layout.tagsize)
            (offset,) = struct.unpack(layout.offsetformat, fh.read(layout.offsetsize))
            index += 1


def _check_size(path: Path, h: int, w: int, max_pixels: int) -> None:
    if h * w > max_pixels:
        raise InputError(
            f"{path}: {w}×{h} px frames are above the limit of {max_pixels / 1e6:.3g} Mpx; downscale first."
        )


def _gif_frames(path: Path, max_pixels: int) -> Frames:
    """A GIF read with Pillow, as a photo is (no extra needed), each frame as the GIF shows it, whole:
    FFmpeg's GIF reader gave only the first of the 3 frames of a 48×64 GIF that Pillow wrote without
    delays (tests/test_video_frames.py)."""
    with open(path, "rb") as fh, _open_with_pillow(fh) as image:
        (w, h), count = image.size, getattr(image, "n_frames", 1)
    _check_size(path, h, w, max_pixels)

    def read() -> Iterator[np.ndarray]:
        with open(path, "rb") as fh, _open_with_pillow(fh) as image:
            for index in range(count):
                image.seek(index)
                yield np.asarray(image.convert("RGB"))

    return Frames(str(path), (h, w), count, read)


def _import_av():
    try:
        import av
    except ImportError as exc:
        raise InputError(f"reading video files needs PyAV: {VIDEO_EXTRA}") from exc
    return av


def _video_frames(path: Path, max_pixels: int) -> Frames:
    av = _import_av()
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"{path} has no video stream; give {KINDS}.")
            stream = container.streams.video[0]
            h, w, count = stream.codec_context.height, stream.codec_context.width, stream.frames or None
    except av.FFmpegError as exc:
        raise InputError(f"{path} cannot be read as a video: it is {describe_file(path)}; give {KINDS}.") from exc
    _check_size(path, h, w, max_pixels)

    def read() -> Iterator[np.ndarray]:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format="rgb24")

    return Frames(str(path), (h, w), count, read)
