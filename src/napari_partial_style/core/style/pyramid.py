"""Style transfer of regions at the content's resolution: crop, coarse-to-fine levels, paste.

The working size fixes the texture's scale (the style image is scaled with the content); finer
levels then double it up to the result size, each starting from the level below upsampled and
needing far fewer steps (Gatys et al. 2017; pystiche runs 500 steps at 512 px, then 200 at 1024).
With `crop`, each level optimises only the regions' bounding box plus a margin: the receptive
field's context and, with `masked`, the free band. The result is the content's pixels, bit for
bit, wherever the job may not change anything (outside the box; with `masked`, beyond the band).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import (
    SourceImage,
    resize_native,
    resize_plane,
    resize_rgb,
    resized_strips,
    upsample_to_native,
    working_shape,
)
from napari_partial_style.core.params import StyleParams
from napari_partial_style.core.progress import StageGenerator, map_events
from napari_partial_style.core.runtime.memory import memory_guard
from napari_partial_style.core.runtime.precision import at_precision, resolve
from napari_partial_style.core.style.regions import Box, StyleRegion, Stylized, style_guide
from napari_partial_style.core.style.tiles import optimise_level, tile_boxes
from napari_partial_style.core.style.transfer import LevelRequest, Network, style_stats

if TYPE_CHECKING:
    import torch

    from napari_partial_style.core.video.temporal import TemporalTarget

VGG_MIN_SIDE = 32  # relu5_1 is 16× smaller than the input: below this a crop has no deep features


def level_sizes(first: int, final: int) -> list[int]:
    """Long sides from the working size to the result's, doubling; a last step under 15% is skipped."""
    sizes = [min(first, final)]
    while sizes[-1] * 2 < final * 0.8:
        sizes.append(sizes[-1] * 2)
    if final > sizes[-1] * 1.15:
        sizes.append(final)
    return sizes


def crop_box(mask: np.ndarray | None, shape: tuple[int, int], pad: float, min_side: int) -> Box:
    """The mask's bounding box grown by `pad` px on each side and to at least `min_side`, in the frame."""
    h, w = shape
    if mask is None:
        return 0, h, 0, w
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    pad = math.ceil(pad)
    box = [rows[0] - pad, rows[-1] + 1 + pad, cols[0] - pad, cols[-1] + 1 + pad]
    for lo, limit in ((0, h), (2, w)):
        grow = max(0, min(min_side, limit) - (box[lo + 1] - box[lo]))
        box[lo] -= grow // 2
        box[lo + 1] += grow - grow // 2
        shift = max(0, -box[lo]) - max(0, box[lo + 1] - limit)
        box[lo], box[lo + 1] = max(0, box[lo] + shift), min(limit, box[lo + 1] + shift)
    return box[0], box[1], box[2], box[3]


def within(mask: np.ndarray, radius: float) -> np.ndarray:
    """Pixels no farther than `radius` from the mask's nonzero pixels."""
    if radius <= 0:
        return mask > 0
    from scipy.ndimage import distance_transform_edt

    return distance_transform_edt(mask <= 0) <= radius


def owners(masks: Sequence[np.ndarray]) -> np.ndarray:
    """For each pixel, the index of the nearest region: where the regions' results meet."""
    from scipy.ndimage import distance_transform_edt

    stacked = np.stack([np.asarray(m, dtype=np.float32) for m in masks])
    label = np.where(stacked.max(axis=0) > 0, stacked.argmax(axis=0), -1)
    _, (iy, ix) = distance_transform_edt(label < 0, return_indices=True)
    return label[iy, ix]


class _Layout:
    """One group of regions' box and, per level, the shape optimised, its tiles and the pixels one
    step optimises (a tile's, or the whole shape's)."""

    def __init__(self, box: Box, shapes: list[tuple[int, int]], tile: int | None) -> None:
        self.box, self.shapes = box, shapes
        self.tiles = [
            tile_boxes(shape, tile) if tile and max(shape) > tile else [(0, shape[0], 0, shape[1])] for shape in shapes
        ]
        # a level's tiles are all the same size (the last of a row or column is moved back to fit)
        self.pixels = [(first[1] - first[0]) * (first[3] - first[2]) for first, *_ in self.tiles]


class _Plan:
    """What a job does: the levels, their step counts and each group's layout, known before the
    first step, so progress counts every step and the time estimate weighs each by its pixels."""

    def __init__(
        self, params: StyleParams, first: int, final: int, shape: tuple[int, int], unions: list[np.ndarray | None]
    ) -> None:
        self.levels = level_sizes(first, final)
        self.steps = [params.steps] + [params.fine_steps] * (len(self.levels) - 1)
        self.layouts = [self._layout(params, shape, union) for union in unions]
        self.total = sum(
            steps * len(tiles) for layout in self.layouts for steps, tiles in zip(self.steps, layout.tiles)
        )
        self.work_total = float(
            sum(
                steps * len(tiles) * px
                for layout in self.layouts
                for steps, tiles, px in zip(self.steps, layout.tiles, layout.pixels)
            )
        )
        self.done = 0
        self.work_done = 0.0

    def _layout(self, params: StyleParams, shape: tuple[int, int], union: np.ndarray | None) -> _Layout:
        native_long = max(shape)
        per_px = native_long / self.levels[0]  # content px per working-size px
        if params.crop:
            box = crop_box(
                union, shape, (_band(params) + params.crop_margin) * per_px, math.ceil(VGG_MIN_SIDE * per_px)
            )
        else:
            box = (0, shape[0], 0, shape[1])
        y0, y1, x0, x1 = box
        shapes = [
            (max(1, round((y1 - y0) * size / native_long)), max(1, round((x1 - x0) * size / native_long)))
            for size in self.levels
        ]
        return _Layout(box, shapes, params.tile)

    def counted(self, events: StageGenerator[np.ndarray], level: int, layout: _Layout) -> StageGenerator[np.ndarray]:
        """One level's events with `work`: the pixel-steps done so far and in all."""
        steps_before, work_before, px = self.done, self.work_done, layout.pixels[level]
        return map_events(
            events, lambda event: replace(event, work=(work_before + (event.step - steps_before) * px, self.work_total))
        )

    def finish_level(self, level: int, layout: _Layout) -> None:
        count = len(layout.tiles[level])
        self.done += self.steps[level] * count
        self.work_done += self.steps[level] * count * layout.pixels[level]


@dataclass(frozen=True)
class PyramidRequest:
    """What a style job's levels need: the network on `device`, the content and its regions, the
    parameters, the long sides of the first level (the working size) and of the result (`final`),
    a preview every `preview_every` steps (0: none), and an image to `start` from instead of the content."""

    net: Network
    content: SourceImage
    regions: Sequence[StyleRegion]
    params: StyleParams
    device: torch.device
    first: int
    final: int
    preview_every: int = 0
    start: SourceImage | None = None
    temporal: TemporalTarget | None = None  # a clip's previous result, warped (core/video/temporal.py)


def stylize_regions(request: PyramidRequest) -> StageGenerator[Stylized]:
    """The content with each region stylized by its style, at `final` px (long side) through
    the levels from `first`; with `masked` all regions are optimised together, with `composite`
    one after another, each over its own box. One style with no mask stylizes the whole frame
    (for `masked` too: a region that is the whole frame is the plain loss)."""
    regions, params, content = request.regions, request.params, request.content
    if not regions:
        raise InputError("give at least one style.")
    if len(regions) > 1 and any(r.mask is None for r in regions):
        raise InputError("with several styles, each needs its region (a target class or a label value).")
    masked = params.method == "masked" and regions[0].mask is not None  # no region: the whole frame is it
    masks = [None if r.mask is None else np.asarray(r.mask) for r in regions]
    if any(m is not None and not (m > 0).any() for m in masks):
        raise InputError("a style's region is empty: no pixel of the labels has its value.")
    precision = resolve(params.precision, request.device)
    request = replace(request, net=at_precision(request.net, precision, request.device))
    groups = [list(range(len(regions)))] if masked else [[i] for i in range(len(regions))]
    plan = _Plan(params, request.first, request.final, content.shape, [_union([masks[i] for i in g]) for g in groups])
    owner = owners(masks) if len(regions) > 1 else None
    out = content.native.copy()
    result = Stylized(out, plan.levels, precision=precision)
    for group, layout in zip(groups, plan.layouts):
        made, free = yield from _stylize_group(request, group, [masks[i] for i in group], plan, layout, out)
        y0, y1, x0, x1 = box = layout.box
        keep = None if owner is None else np.isin(owner[y0:y1, x0:x1], group)
        if free is not None:  # the last level's free pixels, at the content's size
            near = np.empty((y1 - y0, x1 - x0), bool)
            for rows, strip in resized_strips([free], near.shape):
                near[rows] = strip[..., 0] > 0.5
            keep = near if keep is None else keep & near
        upsample_to_native(made, (y1 - y0, x1 - x0), content.dtype, out=out[y0:y1, x0:x1], where=keep)
        result.boxes.append(box)
    return result


def _band(params: StyleParams) -> float:
    """How far (working-size px) beyond the region pixels may change: with `frozen`, not at all."""
    return params.band if params.outside == "self" else 0.0


def _union(masks: list[np.ndarray | None]) -> np.ndarray | None:
    """Where any of a group's regions is (None: the whole frame)."""
    if masks[0] is None:
        return None
    return np.logical_or.reduce([m > 0 for m in masks])


def _stylize_group(
    request: PyramidRequest,
    group: list[int],
    masks: list[np.ndarray | None],
    plan: _Plan,
    layout: _Layout,
    frame: np.ndarray,
) -> StageGenerator[tuple[np.ndarray, np.ndarray | None]]:
    """One optimisation over the levels of the regions in `group` (their `masks`): the box's stylized
    pixels at the last level's size, and its free pixels (None: all of the box). `frame` is the
    result so far, which previews show around the box."""
    params, device = request.params, request.device
    masked = params.method == "masked" and masks[0] is not None
    y0, y1, x0, x1 = box = layout.box
    result = free = None
    for index, (size, steps, shape) in enumerate(zip(plan.levels, plan.steps, layout.shapes)):
        work = resize_native(request.content.native[y0:y1, x0:x1], shape)
        guides = [None if m is None or not masked else _guide(m, box, shape) for m in masks]
        outside, free = _outside_and_free(guides, params, size / plan.levels[0]) if masked else (None, None)
        framed = _framer(frame, box, size, request.content.dtype) if request.preview_every else None
        message = f"level {index + 1}/{len(plan.levels)} at {size} px" if len(plan.levels) > 1 else ""
        with memory_guard(device, f"stylizing at {size} px ({shape[1]}×{shape[0]})", _memory_fix(index, size)):
            style_long = round((params.style_size or plan.levels[0]) * size / plan.levels[0])
            regions = [request.regions[i] for i in group]
            targets = [(_style_stats(request.net, r, style_long, params, device), g) for r, g in zip(regions, guides)]
            level = LevelRequest(
                request.net,
                work,
                targets,
                params,
                device,
                steps,
                start=_begin(result, request.start, box, shape),
                temporal=None if request.temporal is None else request.temporal.at(box, shape),
                outside=outside,
                free=free,
                counter=(plan.done, plan.total),
                message=message,
                preview_every=request.preview_every,
                framed=framed,
            )
            result = yield from plan.counted(optimise_level(level), index, layout)
        plan.finish_level(index, layout)
    return result, free


def _guide(mask: np.ndarray, box: Box, shape: tuple[int, int]) -> np.ndarray:
    """A region's soft guide over the box at a level's `shape`."""
    y0, y1, x0, x1 = box
    return np.clip(resize_plane(mask[y0:y1, x0:x1].astype(np.float32), shape), 0, 1)


def _outside_and_free(
    guides: list[np.ndarray], params: StyleParams, scale: float
) -> tuple[np.ndarray | None, np.ndarray]:
    """With `masked`, at a level `scale` times the working size: the rest of the frame (which keeps
    its own statistics; None with `frozen`) and the pixels allowed to change (the regions and the band)."""
    level_union = np.max(guides, axis=0)
    free = within(level_union, _band(params) * scale).astype(np.float32)
    outside = 1.0 - level_union if params.outside == "self" else None
    return outside, free


def _begin(below: np.ndarray | None, start: SourceImage | None, box: Box, shape: tuple[int, int]) -> np.ndarray | None:
    """What a level starts from: the level below upsampled, else the job's start image, else None (the init)."""
    if below is not None:
        return resize_rgb(below, shape)
    if start is not None:
        y0, y1, x0, x1 = box
        return resize_native(start.native[y0:y1, x0:x1], shape)
    return None


def _memory_fix(index: int, size: int) -> str:
    """What to lower when the level `index` (at `size` px) runs out of memory."""
    if index:
        return (
            f"lower --max-size (the result's long side) below {size}, or --tile (e.g. {min(512, size // 2)}), "
            "keep --crop on, or lower --size"
        )
    return "lower --size (the working size) or --style-size, keep --crop on, or set --tile"


def _style_stats(net, region: StyleRegion, long_side: int, params: StyleParams, device):
    """The region's style statistics at this level, each style image scaled to `long_side` and
    read only within its own region (alpha) where it has one."""
    mix = []
    for image, share in region.mix():
        shape = working_shape(image.shape, long_side)
        mix.append((image.resized(shape), share, style_guide(image, shape)))
    return style_stats(net, mix, params, device)


def _framer(frame: np.ndarray, box: Box, size: int, dtype) -> Callable[[np.ndarray], np.ndarray]:
    """A preview of the whole frame (at most 1024 px) with the box's current pixels in it."""
    long_side = min(size, 1024, max(frame.shape[:2]))
    shape = working_shape(frame.shape[:2], long_side)
    scale = shape[0] / frame.shape[0]
    y0, y1, x0, x1 = (round(v * scale) for v in box)
    base: list[np.ndarray] = []

    def framed(crop: np.ndarray) -> np.ndarray:
        if not base:
            base.append(resize_native(frame, shape))
        preview = base[0].copy()
        if y1 > y0 and x1 > x0:
            preview[y0:y1, x0:x1] = resize_rgb(crop, (y1 - y0, x1 - x0))
        return preview

    return framed
