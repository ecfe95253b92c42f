"""Prompts: clicks and strokes that correct a segmentation, each tied to a region.

A prompt is positive ("this is the region") or negative ("this is not the region") and covers
pixels of the content image (rows, cols; a point is one coordinate, a stroke many, each widened to
a disc of `radius` px). The CRF (core/segment/crf.py) takes them as fixed unaries: a prompted
pixel keeps its label through every mean-field iteration and pulls its neighbours of like colour
along, so a stroke inside the cup takes the cup up to its rim.

Regions are a target class's name or a label value as text ("1" is the first target). A negative
prompt sends its pixels to the background unless another region's prompt claims them; of two
prompts on one pixel the later wins (a correction corrects what came before).

Files: napari's Points CSV (`index,axis-0,axis-1`, rows then columns; an optional column `positive`
(true/false, 1/0) or `sign` (+/-) makes points negative; without one every point is positive) and
prompt label images (label 1 = this region, 2 = not this region, the content's size).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from napari_partial_style.core.errors import InputError

FREE = -1  # fixed_unary's value for a pixel no prompt reaches
POSITIVE_WORDS = {"true": True, "1": True, "yes": True, "+": True, "false": False, "0": False, "no": False, "-": False}
TABLE_SUFFIXES = (".csv",)


@dataclass(frozen=True, eq=False)
class Prompt:
    """One click or stroke: its pixels (int rows, cols in the content's pixels) and region."""

    positive: bool
    region: str
    rows: np.ndarray
    cols: np.ndarray
    radius: float = 0

    def __post_init__(self) -> None:
        rows, cols = np.asarray(self.rows), np.asarray(self.cols)
        if rows.shape != cols.shape or rows.ndim != 1 or not rows.size:
            raise InputError(
                f"a prompt needs as many rows as columns, at least one (got {rows.shape} and {cols.shape})."
            )
        if rows.dtype.kind not in "iuf" or cols.dtype.kind not in "iuf" or not np.isfinite([rows, cols]).all():
            raise InputError("a prompt's rows and columns must be finite numbers (pixel coordinates).")
        if not (np.isfinite(self.radius) and self.radius >= 0):
            raise InputError(f"a prompt's radius must be a finite number of 0 or more px, not {self.radius!r}.")
        if not isinstance(self.region, str) or not self.region.strip():
            raise InputError("a prompt needs a region: a target class's name or a label value such as '1'.")
        object.__setattr__(self, "rows", np.round(rows).astype(np.int64))
        object.__setattr__(self, "cols", np.round(cols).astype(np.int64))
        object.__setattr__(self, "positive", bool(self.positive))
        object.__setattr__(self, "radius", float(self.radius))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Prompt) and _record(self) == _record(other)

    __hash__ = None  # type: ignore[assignment]  # arrays inside: not hashable


@dataclass(frozen=True)
class Prompts:
    """The prompts of one image, oldest first (immutable: each change is a new value, so a job's
    history can keep the old one for undo)."""

    items: tuple[Prompt, ...] = ()

    def __post_init__(self) -> None:
        if not all(isinstance(p, Prompt) for p in self.items):
            raise InputError("Prompts holds Prompt values only.")
        object.__setattr__(self, "items", tuple(self.items))

    def __len__(self) -> int:
        return len(self.items)

    def add(self, prompt: Prompt) -> Prompts:
        if not isinstance(prompt, Prompt):
            raise InputError(f"add takes a Prompt, not {type(prompt).__name__}.")
        return Prompts((*self.items, prompt))

    def without_last(self) -> Prompts:
        return Prompts(self.items[:-1])

    def to_json(self) -> list[dict]:
        """Plain JSON (the bundle's manifest): each prompt's pixels as runs [row, first column,
        length] along rows, so a painted stroke of thousands of pixels stays small."""
        return [_record(p) for p in self.items]

    @classmethod
    def from_json(cls, data: object) -> Prompts:
        if not isinstance(data, list):
            raise InputError(f"prompts must be a JSON list of prompts, not {type(data).__name__}.")
        return cls(tuple(_from_record(item, index) for index, item in enumerate(data, start=1)))

    @classmethod
    def from_points_csv(cls, path: str | Path, region: str) -> Prompts:
        """napari's Points CSV: one point prompt per row (see the module's docstring for columns)."""
        return cls(tuple(_points(Path(path), region)))

    @classmethod
    def from_label_image(cls, array: np.ndarray, region: str, name: str = "the prompt image") -> Prompts:
        """Label 1 = this region (one positive stroke), 2 = not this region (one negative stroke)."""
        array = np.asarray(array)
        if array.ndim != 2 or array.dtype.kind not in "biu":
            raise InputError(
                f"{name} must be a one-channel label image (0, 1 = {region}, 2 = not {region}), "
                f"not {array.dtype} of shape {array.shape}."
            )
        others = sorted(set(np.unique(array).tolist()) - {0, 1, 2})
        if others:
            raise InputError(
                f"{name} holds label(s) {others[:5]}; prompt images use 1 = this region and 2 = not this "
                "region only (0: no prompt)."
            )
        items = []
        for value, positive in ((1, True), (2, False)):
            rows, cols = np.nonzero(array == value)
            if rows.size:
                items.append(Prompt(positive, region, rows, cols))
        if not items:
            raise InputError(f"{name} has no pixel labelled 1 or 2: paint 1 on the region and 2 beside it.")
        return cls(tuple(items))


def read_prompts(path: str | Path, region: str, shape: tuple[int, int], max_pixels: int | None = None) -> Prompts:
    """A prompts file for an image of `shape`: a Points CSV or a prompt label image of that size."""
    from napari_partial_style.core.io.image_files import DEFAULT_MAX_PIXELS, read_image_file

    path = Path(path)
    if path.suffix.lower() in TABLE_SUFFIXES:
        return Prompts.from_points_csv(path, region)
    if path.suffix.lower() not in (".png", ".tif", ".tiff"):
        raise InputError(
            f"prompts {path}: give napari's Points CSV (.csv) or a prompt label image (.png, .tif), "
            f"not a {path.suffix or 'file without suffix'}."
        )
    labels = read_image_file(path, max_pixels or DEFAULT_MAX_PIXELS)
    if labels.shape[:2] != tuple(shape):
        raise InputError(
            f"prompts {path} is {labels.shape[1]}×{labels.shape[0]} but the content is {shape[1]}×{shape[0]}; "
            "paint the prompt labels on the content itself."
        )
    return Prompts.from_label_image(labels, region, f"prompts {path}")


def region_label(region: str, targets: Sequence[str]) -> int:
    """The label value (1..K) a region names: a target class, case aside, or a label value."""
    text = region.strip()
    if text.isdigit() and 1 <= int(text) <= len(targets):
        return int(text)
    lowered = [t.lower() for t in targets]
    if text.lower() in lowered:
        return lowered.index(text.lower()) + 1
    raise InputError(
        f"prompt region {region!r} is neither a target class ({', '.join(targets) or 'none'}) nor a label value "
        f"1-{len(targets)}; prompt a region of this job's segmentation."
    )


def check_prompts(prompts: Prompts, shape: tuple[int, int], targets: Sequence[str] | None = None) -> None:
    """Every prompt lies on an image of `shape` and, when `targets` are known, names one of them."""
    for prompt in prompts.items:
        if targets is not None:
            region_label(prompt.region, targets)
        outside = (prompt.rows < 0) | (prompt.rows >= shape[0]) | (prompt.cols < 0) | (prompt.cols >= shape[1])
        if outside.any():
            at = int(np.argmax(outside))
            raise InputError(
                f"a prompt for {prompt.region!r} lies outside the image at row {prompt.rows[at]}, column "
                f"{prompt.cols[at]} (the image is {shape[1]}×{shape[0]}); prompt pixels of the image."
            )


def fixed_unary(
    prompts: Prompts, targets: Sequence[str], shape: tuple[int, int], image_shape: tuple[int, int] | None = None
) -> np.ndarray:
    """(h, w) int32: each prompted pixel's label (0 = background, i + 1 = targets[i]), FREE elsewhere.
    Coordinates are in `image_shape`'s pixels (default `shape`) and scaled onto `shape` (the CRF's
    working size), radii with them."""
    from scipy import ndimage

    image_shape = tuple(image_shape or shape)
    scale = (shape[0] / image_shape[0], shape[1] / image_shape[1])
    fixed = np.full(shape, FREE, np.int32)
    check_prompts(prompts, image_shape, targets)
    for prompt in prompts.items:
        label = region_label(prompt.region, targets)
        rows, cols = _scaled(prompt.rows, scale[0], shape[0]), _scaled(prompt.cols, scale[1], shape[1])
        radius = prompt.radius * min(scale)
        reach = int(radius) if radius >= 1 else 0
        # only the prompt's box (and its discs' reach) is touched: a click costs its disc, not the image
        top, left = max(rows.min() - reach, 0), max(cols.min() - reach, 0)
        box = (slice(top, rows.max() + reach + 1), slice(left, cols.max() + reach + 1))
        window = fixed[box]
        covered = np.zeros(window.shape, bool)
        covered[rows - top, cols - left] = True
        if reach:
            covered = ndimage.binary_dilation(covered, _disc(radius))
        if prompt.positive:
            window[covered] = label
        else:  # not this region: the background, unless another region holds the pixel
            window[covered & ((window == FREE) | (window == label))] = 0
    return fixed


def _scaled(index: np.ndarray, scale: float, size: int) -> np.ndarray:
    return np.clip(np.floor((index + 0.5) * scale), 0, size - 1).astype(np.int64)


def _disc(radius: float) -> np.ndarray:
    r = int(radius)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return yy**2 + xx**2 <= radius**2


def _record(prompt: Prompt) -> dict:
    """A prompt as JSON, its pixels as sorted runs along rows."""
    pixels = np.unique(np.stack([prompt.rows, prompt.cols], 1), axis=0)
    rows, cols = pixels[:, 0], pixels[:, 1]
    starts = np.ones(len(rows), bool)
    starts[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1] + 1)
    first = np.flatnonzero(starts)
    lengths = np.diff(np.append(first, len(rows)))
    runs = np.stack([rows[first], cols[first], lengths], 1).tolist()
    return {"positive": prompt.positive, "region": prompt.region, "radius": prompt.radius, "runs": runs}


def _from_record(item: object, index: int) -> Prompt:
    where = f"prompt {index}"
    if not isinstance(item, dict) or not isinstance(item.get("runs"), list):
        raise InputError(f"{where} must be an object with positive, region, radius and runs; it is damaged.")
    runs = np.asarray(item["runs"], dtype=object)
    if runs.ndim != 2 or runs.shape[1:] != (3,) or not all(isinstance(v, int) and v >= 0 for v in runs.flat):
        raise InputError(f"{where}: runs must be [row, column, length] triples of whole numbers; it is damaged.")
    runs = runs.astype(np.int64)
    if runs.size and runs[:, 2].min() < 1 or runs[:, 2].sum() > 10**8:
        raise InputError(f"{where}: runs must have lengths from 1 up; it is damaged.")
    rows = np.repeat(runs[:, 0], runs[:, 2])
    cols = np.concatenate([np.arange(c, c + n) for _, c, n in runs]) if len(runs) else np.zeros(0, np.int64)
    positive, region, radius = item.get("positive"), item.get("region"), item.get("radius", 0)
    if not isinstance(positive, bool) or not isinstance(radius, (int, float)) or isinstance(radius, bool):
        raise InputError(f"{where}: positive must be true or false and radius a number; it is damaged.")
    return Prompt(positive, str(region) if region is not None else "", rows, cols, radius)


def _points(path: Path, region: str) -> list[Prompt]:
    """Each row of a Points CSV as a point prompt."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"prompts {path} cannot be read as a CSV ({exc}); save the Points layer as CSV.") from None
    columns = set(rows[0]) if rows else set()
    if not rows:
        raise InputError(f"prompts {path} holds no points; add points to the Points layer, then save it as CSV.")
    axes = sorted(c for c in columns if c and c.startswith("axis-"))
    if axes != ["axis-0", "axis-1"]:
        raise InputError(
            f"prompts {path} has columns {', '.join(sorted(c for c in columns if c))}, not napari's Points CSV of "
            "a 2-D image (index, axis-0, axis-1); save the Points layer of the image with File > Save Selected Layers."
        )
    sign = "positive" if "positive" in columns else "sign" if "sign" in columns else None
    prompts = []
    for line, row in enumerate(rows, start=2):
        try:
            r, c = float(row["axis-0"]), float(row["axis-1"])
        except (TypeError, ValueError):
            raise InputError(f"prompts {path}, line {line}: axis-0 and axis-1 must be numbers.") from None
        word = "true" if sign is None else str(row[sign]).strip().lower()
        if word not in POSITIVE_WORDS:
            raise InputError(
                f"prompts {path}, line {line}: {sign} is {row[sign]!r}; use true/false, 1/0 or +/- "
                "(true and + mark the region, false and - mark what is not it)."
            )
        prompts.append(Prompt(POSITIVE_WORDS[word], region, np.array([r]), np.array([c])))
    return prompts
