"""A contact sheet: results side by side, each cropped to the region and labelled, in one PNG.

What a weight sweep shows: the same region at each style weight, small enough to compare at a glance.
"""

from __future__ import annotations

import numpy as np

from napari_partial_style.core.images import from_float_rgb, resize_native, working_shape

TILE = 256  # long side of each tile
SWEEP_SIZE = 256  # long side of a sweep's results (the frame): small, so a look at several weights is quick
LABEL_ROWS = 22  # px of caption under each tile
MARGIN = 48  # px of context around the region's box


def region_box(mask: np.ndarray, margin: int = MARGIN) -> tuple[int, int, int, int]:
    """The mask's bounding box with `margin` px of context, in the frame (the whole frame if empty)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return 0, mask.shape[0], 0, mask.shape[1]
    return (
        max(0, rows[0] - margin),
        min(mask.shape[0], rows[-1] + 1 + margin),
        max(0, cols[0] - margin),
        min(mask.shape[1], cols[-1] + 1 + margin),
    )


def contact_sheet(images: list[np.ndarray], captions: list[str], mask: np.ndarray) -> np.ndarray:
    """uint8 RGB: one tile per image (cropped to the mask's box, long side TILE), caption below."""
    from PIL import Image, ImageDraw

    y0, y1, x0, x1 = region_box(np.asarray(mask, bool))
    shape = working_shape((y1 - y0, x1 - x0), TILE)
    tiles = [from_float_rgb(resize_native(np.asarray(image)[y0:y1, x0:x1, :3], shape), np.uint8) for image in images]
    gap = 8
    sheet = Image.new("RGB", (len(tiles) * (shape[1] + gap) + gap, shape[0] + LABEL_ROWS + 2 * gap), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (tile, caption) in enumerate(zip(tiles, captions)):
        left = gap + i * (shape[1] + gap)
        sheet.paste(Image.fromarray(tile), (left, gap))
        draw.text((left + 2, gap + shape[0] + 4), caption, fill="black")
    return np.asarray(sheet)
