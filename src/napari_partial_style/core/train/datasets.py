"""Image-level labelled data: a folder of class folders (FMD's layout) or a CSV, and FMD's download.

A folder dataset is DATA/<class>/<image> or, as FMD ships, DATA/image/<class>/<image> with masks in
DATA/mask/<class>/ (kept for evaluation, not used by training). A CSV dataset has a header
`path,labels`; paths are relative to the CSV's folder; labels are separated by ';'.
"""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import as_source_image
from napari_partial_style.core.io.atomic import atomic_folder, recover
from napari_partial_style.core.io.download import OFFLINE_ENV, NoConnection, fetch, offline
from napari_partial_style.core.io.image_files import read_image_file
from napari_partial_style.core.progress import Progress, StageGenerator

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
FMD_CLASSES = ("fabric", "foliage", "glass", "leather", "metal", "paper", "plastic", "stone", "water", "wood")
FMD_URL = "https://people.csail.mit.edu/celiu/CVPR2010/FMD/FMD.zip"
FMD_PAGE = "https://people.csail.mit.edu/lavanya/fmd.html"


@dataclass
class Dataset:
    """Image paths with multi-hot targets over `classes`; `skipped` lists unreadable files."""

    classes: list[str]
    paths: list[Path]
    targets: np.ndarray  # (N, C) float32 multi-hot
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)


def load_dataset(data: str | Path, classes: list[str] | None = None) -> Dataset:
    """A folder of class folders or a CSV; `classes` fixes the class list and its order."""
    data = Path(data)
    if data.is_file() and data.suffix.lower() == ".csv":
        rows = _csv_rows(data)
    elif data.is_dir():
        rows = _folder_rows(data / "image" if (data / "image").is_dir() else data)
    else:
        raise InputError(f"{data} is neither a folder of class folders nor a .csv file.")
    found = sorted({label for _, labels in rows for label in labels})
    if classes is None:
        classes = found
    unknown = [(path, label) for path, labels in rows for label in labels if label not in classes]
    if unknown:
        path, label = unknown[0]
        raise InputError(
            f"{path}: label {label!r} is not in the class list ({', '.join(classes)}); "
            f"{len(unknown)} label(s) like this in all."
        )
    paths, targets, skipped = [], [], []
    for path, labels in _merge_duplicates(rows).items():
        problem = _unreadable(path)
        if problem:
            skipped.append((path, problem))
            continue
        paths.append(path)
        targets.append([1.0 if c in labels else 0.0 for c in classes])
    if not paths:
        raise InputError(f"{data}: no readable image.")
    targets_array = np.asarray(targets, np.float32)
    _check_classes(data, list(classes), targets_array, len(skipped))
    return Dataset(list(classes), paths, targets_array, skipped)


def _merge_duplicates(rows: list[tuple[Path, set[str]]]) -> dict[Path, set[str]]:
    """One entry per image: a file listed twice would otherwise land in training and validation."""
    merged: dict[Path, set[str]] = {}
    for path, labels in rows:
        merged.setdefault(path.resolve(), set()).update(labels)
    return merged


def _check_classes(data: Path, classes: list[str], targets: np.ndarray, n_skipped: int) -> None:
    """A classifier needs two classes or more, each with images: one class alone is always right."""
    if len(classes) < 2:
        raise InputError(
            f"{data}: only one class ({', '.join(classes) or 'none'}); a classifier needs at least two "
            "classes to tell apart."
        )
    empty = [c for c, n in zip(classes, targets.sum(axis=0)) if n == 0]
    if empty:
        why = f" ({n_skipped} unreadable image(s) were skipped)" if n_skipped else ""
        raise InputError(
            f"{data}: class {empty[0]!r} has no readable image{why}; add images or leave the class out "
            f"({len(empty)} class(es) like this)."
        )


def _folder_rows(root: Path) -> list[tuple[Path, set[str]]]:
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise InputError(f"{root} has no class folders; put each class's images in a folder named after it.")
    rows = []
    for folder in folders:
        images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            raise InputError(f"class folder {folder} holds no image; remove it or add images.")
        rows += [(p, {folder.name}) for p in images]
    return rows


def _csv_rows(path: Path) -> list[tuple[Path, set[str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: Excel starts its UTF-8 CSVs with a BOM
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start}); "
            'save it as "CSV UTF-8".'
        ) from exc
    with io.StringIO(text, newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"path", "labels"} <= set(reader.fieldnames):
            raise InputError(f"{path}: the CSV needs a header with the columns path,labels.")
        rows = []
        for line, row in enumerate(reader, start=2):
            labels = {label.strip() for label in (row["labels"] or "").split(";") if label.strip()}
            if not row["path"] or not labels:
                raise InputError(f"{path}, line {line}: each row needs a path and at least one label.")
            rows.append(((path.parent / row["path"]).resolve(), labels))
    if not rows:
        raise InputError(f"{path}: the CSV lists no image.")
    return rows


def _unreadable(path: Path) -> str | None:
    """Why an image cannot be used (the message names the file), or None."""
    try:
        as_source_image(read_image_file(path), name=str(path))
    except InputError as exc:
        return str(exc)
    return None


def fmd_steps(dest: str | Path) -> StageGenerator[Path]:
    """Download FMD, check and unpack it into `dest`/FMD; returns the dataset folder. The folder
    appears whole or not at all (a killed unpack's temporary is removed by the next)."""
    dest = Path(dest)
    final = dest / "FMD"
    if (final / "image").is_dir():
        check_fmd(final)
        return final
    if final.exists():
        raise InputError(
            f"{final} exists but holds no image/ folder; move it away (it is not overwritten) "
            "or choose another data folder."
        )
    if offline():
        raise InputError(fmd_manual(dest, f"{OFFLINE_ENV} is set"))
    archive = dest / "FMD.zip"
    try:
        yield from fetch(FMD_URL, archive)
    except NoConnection as exc:
        raise InputError(fmd_manual(dest, f"no connection: {exc}")) from exc
    yield Progress("unpack", 0, 1, message="FMD.zip")
    recover(final)
    with atomic_folder(final) as folder:
        unpacked = folder / ".zip-contents"
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(unpacked)
        images = next(unpacked.rglob("image"), None)
        if images is None or not images.is_dir():
            raise InputError(f"{archive} does not hold FMD's image/ folder; delete it and download again.")
        check_fmd(images.parent)
        for part in images.parent.iterdir():  # the archive's FMD folder becomes `final`
            part.replace(folder / part.name)
        shutil.rmtree(unpacked)
    yield Progress("unpack", 1, 1, message="FMD.zip")
    return final


def check_fmd(root: Path) -> None:
    missing = [c for c in FMD_CLASSES if not (root / "image" / c).is_dir()]
    if missing:
        raise InputError(f"{root} is not a complete FMD: image/{missing[0]} is missing ({len(missing)} classes).")


def fmd_manual(dest: Path, reason: str) -> str:
    return (
        f"the Flickr Material Database cannot be downloaded ({reason}). Download {FMD_URL} "
        f"(see {FMD_PAGE}) on a machine with internet and unpack it so that {dest / 'FMD' / 'image'} "
        "holds the ten class folders (fabric ... wood)."
    )
