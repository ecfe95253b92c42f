"""Optical flow between two frames, warping along it, and where it cannot be trusted.

A flow here is (2, H, W) float32 on the grid of its reference frame: `moving(x + flow(x)) ≈
reference(x)`, rows first. So `flow(current, previous)` (the backward flow) says where each pixel
of the current frame was in the previous one, and `warp(previous_result, that flow)` carries
anything computed on the previous frame onto the current one without holes.

Methods: `ilk` (scikit-image's iterative Lucas-Kanade, the default: of the three, the region it
carries through the generated coffee clip drifts least, and it is twice as fast as TV-L1),
`tvl1` (scikit-image's TV-L1) and `dis` (OpenCV's DIS, when opencv-python-headless is installed:
15-30× faster, a little more drift). Measured by bench/bench_video_tracking.py (docs/benchmarks.md).
"""

from __future__ import annotations

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import to_float_rgb

FLOW_METHODS = ("ilk", "tvl1", "dis")
# Ruder, Dosovitskiy & Brox (2016), eq. 4-5: forward and backward flow that do not cancel (a pixel
# that was hidden) and motion boundaries are not trusted.
CONSISTENCY = (0.01, 0.5)
BOUNDARY = (0.01, 0.002)


def gray(frame: np.ndarray) -> np.ndarray:
    """Luminance in [0, 1], float32 (H, W), from 8-bit or float RGB or grey."""
    f = to_float_rgb(frame)
    if f.ndim == 3:
        f = f[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    return f


def flow(reference: np.ndarray, moving: np.ndarray, method: str = "ilk") -> np.ndarray:
    """The flow (2, H, W) on `reference`'s grid such that moving(x + flow(x)) ≈ reference(x)."""
    if reference.shape[:2] != moving.shape[:2]:
        raise InputError(
            f"optical flow needs two frames of one size, not {reference.shape[:2]} and {moving.shape[:2]}."
        )
    a, b = gray(reference), gray(moving)
    if method == "ilk":
        from skimage.registration import optical_flow_ilk

        return optical_flow_ilk(a, b).astype(np.float32)
    if method == "tvl1":
        from skimage.registration import optical_flow_tvl1

        return optical_flow_tvl1(a, b).astype(np.float32)
    if method == "dis":
        return _dis(a, b)
    raise InputError(f"flow method {method!r} is unknown; use {', '.join(FLOW_METHODS)}.")


def _dis(reference: np.ndarray, moving: np.ndarray) -> np.ndarray:
    try:
        import cv2
    except ImportError as exc:
        raise InputError(
            "the flow method dis needs OpenCV: pip install opencv-python-headless, or use the flow method ilk."
        ) from exc
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    to8 = [np.round(image * 255.0).astype(np.uint8) for image in (reference, moving)]
    xy = dis.calc(to8[0], to8[1], None)  # (H, W, 2), x first
    return np.ascontiguousarray(xy[..., ::-1].transpose(2, 0, 1), dtype=np.float32)


def warp(image: np.ndarray, flow: np.ndarray, order: int = 1) -> np.ndarray:
    """`image` (H, W) or (H, W, C) sampled at x + flow(x), edges repeated: bilinear (order 1) for
    values, nearest (order 0) for labels."""
    from scipy.ndimage import map_coordinates

    h, w = flow.shape[1:]
    if image.shape[:2] != (h, w):
        raise InputError(f"cannot warp a {image.shape[:2]} image along a {(h, w)} flow.")
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    at = [rows + flow[0], cols + flow[1]]
    if image.ndim == 2:
        return map_coordinates(image, at, order=order, mode="nearest")
    return np.stack(
        [map_coordinates(image[..., c], at, order=order, mode="nearest") for c in range(image.shape[2])], -1
    )


def occlusion(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """True where the backward flow (current → previous, on the current grid) cannot be trusted:
    the forward flow (previous → current) at the point it reaches does not bring it back (the pixel
    was hidden in the previous frame), or the backward flow changes sharply (a motion boundary)."""
    returned = warp(forward.transpose(1, 2, 0), backward).transpose(2, 0, 1)
    a, b = CONSISTENCY
    inconsistent = ((backward + returned) ** 2).sum(0) > a * ((backward**2).sum(0) + (returned**2).sum(0)) + b
    dy = np.gradient(backward, axis=1)
    dx = np.gradient(backward, axis=2)
    a, b = BOUNDARY
    boundary = (dy**2 + dx**2).sum(0) > a * (backward**2).sum(0) + b
    return inconsistent | boundary
