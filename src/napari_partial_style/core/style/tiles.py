"""One pyramid level optimised as overlapping tiles, when the whole level would not fit in memory.

Each tile is its own L-BFGS run against the same style targets (a style's Gram matrices do not
depend on the content, so the level computes them once for all tiles), started from the level below like the whole level would be, so memory
follows the tile while the texture's statistics stay those of the style. Overlaps are blended with
linear ramps; a tile with nothing free to change (masked, beyond the band) is skipped and keeps its
start. What this cannot give is one optimisation's global coherence: a texture may shift phase
between tiles, which the overlap hides; the docs say so.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from napari_partial_style.core.progress import Progress, StageGenerator
from napari_partial_style.core.style.regions import Box
from napari_partial_style.core.style.transfer import STAGE, LevelRequest, optimise

OVERLAP_FRACTION = 0.25  # of the tile's side: wide enough for a relu4-level receptive field at 256 px


def _starts(n: int, tile: int, step: int) -> list[int]:
    if n <= tile:
        return [0]
    starts = list(range(0, n - tile, step))
    return starts + [n - tile]


def tile_boxes(shape: tuple[int, int], tile: int) -> list[Box]:
    """Boxes of at most `tile` px a side covering `shape`, neighbours overlapping by a quarter tile."""
    step = max(1, tile - round(tile * OVERLAP_FRACTION))
    return [
        (y, min(y + tile, shape[0]), x, min(x + tile, shape[1]))
        for y in _starts(shape[0], tile, step)
        for x in _starts(shape[1], tile, step)
    ]


def _ramp(length: int, start_open: bool, end_open: bool, overlap: int) -> np.ndarray:
    """1 inside, falling linearly over `overlap` px towards a side shared with another tile."""
    ramp = np.ones(length, np.float32)
    if overlap <= 0:
        return ramp
    edge = (np.arange(overlap, dtype=np.float32) + 1) / (overlap + 1)
    n = min(overlap, length)
    if start_open:
        ramp[:n] = np.minimum(ramp[:n], edge[:n])
    if end_open:
        ramp[-n:] = np.minimum(ramp[-n:], edge[:n][::-1])
    return ramp


def blend_weights(box: Box, shape: tuple[int, int], tile: int) -> np.ndarray:
    """The tile's weight in the blend: ramps only on sides inside the frame."""
    y0, y1, x0, x1 = box
    overlap = round(tile * OVERLAP_FRACTION)
    rows = _ramp(y1 - y0, y0 > 0, y1 < shape[0], overlap)
    cols = _ramp(x1 - x0, x0 > 0, x1 < shape[1], overlap)
    return rows[:, None] * cols[None, :]


def optimise_level(request: LevelRequest) -> StageGenerator[np.ndarray]:
    """One level: in one piece when it fits in a tile (or no tile is set), else tile by tile."""
    tile = request.params.tile
    if tile and max(request.content.shape[:2]) > tile:
        return optimise_tiled(request)
    return optimise(request)


def optimise_tiled(request: LevelRequest) -> StageGenerator[np.ndarray]:
    """`optimise` over the tiles (`params.tile` px) of the request's content; guides, `outside`, `free`
    and `start` are cut the same way. Progress counts every tile's steps; previews show the frame so far."""
    content, tile, steps = request.content, request.params.tile, request.steps
    shape = content.shape[:2]
    current = (request.start if request.start is not None else content).astype(np.float32, copy=True)
    total_weight = np.zeros(shape, np.float32)
    blended = np.zeros((*shape, 3), np.float32)
    boxes = tile_boxes(shape, tile)
    done, total = request.counter or (0, steps * len(boxes))
    for number, box in enumerate(boxes, start=1):
        cut = np.s_[box[0] : box[1], box[2] : box[3]]
        part = _tile_request(request, cut, current, (done, total), f"{request.message} tile {number}/{len(boxes)}")
        if part is None:
            result = current[cut]  # nothing here may change, or no region reaches it
        else:
            result = yield from optimise(part)
        done += steps
        weight = blend_weights(box, shape, tile)
        blended[cut] += weight[..., None] * result
        total_weight[cut] += weight
        if request.preview_every and request.framed is not None:
            covered = total_weight > 0
            frame = current.copy()
            frame[covered] = blended[covered] / total_weight[covered][:, None]
            yield Progress(STAGE, done, total, request.message, preview=request.framed(frame))
    return blended / total_weight[..., None]


def _tile_request(
    request: LevelRequest, cut: tuple[slice, slice], current: np.ndarray, counter: tuple[int, int], message: str
) -> LevelRequest | None:
    """The request cut to one tile, or None when nothing in it may change or no region reaches it."""
    free = None if request.free is None else request.free[cut]
    targets = [
        (stats, None if guide is None else guide[cut])
        for stats, guide in request.targets
        if guide is None or (guide[cut] > 0).any()
    ]
    if (free is not None and not (free > 0).any()) or not targets:
        return None
    return replace(
        request,
        content=request.content[cut],
        targets=targets,
        start=None if request.start is None else current[cut],
        outside=None if request.outside is None else request.outside[cut],
        temporal=None if request.temporal is None else request.temporal.cut(cut),
        free=free,
        counter=counter,
        message=message.strip(),
        preview_every=0,
        framed=None,
    )
