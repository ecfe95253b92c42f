"""The result bundle `NAME.pstyle/`: a folder of plain files plus `manifest.json`.

Writes go to a temporary folder beside the target; an existing bundle is moved aside, the new
one renamed in, and only then is the old one deleted, so a failed or interrupted write never
leaves a half bundle and never damages the bundle that was there.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_partial_style.core.errors import BundleError, InputError
from napari_partial_style.core.image_files import image_suffix, read_image_file, write_image_file

FORMAT = "napari-partial-style bundle"
VERSION = 1
SUFFIX = ".pstyle"
MANIFEST = "manifest.json"
SCORES = "scores.json"
IMAGE_LAYERS = ("content", "style", "stylized", "composite", "preview")
STACK_LAYERS = ("saliency", "crf_probabilities")


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


def check_target(path: str | Path, overwrite: bool = False) -> Path:
    """Refuse, before any work, a target that would fail or destroy something at write time."""
    path = Path(path)
    if path.suffix != SUFFIX:
        raise InputError(f"output {path} must end in {SUFFIX} (napari opens such folders); e.g. {path.name}{SUFFIX}")
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise InputError(f"output {path} exists; choose another name or pass --overwrite.")
        if not (path / MANIFEST).is_file():
            raise InputError(f"{path} exists and is not a result bundle; it is left alone, choose another name.")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise InputError(f"folder {parent} does not exist; create it first.")
    if not os.access(parent, os.W_OK):
        raise InputError(f"folder {parent} is not writable; choose another output folder.")
    return path


def _files(bundle: Bundle) -> dict[str, tuple[str, np.ndarray]]:
    files = {}
    for name in IMAGE_LAYERS:
        array = getattr(bundle, name)
        if array is not None:
            files[name] = (name + image_suffix(array.dtype), array)
    if bundle.labels is not None:
        dtype = np.uint8 if int(bundle.labels.max(initial=0)) <= 255 else np.uint16
        files["labels"] = ("labels.png", bundle.labels.astype(dtype))
    for name in STACK_LAYERS:
        array = getattr(bundle, name)
        if array is not None:
            files[name] = (f"{name}.tif", np.asarray(array, dtype=np.float32))
    return files


def write_bundle(bundle: Bundle, path: str | Path, overwrite: bool = False) -> Path:
    """Write atomically; an existing bundle is replaced only when `overwrite` is set."""
    path = check_target(path, overwrite)
    tmp = Path(tempfile.mkdtemp(dir=path.resolve().parent, prefix=f".{path.name}.tmp-"))
    try:
        files = _files(bundle)
        for filename, array in files.values():
            write_image_file(tmp / filename, array)
        if bundle.scores is not None:
            (tmp / SCORES).write_text(json.dumps(bundle.scores, indent=2))
        manifest = {
            **bundle.manifest,
            "format": FORMAT,
            "version": VERSION,
            "files": {name: filename for name, (filename, _) in files.items()},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=_jsonable))
        _swap_in(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _swap_in(tmp: Path, path: Path) -> None:
    old = None
    if path.exists():
        old = Path(tempfile.mkdtemp(dir=path.resolve().parent, prefix=f".{path.name}.old-"))
        os.rmdir(old)
        os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        if old is not None:
            os.replace(old, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (Path, np.dtype)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a bundle, checked for format and version."""
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BundleError(f"{path} is not a result bundle: {MANIFEST} is missing.") from exc
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path}: {MANIFEST} is damaged ({exc}).") from exc
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{path}: {MANIFEST} is not a {FORMAT} manifest.")
    if manifest.get("version") != VERSION:
        raise BundleError(
            f"{path}: bundle version {manifest.get('version')} is not supported (this version reads {VERSION}); "
            "update napari-partial-style."
        )
    return manifest


def read_bundle(path: str | Path) -> Bundle:
    """Read every file the manifest names; a missing or unreadable one is named in the error."""
    path = Path(path)
    manifest = read_manifest(path)
    arrays: dict[str, Any] = {}
    for name, filename in manifest.get("files", {}).items():
        try:
            arrays[name] = read_image_file(path / filename)
        except InputError as exc:
            raise BundleError(f"{path}: {filename} is missing or damaged ({exc}).") from exc
    if "content" not in arrays:
        raise BundleError(f"{path}: the manifest names no content image.")
    scores = None
    if (path / SCORES).is_file():
        try:
            scores = json.loads((path / SCORES).read_text())
        except ValueError as exc:
            raise BundleError(f"{path}: {SCORES} is damaged ({exc}).") from exc
    for name in STACK_LAYERS:
        if name in arrays and arrays[name].ndim == 2:
            arrays[name] = arrays[name][None]
    return Bundle(manifest=manifest, scores=scores, **arrays)
