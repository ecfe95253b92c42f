"""Validation and conversion of inputs: every stage works on RGB float32 H×W×3 in [0, 1].

The source pixels are kept as they were (`native`) so that compositing can copy the pixels it
does not change bit for bit, and write the result back in the source's bit depth.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.io.image_files import DEFAULT_MAX_PIXELS, read_image_file

MIN_SIDE = 32
SUPPORTED_DTYPES = (np.uint8, np.uint16, np.float16, np.float32, np.float64)


@dataclass(frozen=True)
class SourceImage:
    """An input image: `native` and `alpha` as given, for a lossless round trip.

    No full-resolution float copy is kept: the stages work at the working size (`resized`), so a
    large photo costs one copy of itself plus what the working size needs. `rgb` (the whole image as
    float) is computed on first use, for callers that really want it.
    """

    native: np.ndarray
    alpha: np.ndarray | None

    @property
    def dtype(self) -> np.dtype:
        return self.native.dtype

    @property
    def shape(self) -> tuple[int, int]:
        return self.native.shape[0], self.native.shape[1]

    @functools.cached_property
    def rgb(self) -> np.ndarray:
        return to_float_rgb(self.native)

    def resized(self, shape: tuple[int, int]) -> np.ndarray:
        """Float RGB in [0, 1] at `shape`, resized channel by channel from the native pixels."""
        return resize_native(self.native, shape)


def as_source_image(array: np.ndarray, name: str = "image") -> SourceImage:
    """Check an array and split it into RGB and alpha; grayscale becomes three equal channels."""
    array = np.asarray(array)
    if array.dtype == np.bool_ or array.dtype.type not in SUPPORTED_DTYPES:
        raise InputError(
            f"{name}: dtype {array.dtype} is not an image type; give uint8, uint16 or float values in [0, 1]."
        )
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        native, alpha = np.repeat(array[..., None], 3, axis=2), None
    elif array.ndim == 3 and array.shape[2] == 2:
        native, alpha = np.repeat(array[..., :1], 3, axis=2), array[..., 1]
    elif array.ndim == 3 and array.shape[2] in (3, 4):
        native = array[..., :3]
        alpha = array[..., 3] if array.shape[2] == 4 else None
    else:
        raise InputError(
            f"{name}: shape {array.shape} is not an image; give H×W (grayscale), H×W×3 (RGB) "
            "or H×W×4 (RGBA). For a stack, pick one 2D slice."
        )
    if min(native.shape[:2]) < MIN_SIDE:
        raise InputError(
            f"{name}: {native.shape[1]}×{native.shape[0]} px is too small; both sides need at least {MIN_SIDE} px."
        )
    if native.dtype.kind == "f":
        finite = np.isfinite(native)
        if not finite.all():
            raise InputError(f"{name}: contains NaN or infinite values; replace them first.")
        lo, hi = float(native.min()), float(native.max())
        if lo < 0.0 or hi > 1.0:
            raise InputError(
                f"{name}: float values span [{lo:g}, {hi:g}] but must lie in [0, 1]; "
                "divide by 255 (8-bit data) or 65535 (16-bit data) first."
            )
    return SourceImage(native=np.ascontiguousarray(native), alpha=alpha)


def read_source_image(path: str | Path, name: str = "image", max_pixels: int = DEFAULT_MAX_PIXELS) -> SourceImage:
    """Read a file and validate it, naming the file in any error."""
    return as_source_image(read_image_file(path, max_pixels), name=f"{name} ({path})")


def to_float_rgb(native: np.ndarray) -> np.ndarray:
    """Native pixels to float32 in [0, 1] (one new array: the scaling is done in place)."""
    out = native.astype(np.float32)
    if native.dtype == np.uint8:
        out /= 255.0
    elif native.dtype == np.uint16:
        out /= 65535.0
    return out


def from_float_rgb(rgb: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float pixels in [0, 1] back to `dtype`, rounded and clipped; one float copy, scaled in place."""
    rgb = np.clip(rgb, 0.0, 1.0)
    dtype = np.dtype(dtype)
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(dtype)
    if scale is None:
        return rgb.astype(dtype)
    rgb *= scale
    return np.round(rgb, out=rgb).astype(dtype)


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] as 8-bit, for previews and the bundle's 8-bit files."""
    return from_float_rgb(rgb, np.uint8)


def working_shape(shape: tuple[int, int], long_side: int) -> tuple[int, int]:
    """The (H, W) with the given long side and the same aspect ratio."""
    h, w = shape
    scale = long_side / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def resize_plane(plane: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """One float plane resized bilinearly (antialiased when shrinking: Pillow's filters widen with
    the scale), in float32 with no float64 copy: memory stays one plane at each size."""
    if plane.shape == tuple(shape):
        return plane.astype(np.float32, copy=False)
    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32), mode="F")
    return np.asarray(image.resize((shape[1], shape[0]), Image.Resampling.BILINEAR), dtype=np.float32)


def resize_rgb(rgb: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize float channels (H×W×C) to `shape`, clipped to [0, 1]."""
    if rgb.shape[:2] == tuple(shape):
        return rgb.astype(np.float32, copy=False)
    out = np.empty((*shape, rgb.shape[2]), np.float32)
    for c in range(rgb.shape[2]):
        out[..., c] = resize_plane(rgb[..., c], shape)
    return np.clip(out, 0.0, 1.0, out=out)


def resize_native(native: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Native RGB pixels (any supported dtype) to float RGB in [0, 1] at `shape`, a strip of rows
    at a time, so a large image never exists as a whole in float."""
    if native.shape[:2] == tuple(shape):
        return to_float_rgb(native[..., :3])
    out = np.empty((*shape, 3), np.float32)
    for rows, strip in resized_strips([native[..., c] for c in range(3)], shape):
        out[rows] = strip
    return np.clip(out, 0.0, 1.0, out=out)


def resized_strips(
    planes: Sequence[np.ndarray], shape: tuple[int, int], rows: int = 256
) -> Iterator[tuple[slice, np.ndarray]]:
    """Planes (H×W each, native or float) resized bilinearly to `shape` in float32 (native pixels
    scaled to [0, 1]), about `rows` rows at a time, as (rows, strip of rows × W × planes). Each
    strip is resampled from the input rows its filter reaches, through a box: the same result as
    one resize (to 1e-6) with only those rows ever in float, shrinking or enlarging."""
    from PIL import Image

    h, w = planes[0].shape
    scale = h / shape[0]
    reach = int(np.ceil(max(scale, 1.0))) + 2  # the bilinear filter's support, in input rows, and a margin
    rows = max(1, int(rows / max(scale, 1.0)))  # shrinking: about `rows` input rows a strip
    for r0 in range(0, shape[0], rows):
        r1 = min(r0 + rows, shape[0])
        a, b = max(0, int(r0 * scale) - reach), min(h, int(np.ceil(r1 * scale)) + reach)
        box = (0, r0 * scale - a, w, r1 * scale - a)
        strip = [Image.fromarray(np.ascontiguousarray(to_float_rgb(p[a:b])), mode="F") for p in planes]
        yield (
            slice(r0, r1),
            np.stack(
                [
                    np.asarray(im.resize((shape[1], r1 - r0), Image.Resampling.BILINEAR, box=box), np.float32)
                    for im in strip
                ],
                axis=-1,
            ),
        )


def upsample_to_native(
    rgb: np.ndarray,
    shape: tuple[int, int],
    dtype: np.dtype,
    out: np.ndarray | None = None,
    where: np.ndarray | None = None,
) -> np.ndarray:
    """Float RGB (working size) to `shape` in `dtype`, into `out` where `where` is set (or a new
    array), strip by strip: a 24 Mpx result costs its own bytes and no more."""
    out = np.empty((*shape, 3), dtype) if out is None else out
    for rows, strip in resized_strips([rgb[..., c] for c in range(3)], shape):
        np.copyto(out[rows], from_float_rgb(strip, dtype), where=True if where is None else where[rows, :, None])
    return out


def label_plane(labels: np.ndarray, name: str = "labels") -> np.ndarray:
    """A label image or mask as one plane of whole numbers. In an RGB(A) one (labels saved in
    colour) each distinct colour is its own label, numbered 1, 2, ... in the order of its value
    (red, then green, then blue) and black is the background, so a mask of one colour is label 1.
    Floats must hold whole numbers (they become integers): other values are refused, naming `name`."""
    labels = np.asarray(labels)
    if labels.dtype.kind == "f":
        if not np.isfinite(labels).all():
            raise InputError(f"{name}: contains NaN or infinite values; a label image holds whole numbers.")
        if not (labels == np.round(labels)).all():
            raise InputError(
                f"{name}: float values that are not whole numbers; a label image holds whole numbers "
                "(0 for the background): save the labels as integers."
            )
        labels = labels.astype(np.int64)
    if labels.ndim == 3 and labels.shape[2] in (3, 4):
        return _colour_labels(labels[..., :3])
    return labels


def _colour_labels(rgb: np.ndarray) -> np.ndarray:
    """Each distinct colour of an H×W×3 image as a label (1, 2, ... by colour value), black as 0."""
    if rgb.dtype.kind in "ub" and rgb.dtype.itemsize <= 2:
        r, g, b = (rgb[..., c].astype(np.uint64) for c in range(3))
        colours, index = np.unique((r << 32) | (g << 16) | b, return_inverse=True)
        background = colours[0] == 0
    else:
        colours, index = np.unique(rgb.reshape(-1, 3), axis=0, return_inverse=True)
        background = not colours[0].any()
    dtype = np.uint8 if len(colours) < 256 else np.int32
    return (index.reshape(rgb.shape[:2]) + (0 if background else 1)).astype(dtype)


def target_mask(
    labels: np.ndarray,
    shape: tuple[int, int],
    name: str = "labels",
    values: tuple[int, ...] | None = None,
    allow_empty: bool = False,
) -> np.ndarray:
    """A boolean target mask from a label image: nonzero pixels, or those equal to `values`
    (empty is an error, except for a slice of a stack, which is then left as it is)."""
    labels = label_plane(labels, name)
    if labels.ndim != 2:
        raise InputError(f"{name}: shape {labels.shape} is not a 2D label image.")
    if labels.shape != tuple(shape):
        raise InputError(
            f"{name}: shape {labels.shape[1]}×{labels.shape[0]} differs from the content image's "
            f"{shape[1]}×{shape[0]}; give a mask of the same size."
        )
    mask = labels != 0 if values is None else np.isin(labels, values)
    if not mask.any() and not allow_empty:
        which = "nonzero" if values is None else f"with value {', '.join(map(str, values))}"
        raise InputError(f"{name}: no pixel is {which}, so there is no target region; paint one.")
    return mask
