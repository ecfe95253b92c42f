"""A clip's frames written as a video file with PyAV, a frame at a time (the `video` extra)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import as_source_image, to_uint8

CODECS = {".mp4": "h264", ".mkv": "h264", ".mov": "h264", ".avi": "mpeg4", ".webm": "libvpx-vp9"}


def check_video_target(path: str | Path, overwrite: bool) -> Path:
    """Refused before any work: an unknown suffix, an existing file without `overwrite`, no PyAV."""
    from napari_partial_style.core.io.atomic import check_parent
    from napari_partial_style.core.video.frames import _import_av

    path = Path(path)
    if path.suffix.lower() not in CODECS:
        raise InputError(f"--save-video {path}: name it with one of {', '.join(CODECS)}.")
    check_parent(path)
    if path.is_dir() or (path.exists() and not overwrite):
        raise InputError(f"--save-video {path} exists; pass --overwrite to replace it, or choose another name.")
    _import_av()
    return path


@contextmanager
def video_writer(path: Path, fps: float = 24.0) -> Iterator:
    """`write(frame)` for each frame (H×W×3, any image dtype); the file is renamed into place when
    the block ends without an error. Odd sides are padded by one edge pixel (4:2:0 needs even ones)."""
    import av

    from napari_partial_style.core.io.atomic import atomic_file

    with atomic_file(path) as tmp:
        container = av.open(str(tmp), mode="w", format=_format(path))
        try:
            stream = None

            def write(frame: np.ndarray) -> None:
                nonlocal stream
                rgb = _even(to_uint8(as_source_image(frame, "frame").rgb))
                if stream is None:
                    stream = container.add_stream(CODECS[path.suffix.lower()], rate=round(fps))
                    stream.height, stream.width = rgb.shape[:2]
                    stream.pix_fmt = "yuv420p"
                for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                    container.mux(packet)

            yield write
            if stream is not None:
                for packet in stream.encode():
                    container.mux(packet)
        finally:
            container.close()


def _format(path: Path) -> str:
    return {".mkv": "matroska", ".mov": "mov", ".avi": "avi", ".webm": "webm"}.get(path.suffix.lower(), "mp4")


def _even(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
