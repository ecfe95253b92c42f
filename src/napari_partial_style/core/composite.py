"""Compositing: the stylized region pasted into the original.

Pixels whose alpha is 0 are copied from the source array, not recomputed, so they stay
bit-identical whatever the float round trip would have done.
"""

from __future__ import annotations

import numpy as np

from napari_partial_style.core.errors import InputError, require_finite
from napari_partial_style.core.images import SourceImage, from_float_rgb, to_float_rgb
from napari_partial_style.core.params import CompositeParams
from napari_partial_style.core.progress import StageGenerator

# Alphas are kept in half precision: steps of 1/2048 or finer, far below an 8-bit step, and a
# 24 Mpx alpha in 48 MB instead of 96 (a job's memory per input pixel is counted in bytes).
ALPHA_DTYPE = np.float16


def feather_alpha(mask: np.ndarray, feather: float = 0.0, grow: float = 0.0) -> np.ndarray:
    """Alpha from a boolean mask grown (or, negative, shrunk) by `grow` px: hard (the paper's)
    when feather is 0, else a smooth ramp `feather` px wide centred on the edge; alpha is exactly
    0 beyond the band."""
    require_finite(feather=feather, grow=grow)
    if feather < 0:
        raise InputError(f"feather must be 0 or more pixels, not {feather}.")
    mask = np.asarray(mask, dtype=bool)
    if feather == 0 and grow == 0:
        return mask.astype(ALPHA_DTYPE)
    from scipy.ndimage import distance_transform_edt

    return _ramp(distance_transform_edt(mask) - distance_transform_edt(~mask) + grow, feather)


def _ramp(signed: np.ndarray, feather: float) -> np.ndarray:
    """Alpha from the signed distance to the grown edge (px, positive inside)."""
    if feather == 0:
        return (signed > 0).astype(ALPHA_DTYPE)
    t = np.clip(0.5 + signed / feather, 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(ALPHA_DTYPE)


def check_region_survives(mask: np.ndarray, params: CompositeParams) -> None:
    """Refuse a region that `params`' grow (with its feather) would erase: the composite would be
    the content itself. Checked from the region's depth alone (its deepest pixel's distance to the
    edge), so a job is refused before its style transfer; an empty mask (a slice of a stack with no
    region) is left to the callers, and a CRF soft edge keeps the edge's band, so it survives."""
    mask = np.asarray(mask, dtype=bool)
    if params.grow >= 0 or params.crf_edge or not mask.any():
        return
    from scipy.ndimage import distance_transform_edt

    depth = float(distance_transform_edt(mask).max())
    if _ramp(np.asarray(depth + params.grow), params.feather) > 0:
        return
    feather = f" and feather {params.feather:g} px" if params.feather else ""
    raise InputError(
        f"grow {params.grow:g} px{feather} erases the whole region (its deepest pixel is {depth:.3g} px from "
        f"its edge), so nothing would change; give a grow (--grow) above -{depth + params.feather / 2:.3g} px."
    )


def crf_edge_alpha(alpha: np.ndarray, mask: np.ndarray, probability: np.ndarray, width: float) -> np.ndarray:
    """`alpha` with the band of `width` px around the mask's edge set from the CRF's probability of
    the region, so the edge is soft exactly where the CRF was unsure. The probability is clipped to
    [0.5, 1] inside the mask and [0, 0.5] outside: the alpha's 0.5 level stays the labels' edge even
    where they were painted over the CRF's, and pixels far from the edge keep `alpha`."""
    require_finite(width=width)
    if width <= 0:
        return alpha
    if probability.shape != mask.shape:
        raise InputError(f"CRF probabilities {probability.shape} must match the region {mask.shape}.")
    from scipy.ndimage import distance_transform_edt

    mask = np.asarray(mask, bool)
    band = np.where(mask, distance_transform_edt(mask), distance_transform_edt(~mask)) <= width
    p = np.clip(np.nan_to_num(probability.astype(np.float32)), 0.0, 1.0)
    p = np.where(p < 1 / 255, 0.0, np.where(p > 254 / 255, 1.0, p))  # no invisible alpha leaking far out
    soft = np.where(mask, np.maximum(p, 0.5), np.minimum(p, 0.5))
    return np.where(band, soft, alpha).astype(ALPHA_DTYPE)


def edge_aware(alpha: np.ndarray, guide: np.ndarray, radius: int, eps: float = 1e-3) -> np.ndarray:
    """Alpha snapped to the original's edges by a guided filter (He et al. 2010; darktable uses
    radius 5, eps 0.01 for SAM masks): locally a linear function of the grey guide image, so it
    follows the object's outline where the mask was blocky. Nothing beyond `radius` px of the
    alpha's support becomes nonzero."""
    from scipy.ndimage import binary_dilation, uniform_filter

    if radius <= 0:
        return alpha
    size = 2 * radius + 1
    g = guide.astype(np.float32)
    alpha = alpha.astype(np.float32)  # scipy's filters take no half floats
    mean_g, mean_a = uniform_filter(g, size), uniform_filter(alpha, size)
    cov = uniform_filter(g * alpha, size) - mean_g * mean_a
    var = uniform_filter(g * g, size) - mean_g * mean_g
    a = cov / (var + eps)
    b = mean_a - a * mean_g
    out = np.clip(uniform_filter(a, size) * g + uniform_filter(b, size), 0.0, 1.0)
    out[~binary_dilation(alpha > 0, iterations=radius)] = 0.0
    return out.astype(ALPHA_DTYPE)


SMOOTH_BYTES_PER_PIXEL = 100  # of the region's box, at most (core/style/smoothing.py; docs/benchmarks.md)


def smoothed(
    content: SourceImage, stylized: np.ndarray, alpha: np.ndarray, strength: float
) -> StageGenerator[np.ndarray]:
    """`stylized` with the box of alpha's support smoothed on the content's matting affinity
    (core/style/smoothing.py `smooth`), in its own dtype; beyond the box it is returned as it was, and
    the composite copies the content wherever alpha is 0, so the outside stays bit for bit."""
    import torch

    from napari_partial_style.core.runtime.memory import memory_guard
    from napari_partial_style.core.style.smoothing import smooth

    rows, cols = np.flatnonzero((alpha > 0).any(axis=1)), np.flatnonzero((alpha > 0).any(axis=0))
    if strength <= 0 or rows.size == 0:
        return stylized
    pad = 2
    y0, y1 = max(0, rows[0] - pad), min(alpha.shape[0], rows[-1] + 1 + pad)
    x0, x1 = max(0, cols[0] - pad), min(alpha.shape[1], cols[-1] + 1 + pad)
    if min(y1 - y0, x1 - x0) < 3:
        return stylized
    size = f"a {x1 - x0}×{y1 - y0} px region (about {(x1 - x0) * (y1 - y0) * SMOOTH_BYTES_PER_PIXEL / 1e9:.1f} GB)"
    with memory_guard(
        torch.device("cpu"), f"smoothing {size}", "set photo smoothing (--smooth) to 0, or downscale the photo"
    ):
        result = yield from smooth(stylized[y0:y1, x0:x1, :3], content.native[y0:y1, x0:x1], strength)
    out = stylized.copy()
    out[y0:y1, x0:x1, :3] = from_float_rgb(result, stylized.dtype)
    return out


def seam_score(composite: np.ndarray, mask: np.ndarray, width: int = 2, rows: int = 256) -> float:
    """How visible the region's edge is: the mean gradient on the edge (±`width` px) over the mean
    gradient in the rings 4-8 px inside and outside. About 1: no seam; well above 1: an edge the
    original did not have (the same ratio on the original is the baseline). Computed on the
    edge's bounding box, `rows` rows at a time with a margin that holds every distance up to 8 px
    and the gradient's neighbours, so a large photo costs one strip's temporaries."""
    mask = np.asarray(mask, bool)
    rows_in, cols_in = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows_in.size == 0 or mask.all():
        return float("nan")
    pad = 10
    y0, y1 = max(0, rows_in[0] - pad), min(mask.shape[0], rows_in[-1] + 1 + pad)
    x0, x1 = max(0, cols_in[0] - pad), min(mask.shape[1], cols_in[-1] + 1 + pad)
    sums = np.zeros(4)  # edge sum, edge count, ring sum, ring count
    for top in range(y0, y1, rows):
        bottom = min(top + rows, y1)
        a, b = max(y0, top - pad), min(y1, bottom + pad)
        edge, ring, magnitude = _seam_strip(composite[a:b, x0:x1], mask[a:b, x0:x1], width)
        keep = np.s_[top - a : bottom - a]
        edge, ring, magnitude = edge[keep], ring[keep], magnitude[keep]
        sums += (magnitude[edge].sum(dtype=np.float64), edge.sum(), magnitude[ring].sum(dtype=np.float64), ring.sum())
    if sums[1] == 0 or sums[3] == 0 or sums[2] == 0:
        return float("nan")
    return float((sums[0] / sums[1]) / (sums[2] / sums[3]))


def _seam_strip(composite: np.ndarray, inside: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The edge and ring pixels and the gradient magnitude of one strip (exact away from its cut rows)."""
    from scipy.ndimage import distance_transform_edt

    grey = composite[..., :3].astype(np.float32).mean(axis=2)
    gy, gx = (np.gradient(grey, axis=k) if grey.shape[k] > 1 else np.zeros_like(grey) for k in (0, 1))  # 1 px: flat
    magnitude = np.hypot(gx, gy)
    distance = np.where(inside, distance_transform_edt(inside), distance_transform_edt(~inside))
    return distance <= width, (distance >= 4) & (distance <= 8), magnitude


def changed_outside(original: np.ndarray, composite: np.ndarray, alpha: np.ndarray, rows: int = 256) -> int:
    """Pixels whose alpha is 0 but whose value differs from the original (by construction 0),
    counted a band of rows at a time so it costs no full-size temporaries."""
    count = 0
    for y in range(0, alpha.shape[0], rows):
        band = np.s_[y : y + rows]
        differs = (composite[band][..., :3] != original[band][..., :3]).any(axis=2)
        count += int(np.count_nonzero(differs & (alpha[band] == 0)))
    return count


def composite(source: SourceImage, stylized: np.ndarray, alpha: np.ndarray, rows: int = 256) -> np.ndarray:
    """alpha·stylized + (1 − alpha)·source, in the source's dtype, with its alpha channel put back.

    `stylized` is H×W×3 in any image dtype (float in [0, 1], uint8, uint16). Blended `rows` rows
    at a time, and only where alpha is above 0: memory is the output and one strip."""
    if stylized.shape[:2] != source.shape or alpha.shape != source.shape:
        raise InputError(
            f"stylized {stylized.shape[:2]} and alpha {alpha.shape} must match the content {source.shape}."
        )
    channels = 3 if source.alpha is None else 4
    out = np.empty((*source.shape, channels), source.dtype)
    out[..., :3] = source.native
    if source.alpha is not None:
        out[..., 3] = source.alpha
    for y in range(0, source.shape[0], rows):
        band = np.s_[y : y + rows]
        a = alpha[band][..., None]
        if not (a > 0).any():
            continue
        blended = a * to_float_rgb(stylized[band][..., :3]) + (1.0 - a) * to_float_rgb(source.native[band])
        np.copyto(out[band][..., :3], from_float_rgb(blended, source.dtype), where=a > 0)
    return out
