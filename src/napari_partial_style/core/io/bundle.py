"""The result bundle `NAME.pstyle/`: a folder of plain files plus `manifest.json`.

Writes go to a temporary folder beside the target; an existing bundle is moved aside, the new
one renamed in, and only then is the old one deleted, so a failed or interrupted write never
leaves a half bundle and never damages the bundle that was there (core/io/atomic.py; what a killed
writer left is cleaned up by the next write or read). Reading trusts nothing in the folder: the
manifest's shape, file names (plain names inside the bundle only) and every array's shape are checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_partial_style.core.io.atomic import atomic_folder, check_parent, recover
from napari_partial_style.core.errors import BundleError, InputError
from napari_partial_style.core.io.image_files import image_suffix, read_image_file, write_image_file

FORMAT = "napari-partial-style bundle"
VERSION = 1
SUFFIX = ".pstyle"
MANIFEST = "manifest.json"
SCORES = "scores.json"
IMAGE_LAYERS = ("content", "style", "stylized", "composite", "preview")
STACK_LAYERS = ("saliency", "crf_probabilities")
LAYERS = (*IMAGE_LAYERS, "labels", *STACK_LAYERS)


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
    recover(path, is_complete=lambda p: (p / MANIFEST).is_file())
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise InputError(f"output {path} exists; choose another name or pass --overwrite.")
        if not (path / MANIFEST).is_file():
            raise InputError(f"{path} exists and is not a result bundle; it is left alone, choose another name.")
    check_parent(path)
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
    files = _files(bundle)
    manifest = {
        **bundle.manifest,
        "format": FORMAT,
        "version": VERSION,
        "files": {name: filename for name, (filename, _) in files.items()},
    }
    text = json.dumps(manifest, indent=2, default=_jsonable)
    with atomic_folder(path) as tmp:
        for filename, array in files.values():
            write_image_file(tmp / filename, array)
        if bundle.scores is not None:
            (tmp / SCORES).write_text(json.dumps(bundle.scores, indent=2, default=_jsonable))
        (tmp / MANIFEST).write_text(text)
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (Path, np.dtype)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a bundle, checked for format, version and the shape of `files`."""
    path = Path(path)
    recover(path, is_complete=lambda p: (p / MANIFEST).is_file())
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BundleError(f"{path} is not a result bundle: {MANIFEST} is missing.") from exc
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path}: {MANIFEST} is damaged ({exc}).") from exc
    if not isinstance(manifest, dict):
        raise BundleError(f"{path}: {MANIFEST} holds a JSON {type(manifest).__name__}, not an object; the bundle is damaged.")
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{path}: {MANIFEST} is not a {FORMAT} manifest.")
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BundleError(f"{path}: {MANIFEST} gives the version as {version!r}, not a whole number like {VERSION}; "
                          "the bundle is damaged.")
    if version != VERSION:
        raise BundleError(
            f"{path}: bundle version {version} is not supported (this version reads {VERSION}); "
            "update napari-partial-style."
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise BundleError(f"{path}: {MANIFEST}'s \"files\" must map layer names to file names; the bundle is damaged.")
    for name, filename in files.items():
        if name not in LAYERS:
            raise BundleError(f"{path}: {MANIFEST} names an unknown layer {name!r} (known: {', '.join(LAYERS)}).")
        if filename != Path(filename).name or filename in ("", ".", "..") or "\\" in filename:
            raise BundleError(f"{path}: {MANIFEST} points {name} at {filename!r}; only files inside the bundle are read.")
    targets = manifest.get("targets", [])
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise BundleError(f"{path}: {MANIFEST}'s \"targets\" must be a list of class names.")
    return manifest


def read_bundle(path: str | Path) -> Bundle:
    """Read every file the manifest names; a missing, unreadable or misshapen one is named in the error."""
    path = Path(path)
    manifest = read_manifest(path)
    arrays: dict[str, Any] = {}
    for name, filename in manifest["files"].items():
        try:
            arrays[name] = read_image_file(path / filename)
        except InputError as exc:
            raise BundleError(f"{path}: {filename} is missing or damaged ({exc}).") from exc
    if "content" not in arrays:
        raise BundleError(f"{path}: the manifest names no content image.")
    for name in STACK_LAYERS:
        if name in arrays and arrays[name].ndim == 2:
            arrays[name] = arrays[name][None]
    _check_shapes(path, manifest["files"], arrays)
    scores = None
    if (path / SCORES).is_file():
        try:
            scores = json.loads((path / SCORES).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BundleError(f"{path}: {SCORES} is damaged ({exc}).") from exc
        if not isinstance(scores, dict):
            raise BundleError(f"{path}: {SCORES} holds a JSON {type(scores).__name__}, not an object.")
    return Bundle(manifest=manifest, scores=scores, **arrays)


def _check_shapes(path: Path, files: dict[str, str], arrays: dict[str, np.ndarray]) -> None:
    """Every layer must lie on the content: same height and width, the right number of axes."""
    h, w = arrays["content"].shape[:2]
    expected = {"stylized": (f"({h}, {w}, C)", lambda a: a.ndim in (2, 3) and a.shape[:2] == (h, w)),
                "composite": (f"({h}, {w}, C)", lambda a: a.ndim in (2, 3) and a.shape[:2] == (h, w)),
                "labels": (f"({h}, {w}) with integer labels", lambda a: a.shape == (h, w) and a.dtype.kind in "ui"),
                "saliency": (f"(K, {h}, {w})", lambda a: a.ndim == 3 and a.shape[1:] == (h, w)),
                "crf_probabilities": (f"(K, {h}, {w})", lambda a: a.ndim == 3 and a.shape[1:] == (h, w))}
    for name, (form, fits) in expected.items():
        array = arrays.get(name)
        if array is not None and not fits(array):
            raise BundleError(f"{path}: {files[name]} has shape {array.shape} ({array.dtype}), but {name} must have "
                              f"shape {form} to lie on the content; the bundle is damaged.")
