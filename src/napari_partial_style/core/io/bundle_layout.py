"""What a bundle is on disk: its names and layers, how a layer is stored as a file, the zip entries'
settings, and the check of a target before anything is written. Shared by the one-frame writer and
reader (bundle.py) and the clip writer (bundle_frames.py)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.io.atomic import check_parent, recover
from napari_partial_style.core.io.image_files import image_suffix

FORMAT = "napari-partial-style bundle"
VERSION = 1
SUFFIX = ".pstyle"
MANIFEST = "manifest.json"
SCORES = "scores.json"
IMAGE_LAYERS = ("content", "style", "stylized", "composite", "preview")
STACK_LAYERS = ("saliency", "crf_probabilities")
LAYERS = (*IMAGE_LAYERS, "labels", *STACK_LAYERS)
FRAME_LAYERS = ("content", "stylized", "composite", "labels", "saliency")
MAX_FRAMES = 100_000


def check_target(path: str | Path, overwrite: bool = False) -> Path:
    """Refuse, before any work, a target that would fail or destroy something at write time."""
    path = Path(path)
    if path.suffix != SUFFIX:
        picture = (
            " (for the picture alone, add --save-image " + path.name + ")"
            if path.suffix in (".png", ".tif", ".tiff", ".jpg")
            else ""
        )
        raise InputError(
            f"output {path} must end in {SUFFIX} (napari opens such files); e.g. {path.name}{SUFFIX}{picture}"
        )
    recover(path, is_complete=is_bundle)
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise InputError(f"output {path} exists; choose another name or pass --overwrite.")
        if not is_bundle(path):
            raise InputError(f"{path} exists and is not a result bundle; it is left alone, choose another name.")
        _refuse_foreign_files(path)
    check_parent(path)
    return path


def _refuse_foreign_files(path: Path) -> None:
    """An unzipped bundle folder is replaced whole by the new bundle file: refused when it also
    holds files no bundle has (the user's notes), which would go with it."""
    if not path.is_dir() or path.is_symlink():
        return
    own = {MANIFEST, SCORES, *(layer + suffix for layer in LAYERS for suffix in (".png", ".tif"))}
    foreign = sorted(entry.name for entry in path.iterdir() if entry.name not in own)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise InputError(
            f"{path} is a bundle folder that also holds {shown}, which no bundle has; --overwrite replaces "
            "the whole folder, so move them out first, or choose another name."
        )


def is_bundle(path: Path) -> bool:
    """Whether `path` holds a bundle's manifest (a zip file, or a folder from version 0.1 or unzip)."""
    if path.is_dir():
        return (path / MANIFEST).is_file()
    try:
        with zipfile.ZipFile(path) as archive:
            return MANIFEST in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def layer_file(name: str, array: np.ndarray) -> tuple[str, np.ndarray]:
    """The file name and pixels a layer is stored as: images in their own dtype (PNG or TIFF),
    labels as 8- or 16-bit PNG, map stacks as float32 TIFF."""
    if name == "labels":
        dtype = np.uint8 if int(array.max(initial=0)) <= 255 else np.uint16
        return "labels.png", array.astype(dtype, copy=False)
    if name in STACK_LAYERS:
        return f"{name}.tif", np.asarray(array, dtype=np.float32)
    return name + image_suffix(array.dtype), array


def entry_info(name: str) -> zipfile.ZipInfo:
    """PNGs are stored as they are (already compressed), TIFF and JSON deflated; unzip gives rw-r--r-- files."""
    import time

    info = zipfile.ZipInfo(name, time.localtime()[:6])
    info.compress_type = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def add_entry(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    archive.writestr(entry_info(name), data)
