"""Compositing: the stylized region pasted into the original.

Pixels whose alpha is 0 are copied from the source array, not recomputed, so they stay
bit-identical whatever the float round trip would have done.
"""

from __future__ import annotations

import numpy as np

from napari_partial_style.core.errors import InputError, require_finite
from napari_partial_style.core.images import SourceImage, from_float_rgb, to_float_rgb


def feather_alpha(mask: np.ndarray, feather: float = 0.0) -> np.ndarray:
    """Alpha from a boolean mask: hard (the paper's) when feather is 0, else a smooth ramp
    `feather` px wide centred on the mask's edge; alpha is exactly 0 beyond the band."""
    require_finite(feather=feather)
    if feather < 0:
        raise InputError(f"feather must be 0 or more pixels, not {feather}.")
    mask = np.asarray(mask, dtype=bool)
    if feather == 0:
        return mask.astype(np.float32)
    from scipy.ndimage import distance_transform_edt

    signed = distance_transform_edt(mask) - distance_transform_edt(~mask)
    t = np.clip(0.5 + signed / feather, 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def composite(source: SourceImage, stylized: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """alpha·stylized + (1 − alpha)·source, in the source's dtype, with its alpha channel put back.

    `stylized` is H×W×3 in any image dtype (float in [0, 1], uint8, uint16); only the pixels whose
    alpha is above 0 are converted, so memory follows the region."""
    if stylized.shape[:2] != source.shape or alpha.shape != source.shape:
        raise InputError(
            f"stylized {stylized.shape[:2]} and alpha {alpha.shape} must match the content {source.shape}."
        )
    out = source.native.copy()
    band = alpha > 0
    a = alpha[band][:, None]
    blended = a * to_float_rgb(stylized[band][:, :3]) + (1.0 - a) * to_float_rgb(source.native[band])
    out[band] = from_float_rgb(blended, source.dtype)
    if source.alpha is not None:
        out = np.dstack([out, source.alpha])
    return out
