"""What a style job is asked for and what it gives back; no torch here, so napari imports it cheaply."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import SourceImage, as_source_image, label_plane, resize_plane, to_float_rgb

Box = tuple[int, int, int, int]  # y0, y1, x0, x1 in content pixels


@dataclass(frozen=True)
class StyleRegion:
    """A style and the part of the content that takes it on: an H×W mask at the content's size
    (bool, or soft in [0, 1]), or None for the whole frame. `blend` adds more style images with
    their weights (`weight` is the first's): the region's Gram targets are their weighted mix."""

    style: SourceImage
    mask: np.ndarray | None = None
    name: str = ""
    weight: float = 1.0
    blend: tuple[tuple[SourceImage, float], ...] = ()

    def mix(self) -> list[tuple[SourceImage, float]]:
        """Each style image with its share of the targets (the weights normalised to sum to 1)."""
        pairs = [(self.style, self.weight), *self.blend]
        total = sum(weight for _, weight in pairs)
        return [(image, weight / total) for image, weight in pairs]


def with_style_region(image: SourceImage | np.ndarray, mask: np.ndarray, name: str = "style region") -> SourceImage:
    """The style image (a SourceImage or an array) whose statistics come only from `mask` (H×W at
    its size, bool or soft in [0, 1]), kept as its alpha: a transparent pixel of a style image is
    not part of its material."""
    if not isinstance(image, SourceImage):
        image = as_source_image(image, "style")
    mask = np.asarray(mask)
    if not (mask.dtype.kind == "f" and mask.ndim == 2):  # a soft mask stays as it is
        mask = label_plane(mask, name)
    if mask.ndim != 2:
        raise InputError(f"{name}: shape {mask.shape} is not a 2D mask.")
    if mask.shape != image.shape:
        raise InputError(
            f"{name}: {mask.shape[1]}×{mask.shape[0]} differs from the style image's "
            f"{image.shape[1]}×{image.shape[0]}; give a mask of the style image's size."
        )
    if mask.dtype == np.bool_ or mask.dtype.kind in "iu" and mask.max(initial=0) <= 1:
        alpha = mask.astype(np.float32)
    elif mask.dtype.kind in "iu":
        alpha = (mask > 0).astype(np.float32)  # a label image: any nonzero label is the region
    else:
        alpha = np.nan_to_num(mask.astype(np.float32), nan=0.0).clip(0, 1)
    if not (alpha > 0).any():
        raise InputError(
            f"{name}: no pixel is in it, so the style has no statistics to give; paint the style's "
            "material or leave the style region out."
        )
    return SourceImage(native=image.native, alpha=alpha)


def label_values(labels: np.ndarray, name: str = "labels") -> list[int]:
    """The nonzero values of a label image (an RGB(A) one: a value per colour, as `label_plane` says)."""
    labels = label_plane(labels, name)
    if labels.dtype.kind not in "iub":
        raise InputError(f"{name}: a label image holds whole numbers; this one is {labels.dtype}: save it as integers.")
    return [int(v) for v in np.unique(labels) if v != 0]


def styles_by_label(
    style: SourceImage | np.ndarray,
    style_labels: np.ndarray,
    content_labels: np.ndarray,
    name: str = "style labels",
    values: tuple[int, ...] = (),
    content_name: str = "labels",
) -> dict[str, SourceImage]:
    """Luan et al.'s semantic pairing: content label N takes its style from the style image's
    pixels labelled N (so a cup's rim and body each take the matching part of the style photo).
    Every content label to change (`values`, default all) needs its match; the others do not."""
    if not isinstance(style, SourceImage):
        style = as_source_image(style, "style")
    present, offered = label_values(content_labels, content_name), label_values(style_labels, name)
    if not present:
        raise InputError(f"{content_name}: no nonzero pixel, so no region is paired; paint one.")
    if absent := [v for v in values if v not in present]:
        raise InputError(
            f"{content_name}: no pixel has label {', '.join(map(str, absent))} of the label values to change "
            f"(it holds {', '.join(map(str, present))}); choose label values it holds."
        )
    wanted = list(values) or present
    missing = [v for v in wanted if v not in offered]
    if missing:
        raise InputError(
            f"content label {', '.join(map(str, missing))} has no pixel in the {name} (which hold "
            f"{', '.join(map(str, offered)) or 'no label'}); label the matching part of the style image "
            "with the same value, or remove that label from the content's."
        )
    flat = label_plane(style_labels, name)
    return {str(v): with_style_region(style, flat == v, f"{name} (label {v})") for v in wanted}


def region_coverage(image: SourceImage) -> float:
    """The share of the style image its statistics come from (1.0: all of it)."""
    return 1.0 if image.alpha is None else float((image.alpha > 0).mean())


def has_region(image: SourceImage) -> bool:
    """Whether the style's statistics come from part of it only (an alpha that is not all opaque)."""
    return image.alpha is not None and not (to_float_rgb(image.alpha) >= 1).all()


def style_guide(image: SourceImage, shape: tuple[int, int]) -> np.ndarray | None:
    """Where at `shape` the style's statistics come from: its alpha, or None (all of it)."""
    if not has_region(image):
        return None
    alpha = to_float_rgb(image.alpha)
    guide = np.clip(resize_plane(alpha, shape), 0, 1)
    if not (guide > 0.01).any():
        raise InputError(
            f"the style's region is empty at {shape[1]}×{shape[0]} px: give it a larger region "
            "(mask or alpha), or raise --style-size."
        )
    return guide


@dataclass
class Stylized:
    """The stylized frame (content's size and dtype) and how it was made, for the manifest."""

    image: np.ndarray
    levels: list[int] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    style_regions: list[list[dict]] = field(default_factory=list)  # per region, per style image: class, coverage
    precision: str = "float32"  # the network passes' number format (core/runtime/precision.py), auto resolved
