"""The result bundle `NAME.pstyle`: one zip file of plain image files plus `manifest.json`.

One file, because napari's own reader claims every folder: a folder bundle made napari ask which
reader to use, while a `.pstyle` file goes to this plugin from File > Open, drag-and-drop and
`viewer.open`. Being a zip, `unzip NAME.pstyle` gives its PNG and TIFF files, and such an unzipped
folder (or a folder bundle of version 0.1) is read as well.

The zip is built beside the target and renamed in, so a failed or interrupted write never leaves
a half bundle and never damages the bundle that was there (core/io/atomic.py; what a killed writer
left is cleaned up by the next write or read). Reading trusts nothing in the file: the manifest's
shape, file names (plain names inside the bundle only), entry sizes by kind (core/io/bundle_entries.py),
each layer's header against the content's shape before it is decoded, the saliency maps against the
targets, and float layers for NaN are checked. Manifests are strict JSON (core/io/strict_json.py).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from napari_partial_style.core.errors import BundleError, InputError
from napari_partial_style.core.io import strict_json
from napari_partial_style.core.io.atomic import atomic_file, recover
from napari_partial_style.core.io.bundle_entries import read_folder_entry, read_zip_entry
from napari_partial_style.core.io.bundle_layout import (  # noqa: F401  (the bundle's names, as callers import them)
    FORMAT,
    FRAME_LAYERS,
    IMAGE_LAYERS,
    LAYERS,
    MANIFEST,
    MAX_FRAMES,
    SCORES,
    STACK_LAYERS,
    SUFFIX,
    VERSION,
    add_entry,
    check_target,
    entry_info,
    is_bundle,
    layer_file,
)
from napari_partial_style.core.io.image_files import (
    BYTES_PER_PIXEL,
    DEFAULT_MAX_PIXELS,
    describe_file,
    image_dims,
    read_image,
    write_encoded,
)

# Entries that claim more are refused before they are inflated or read (a zip bomb): the JSON files
# are a few KB; the content and style at most the largest image read (100 Mpx of float32 RGBA); the
# other layers at most their shape on the content as float32 RGBA, plus room for the file's header.
MAX_JSON_BYTES = 4_000_000
MAX_ENTRY_BYTES = DEFAULT_MAX_PIXELS * BYTES_PER_PIXEL
HEADER_BYTES = 1_000_000
MAX_MAPS = 1001  # CRF marginals: the classifier's classes (1000 for ImageNet) and the background
PREVIEW_HEIGHT = 384  # core/job.preview_strip's


@dataclass
class Bundle:
    """Everything one job produced; arrays that a job did not make are None."""

    manifest: dict[str, Any]
    content: np.ndarray
    style: np.ndarray | None = None
    stylized: np.ndarray | None = None
    composite: np.ndarray | None = None
    preview: np.ndarray | None = None
    labels: np.ndarray | None = None
    saliency: np.ndarray | None = None
    crf_probabilities: np.ndarray | None = None
    scores: dict[str, Any] | None = field(default=None)
    frames: int | None = None  # a clip's frame count: its layers but the style and preview have a frame axis


def _files(bundle: Bundle) -> dict[str, tuple[str, np.ndarray]]:
    return {name: layer_file(name, getattr(bundle, name)) for name in LAYERS if getattr(bundle, name) is not None}


def write_bundle(bundle: Bundle, path: str | Path, overwrite: bool = False) -> Path:
    """Write atomically; an existing bundle is replaced only when `overwrite` is set. A clip's
    (`frames` set) is written a frame at a time (core/io/bundle_frames.py)."""
    if bundle.frames:
        return _write_frames(bundle, path, overwrite)
    path = check_target(path, overwrite)
    files = _files(bundle)
    manifest = {
        **bundle.manifest,
        "format": FORMAT,
        "version": VERSION,
        "files": {name: filename for name, (filename, _) in files.items()},
    }
    text = strict_json.dumps(manifest)
    with atomic_file(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        for filename, array in files.values():
            with archive.open(entry_info(filename), "w", force_zip64=True) as entry:
                write_encoded(array, Path(filename).suffix, entry, filename)
        if bundle.scores is not None:
            add_entry(archive, SCORES, strict_json.dumps(bundle.scores).encode())
        add_entry(archive, MANIFEST, text.encode())
    return path


def _write_frames(bundle: Bundle, path: str | Path, overwrite: bool) -> Path:
    from napari_partial_style.core.io.bundle_frames import FrameBundleWriter

    stacks = {name: getattr(bundle, name) for name in FRAME_LAYERS if getattr(bundle, name) is not None}
    for name, stack in stacks.items():
        if len(stack) != bundle.frames:
            raise InputError(
                f"the clip has {bundle.frames} frames but its {name} has {len(stack)}; give one per frame."
            )
    with FrameBundleWriter(path, overwrite) as writer:
        for index in range(bundle.frames):
            writer.add(**{name: stack[index] for name, stack in stacks.items()})
        return writer.finish(bundle.manifest, bundle.style, bundle.scores)


Reader = Callable[[str, int], bytes]  # a file of the bundle by name, at most so many bytes


@contextmanager
def _entries(path: Path) -> Iterator[Reader]:
    """A reader of the bundle's files by name, open for one read of the whole bundle (so its
    files all come from the same write); FileNotFoundError names a missing file."""
    recover(path, is_complete=is_bundle)
    if path.is_dir():
        yield lambda name, limit: read_folder_entry(path, name, limit)
        return
    if not path.is_file():
        raise BundleError(f"{path}: no such bundle; check the path.")
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BundleError(
            f"{path} is not a result bundle: it is {describe_file(path)}, not a zip holding {MANIFEST}."
        ) from exc
    with archive:
        yield lambda name, limit: read_zip_entry(path, archive, name, limit)


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a bundle, checked for format, version and the shape of `files`."""
    path = Path(path)
    with _entries(path) as read:
        return _manifest(path, read)


def _manifest(path: Path, read: Reader) -> dict[str, Any]:
    try:
        manifest = json.loads(read(MANIFEST, MAX_JSON_BYTES).decode("utf-8"))
    except FileNotFoundError as exc:
        raise BundleError(f"{path} is not a result bundle: {MANIFEST} is missing.") from exc
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path}: {MANIFEST} is damaged ({exc}).") from exc
    except RecursionError as exc:
        raise BundleError(f"{path}: {MANIFEST} is nested deeper than any manifest is; the bundle is damaged.") from exc
    if not isinstance(manifest, dict):
        raise BundleError(
            f"{path}: {MANIFEST} holds a JSON {type(manifest).__name__}, not an object; the bundle is damaged."
        )
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{path}: {MANIFEST} is not a {FORMAT} manifest.")
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BundleError(
            f"{path}: {MANIFEST} gives the version as {version!r}, not a whole number like {VERSION}; "
            "the bundle is damaged."
        )
    if version != VERSION:
        raise BundleError(
            f"{path}: bundle version {version} is not supported (this version reads {VERSION}); "
            "update napari-partial-style."
        )
    frames = _frame_count(path, manifest)
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(_file_names(v, frames) for v in files.values()):
        per_frame = f", or for a clip's layers a list of {frames} file names" if frames else ""
        raise BundleError(
            f'{path}: {MANIFEST}\'s "files" must map layer names to file names{per_frame}; the bundle is damaged.'
        )
    for name, names in files.items():
        if name not in LAYERS:
            raise BundleError(f"{path}: {MANIFEST} names an unknown layer {name!r} (known: {', '.join(LAYERS)}).")
        if frames and (name in FRAME_LAYERS) != isinstance(names, list):
            raise BundleError(
                f"{path}: {MANIFEST} gives {name} {'one file' if isinstance(names, str) else 'a list of files'}, "
                "but a clip's content, labels, stylized, composite and saliency have one per frame, the rest one; "
                "the bundle is damaged."
            )
        for filename in [names] if isinstance(names, str) else names:
            if filename != Path(filename).name or filename in ("", ".", "..") or "\\" in filename:
                raise BundleError(
                    f"{path}: {MANIFEST} points {name} at {filename!r}; only files inside the bundle are read."
                )
    targets = manifest.get("targets", [])
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise BundleError(f'{path}: {MANIFEST}\'s "targets" must be a list of class names.')
    return manifest


def _frame_count(path: Path, manifest: dict[str, Any]) -> int | None:
    frames = manifest.get("frames")
    if frames is None:
        return None
    if not isinstance(frames, int) or isinstance(frames, bool) or not 1 <= frames <= MAX_FRAMES:
        raise BundleError(
            f"{path}: {MANIFEST} gives the frame count as {frames!r}, not a whole number from 1 to {MAX_FRAMES}; "
            "the bundle is damaged."
        )
    return frames


def _file_names(value: Any, frames: int | None) -> bool:
    """One file name, or (a clip's layer) one per frame."""
    if isinstance(value, str):
        return True
    return bool(frames) and isinstance(value, list) and len(value) == frames and all(isinstance(v, str) for v in value)


def read_bundle(path: str | Path) -> Bundle:
    """Read every file the manifest names; a missing, unreadable or misshapen one is named in the
    error. The content is read first: every other layer must lie on it, which its file's header
    shows before any of its pixels is decoded."""
    path = Path(path)
    with _entries(path) as read:
        manifest = _manifest(path, read)
        files = manifest["files"]
        if "content" not in files:
            raise BundleError(f"{path}: the manifest names no content image.")
        frames = manifest.get("frames")
        first = files["content"][0] if frames else files["content"]
        content = _image(path, read, first, MAX_ENTRY_BYTES)
        frame = content.shape[:2]
        arrays = {}
        for name, names in files.items():
            if name == "style":  # any size: it is not laid on the content
                arrays[name] = _image(path, read, names, MAX_ENTRY_BYTES)
                continue
            pixels, fits = _rule(path, name, frame, manifest["targets"])
            limit = pixels * BYTES_PER_PIXEL + HEADER_BYTES
            if frames:
                arrays[name] = _stack(path, [_layer(_image(path, read, f, limit, fits), name) for f in names], name)
            else:
                arrays[name] = content if name == "content" else _layer(_image(path, read, names, limit, fits), name)
        scores = _scores(path, read)
    for index in range(frames or 1):
        each = {name: a if name == "style" or not frames else a[index] for name, a in arrays.items()}
        named = _named(files, index if frames else None)
        _check_shapes(path, named, each, len(manifest["targets"]))
        _check_finite(path, named, each)
    return Bundle(manifest=manifest, scores=scores, frames=frames, **arrays)


def _layer(array: np.ndarray, name: str) -> np.ndarray:
    """A map stack of one map (saved as a 2-D TIFF) gets its axis back."""
    return array[None] if name in STACK_LAYERS and array.ndim == 2 else array


def _named(files: dict[str, Any], index: int | None) -> dict[str, str]:
    """Each layer's file name (of frame `index` in a clip), for the errors."""
    return {name: names[index] if isinstance(names, list) else names for name, names in files.items()}


def _stack(path: Path, frames: list[np.ndarray], name: str) -> np.ndarray:
    """A clip's layer: its frames on a leading axis (frames of one size, checked against the content's
    header; labels of 8 and 16 bits together are 16)."""
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise BundleError(
            f"{path}: the frames of {name} have shapes {sorted(shapes)}; one clip's frames have one; "
            "the bundle is damaged."
        )
    return np.stack(frames)


def _rule(path: Path, name: str, frame: tuple[int, int], targets: list[str]) -> tuple[int, Callable]:
    """The most pixels the layer's file can hold on a content of `frame` (height, width), and the
    check of its header's (height, width, images) that says why it cannot be that layer."""
    h, w = frame
    if name == "preview":  # content | stylized | composite side by side, a few hundred pixels high
        most = 2 * PREVIEW_HEIGHT * (3 * -(-w * PREVIEW_HEIGHT // h) + 24)
        return most, partial(_fits_pixels, name, frame, most)
    if name == "saliency" and not targets:
        raise BundleError(f"{path}: the bundle holds saliency maps but its manifest names no targets.")
    planes = {"saliency": len(targets), "crf_probabilities": MAX_MAPS}.get(name, 1)
    return planes * h * w, partial(_fits_frame, name, frame, planes)


def _fits_pixels(name: str, frame: tuple[int, int], most: int, dims: tuple[int, int, int]) -> str | None:
    height, width, count = dims
    if height * width * count > most:
        return f"is {height}×{width} px, larger than the {name} of a {frame[0]}×{frame[1]} content can be"
    return None


def _fits_frame(name: str, frame: tuple[int, int], planes: int, dims: tuple[int, int, int]) -> str | None:
    height, width, count = dims
    if (height, width) != frame:
        return (
            f"has shape ({height}, {width}) in its header, but {name} must be {frame[0]}×{frame[1]} "
            "to lie on the content"
        )
    if name == "saliency" and count != planes:
        return f"holds {count} map(s), but the manifest names {planes} target(s)"
    if count > planes:
        return f"holds {count} images, more than {name} has ({planes})"
    return None


def _image(path: Path, read: Reader, filename: str, limit: int, fits: Callable | None = None) -> np.ndarray:
    """One image of the bundle, decoded only when `fits` (given its header's dims) finds no fault."""
    try:
        fh = io.BytesIO(read(filename, limit))
        if fits is not None:
            dims = image_dims(fh, filename)
            fault = fits(dims)
            if fault:
                raise BundleError(f"{path}: {filename} {fault}; the bundle is damaged (nothing of it was decoded).")
            max_pixels = dims[0] * dims[1] * dims[2]
        else:
            max_pixels = DEFAULT_MAX_PIXELS
        return read_image(fh, filename, max_pixels)
    except (InputError, OSError) as exc:
        raise BundleError(f"{path}: {filename} is missing or damaged ({exc}).") from exc


def _scores(path: Path, read: Reader) -> dict[str, Any] | None:
    try:
        scores = json.loads(read(SCORES, MAX_JSON_BYTES).decode("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as exc:
        raise BundleError(f"{path}: {SCORES} is damaged ({exc.__class__.__name__}).") from exc
    if not isinstance(scores, dict):
        raise BundleError(f"{path}: {SCORES} holds a JSON {type(scores).__name__}, not an object.")
    return scores


def _check_finite(path: Path, files: dict[str, str], arrays: dict[str, np.ndarray]) -> None:
    """A float layer with NaN or infinite values would show as black or empty without a word."""
    for name, array in arrays.items():
        if array is not None and array.dtype.kind == "f":
            bad = int(np.count_nonzero(~np.isfinite(array)))
            if bad:
                raise BundleError(f"{path}: {files[name]} holds {bad} NaN or infinite value(s); the bundle is damaged.")


def _check_shapes(path: Path, files: dict[str, str], arrays: dict[str, np.ndarray], targets: int) -> None:
    """Every layer must lie on the content: same height and width, the right number of axes."""
    h, w = arrays["content"].shape[:2]
    expected = {
        "stylized": (f"({h}, {w}, C)", lambda a: a.ndim in (2, 3) and a.shape[:2] == (h, w)),
        "composite": (f"({h}, {w}, C)", lambda a: a.ndim in (2, 3) and a.shape[:2] == (h, w)),
        "labels": (f"({h}, {w}) with integer labels", lambda a: a.shape == (h, w) and a.dtype.kind in "ui"),
        "saliency": (f"({targets}, {h}, {w})", lambda a: a.shape == (targets, h, w)),
        "crf_probabilities": (f"(K, {h}, {w})", lambda a: a.ndim == 3 and a.shape[1:] == (h, w)),
    }
    for name, (form, fits) in expected.items():
        array = arrays.get(name)
        if array is not None and not fits(array):
            raise BundleError(
                f"{path}: {files[name]} has shape {array.shape} ({array.dtype}), but {name} must have "
                f"shape {form} to lie on the content; the bundle is damaged."
            )
