"""Generated clips whose motion and masks are known exactly, for the tracking tests and bench/.

Both are rendered by sampling a fixed scene through a moving camera (bilinear), so each frame's true
mask and the true backward flow (from frame t+1's pixels to where they were in frame t) follow
from the same coordinates:
- `moving_object`: a textured ellipse moving over a textured background while the camera pans.
- `coffee_crop`: the bundled coffee photo under a sliding crop that zooms in; the mask is the
  bundled cup labels under the same crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter, map_coordinates

from napari_partial_style import samples


@dataclass(frozen=True)
class Clip:
    """frames (T, H, W, 3) uint8, masks (T, H, W) bool, flows (T-1, 2, H, W): flows[t] maps frame
    t+1's pixel (row, col) to (row, col) + flows[t] in frame t."""

    frames: np.ndarray
    masks: np.ndarray
    flows: np.ndarray


def _texture(gray: np.ndarray, tint: tuple[float, float, float], contrast: float = 0.35) -> np.ndarray:
    """A colour texture: the grey texture's detail around a flat tint, float (H, W, 3) in [0, 1]."""
    g = gray.astype(np.float32) / 255.0
    g = (g - g.mean()) * contrast
    return np.clip(np.asarray(tint, np.float32) + g[..., None], 0.0, 1.0)


def _sample(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, order: int = 1) -> np.ndarray:
    """image (H, W[, C]) at float coordinates, channel by channel."""
    if image.ndim == 2:
        return map_coordinates(image, [rows, cols], order=order, mode="reflect")
    return np.stack([map_coordinates(image[..., c], [rows, cols], order=order, mode="reflect") for c in range(3)], -1)


def moving_object(frames: int = 30, shape: tuple[int, int] = (96, 128), seed: int = 0) -> Clip:
    """A brick-textured ellipse (reddish) crossing a gravel-textured background (grey-green) while the
    camera pans: object +(0.6, 1.8) px a frame against the frame, background −(0.4, 1.2) px a frame."""
    from skimage import data

    h, w = shape
    rng = np.random.default_rng(seed)
    background = _texture(data.gravel(), (0.45, 0.55, 0.45))
    thing = _texture(data.brick(), (0.8, 0.35, 0.25))
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    radii = (0.22 * h, 0.18 * w)
    start = np.array([0.35 * h, 0.25 * w])
    pan_step, object_step = np.array([0.4, 1.2]), np.array([0.6, 1.8])
    offset = rng.uniform(20, 60, 2)
    out, masks = [], []
    for t in range(frames):
        pan, centre = offset + t * pan_step, start + t * object_step
        mask = ((rows - centre[0]) / radii[0]) ** 2 + ((cols - centre[1]) / radii[1]) ** 2 <= 1.0
        bg = _sample(background, rows + pan[0], cols + pan[1])
        fg = _sample(thing, rows - centre[0] + 200.0, cols - centre[1] + 200.0)
        out.append(np.where(mask[..., None], fg, bg))
        masks.append(mask)
    masks = np.stack(masks)
    flow = np.where(masks[1:, None], -object_step[None, :, None, None], pan_step[None, :, None, None])
    return Clip(_to_uint8(np.stack(out)), masks, flow.astype(np.float32))


def _coffee_window(t: int, frames: int) -> tuple[np.ndarray, float]:
    """The crop of frame t: its top-left corner in the photo and the photo pixels per frame pixel
    (for a 96-row frame; other sizes scale it), sliding right and up while zooming in."""
    a = t / max(frames - 1, 1)
    centre = np.array([200.0, 260.0]) * (1 - a) + np.array([170.0, 300.0]) * a
    height = 360.0 * (1 - a) + 300.0 * a
    return centre - np.array([height / 2, height * 2 / 3]), height


def coffee_crop(frames: int = 30, shape: tuple[int, int] = (96, 128)) -> Clip:
    """The coffee photo seen through a 4:3 window that slides and zooms in (360 → 300 photo rows
    across the clip); the cup labels follow the same window."""
    h, w = shape
    photo = samples.coffee().astype(np.float32) / 255.0
    cup = samples.coffee_cup_labels() > 0
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    corners, scales = zip(*(_coffee_window(t, frames) for t in range(frames)))
    scales = [height / h for height in scales]
    blurred = np.stack([gaussian_filter(photo[..., c], scales[0] / 2.5) for c in range(3)], -1)  # no aliasing
    out = [_sample(blurred, corner[0] + rows * s, corner[1] + cols * s) for corner, s in zip(corners, scales)]
    masks = [_sample(cup.astype(np.float32), c[0] + rows * s, c[1] + cols * s) >= 0.5 for c, s in zip(corners, scales)]
    flows = []
    for t in range(frames - 1):
        photo_rows = corners[t + 1][0] + rows * scales[t + 1]
        photo_cols = corners[t + 1][1] + cols * scales[t + 1]
        back = np.stack(
            [(photo_rows - corners[t][0]) / scales[t] - rows, (photo_cols - corners[t][1]) / scales[t] - cols]
        )
        flows.append(back)
    return Clip(_to_uint8(np.stack(out)), np.stack(masks), np.stack(flows).astype(np.float32))


def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (1.0 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0
