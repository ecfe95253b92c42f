"""One pyramid level optimised as overlapping tiles, when the whole level would not fit in memory.

Each tile is its own L-BFGS run against the same style targets (a style's Gram matrices do not
depend on the content, so the level computes them once for all tiles), started from the level below like the whole level would be, so memory
follows the tile while the texture's statistics stay those of the style. Overlaps are blended with
linear ramps; a tile with nothing free to change (masked, beyond the band) is skipped and keeps its
start. What this cannot give is one optimisation's global coherence: a texture may shift phase
between tiles, which the overlap hides; the docs say so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from napari_partial_style.core.progress import Progress, StageGenerator
from napari_partial_style.core.style.regions import Box
from napari_partial_style.core.style.transfer import STAGE, optimise

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


def optimise_tiled(
    net,
    content: np.ndarray,
    targets: Sequence[tuple[Any, np.ndarray | None]],
    params,
    device,
    steps: int,
    tile: int,
    begin: np.ndarray | None,
    outside: np.ndarray | None,
    free: np.ndarray | None,
    counter: tuple[int, int],
    message: str,
    preview_every: int,
    framed: Callable[[np.ndarray], np.ndarray] | None,
) -> StageGenerator[np.ndarray]:
    """`optimise` over the tiles of `content` (H×W×3 in [0, 1]); guides, `outside`, `free` and `begin`
    are cut the same way. Progress counts every tile's steps; previews show the frame so far."""
    shape = content.shape[:2]
    current = (begin if begin is not None else content).astype(np.float32, copy=True)
    total_weight = np.zeros(shape, np.float32)
    blended = np.zeros((*shape, 3), np.float32)
    done, total = counter
    boxes = tile_boxes(shape, tile)
    for number, box in enumerate(boxes, start=1):
        y0, y1, x0, x1 = box
        cut = np.s_[y0:y1, x0:x1]
        tile_free = None if free is None else free[cut]
        tile_targets = [
            (stats, None if guide is None else guide[cut])
            for stats, guide in targets
            if guide is None or (guide[cut] > 0).any()
        ]
        if (tile_free is not None and not (tile_free > 0).any()) or not tile_targets:
            result = current[cut]  # nothing here may change, or no region reaches it
            done += steps
        else:
            gen = optimise(
                net,
                content[cut],
                tile_targets,
                params,
                device,
                steps,
                None if begin is None else current[cut],
                None if outside is None else outside[cut],
                tile_free,
                (done, total),
                f"{message} tile {number}/{len(boxes)}".strip(),
                0,
                None,
            )
            while True:
                try:
                    event = next(gen)
                except StopIteration as stop:
                    result = stop.value
                    break
                yield event
            done += steps
        weight = blend_weights(box, shape, tile)
        blended[cut] += weight[..., None] * result
        total_weight[cut] += weight
        if preview_every and framed is not None:
            covered = total_weight > 0
            frame = current.copy()
            frame[covered] = blended[covered] / total_weight[covered][:, None]
            yield Progress(STAGE, done, total, message, preview=framed(frame))
    return blended / total_weight[..., None]
