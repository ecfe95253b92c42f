"""A bundle with a frame axis, written a frame at a time.

A clip's bundle holds each frame's layers as files of their own (`content-00000.png`,
`labels-00000.png`, ...) and its manifest lists them per layer, one name per frame, with
`"frames": N`; the style (and a preview) stay single images. Frames go into the zip as they come,
so writing holds one frame, however long the clip; the manifest is written last and the zip is
renamed into place only then (core/io/atomic.py): a failed, cancelled or unfinished write leaves
nothing. core/io/bundle.py reads it back as stacks under the same limits as a single frame's bundle.
"""

from __future__ import annotations

import zipfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.io import strict_json
from napari_partial_style.core.io.bundle_layout import FRAME_LAYERS, MAX_FRAMES


def frame_file(name: str, index: int, suffix: str) -> str:
    return f"{name}-{index:05d}{suffix}"


class _Unfinished(Exception):
    """Thrown into the atomic write when the writer is left without `finish`: nothing is renamed in."""


class FrameBundleWriter:
    """`with FrameBundleWriter(path) as w: w.add(content=..., labels=..., ...)` per frame, then
    `w.finish(manifest, style=...)`. Every frame gives the same layers at frame 0's size."""

    def __init__(self, path: str | Path, overwrite: bool = False) -> None:
        from napari_partial_style.core.io.atomic import atomic_file
        from napari_partial_style.core.io.bundle_layout import check_target

        self.path = check_target(path, overwrite)
        self.files: dict[str, list[str]] = {}
        self.shape: tuple[int, int] | None = None
        self._stack = ExitStack()
        tmp = self._stack.enter_context(atomic_file(self.path))
        self._zip = self._stack.enter_context(zipfile.ZipFile(tmp, "w"))
        self._finished = False

    def __enter__(self) -> FrameBundleWriter:
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        if self._finished:
            return False
        if kind is None:
            kind, exc = _Unfinished, _Unfinished()
        self._stack.__exit__(kind, exc, tb)
        return False

    @property
    def frames(self) -> int:
        return len(next(iter(self.files.values()), []))

    def add(self, **layers: np.ndarray | None) -> None:
        """One frame's layers (None: a layer this clip does not have)."""
        from napari_partial_style.core.io.bundle_layout import entry_info, layer_file
        from napari_partial_style.core.io.image_files import write_encoded

        layers = {name: array for name, array in layers.items() if array is not None}
        unknown = set(layers) - set(FRAME_LAYERS)
        if unknown:
            raise InputError(f"a frame's layers are {', '.join(FRAME_LAYERS)}, not {', '.join(sorted(unknown))}.")
        if "content" not in layers:
            raise InputError("each frame of a bundle needs its content.")
        shape = tuple(np.shape(layers["content"])[:2])
        if self.shape is None:
            self.shape, self.files = shape, {name: [] for name in layers}
        if set(layers) != set(self.files) or shape != self.shape:
            raise InputError(
                f"frame {self.frames} gives {', '.join(sorted(layers))} at {shape}, but frame 0 gave "
                f"{', '.join(sorted(self.files))} at {self.shape}; every frame needs the same layers at one size."
            )
        index = self.frames
        if index >= MAX_FRAMES:
            raise InputError(f"a bundle holds at most {MAX_FRAMES} frames; split the clip.")
        for name, array in layers.items():
            if _plane_shape(name, np.shape(array)) != shape:
                raise InputError(f"frame {index}'s {name} is {np.shape(array)}, not on its {shape} content.")
            filename, data = layer_file(name, np.asarray(array))
            filename = frame_file(name, index, Path(filename).suffix)
            with self._zip.open(entry_info(filename), "w", force_zip64=True) as entry:
                write_encoded(data, Path(filename).suffix, entry, filename)
            self.files[name].append(filename)

    def finish(
        self, manifest: dict[str, Any], style: np.ndarray | None = None, scores: dict[str, Any] | None = None
    ) -> Path:
        """The style, scores and manifest written, and the bundle renamed into place."""
        from napari_partial_style.core.io.bundle_layout import (
            FORMAT,
            MANIFEST,
            SCORES,
            VERSION,
            add_entry,
            entry_info,
            layer_file,
        )
        from napari_partial_style.core.io.image_files import write_encoded

        if not self.frames:
            raise InputError("the clip gave no frames; nothing was written.")
        files: dict[str, Any] = dict(self.files)
        if style is not None:
            filename, data = layer_file("style", np.asarray(style))
            with self._zip.open(entry_info(filename), "w", force_zip64=True) as entry:
                write_encoded(data, Path(filename).suffix, entry, filename)
            files["style"] = filename
        if scores is not None:
            add_entry(self._zip, SCORES, strict_json.dumps(scores).encode())
        full = {**manifest, "format": FORMAT, "version": VERSION, "frames": self.frames, "files": files}
        add_entry(self._zip, MANIFEST, strict_json.dumps(full).encode())
        self._finished = True
        self._stack.close()
        return self.path


def _plane_shape(name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A layer's (height, width): saliency maps are (K, H, W), the rest (H, W[, C])."""
    return tuple(shape[1:3]) if name == "saliency" and len(shape) == 3 else tuple(shape[:2])
