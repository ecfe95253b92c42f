"""Colour control (Gatys et al. 2016, "Preserving color in neural artistic style transfer").

`style`: the style's colours come with its texture (the classic result). `match`: the style image's
colours are first moved to the content's (mean and covariance, over the region when there is one),
so the texture arrives in the content's palette. `content`: luminance-only transfer: content and
style become luminance images (the style's luminance matched to the content's mean and spread), the
transfer runs on those, and the result's luminance is joined to the content's own chroma (YIQ), so
a leather ball turned "metal" keeps its colour. Pixels the transfer left alone keep their values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from napari_partial_style.core.images import SourceImage, as_source_image, from_float_rgb, to_float_rgb

_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], np.float32)
_FROM_YIQ = np.linalg.inv(_TO_YIQ).astype(np.float32)
_EPS = 1e-6


def yiq(rgb: np.ndarray) -> np.ndarray:
    return rgb @ _TO_YIQ.T


def rgb_of(yiq_pixels: np.ndarray) -> np.ndarray:
    return yiq_pixels @ _FROM_YIQ.T


def _sqrt_and_inverse(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, vectors = np.linalg.eigh(cov)
    values = np.clip(values, _EPS, None)
    return (vectors * np.sqrt(values)) @ vectors.T, (vectors / np.sqrt(values)) @ vectors.T


def _pixels(image: SourceImage, mask: np.ndarray | None) -> np.ndarray:
    rgb = image.rgb.reshape(-1, 3)
    if mask is None:
        return rgb
    chosen = np.asarray(mask).reshape(-1) > 0
    return rgb[chosen] if chosen.any() else rgb


def match_colors(style: SourceImage, content: SourceImage, mask: np.ndarray | None = None) -> SourceImage:
    """The style image with the content's colour mean and covariance (of the region, if given);
    the style's own statistics are those of its region (alpha), which it keeps."""
    target = _pixels(content, mask).astype(np.float64)
    source = _pixels(style, style.alpha).astype(np.float64)
    mu_t, mu_s = target.mean(axis=0), source.mean(axis=0)
    root_t, _ = _sqrt_and_inverse(np.cov(target, rowvar=False) + _EPS * np.eye(3))
    _, inverse_root_s = _sqrt_and_inverse(np.cov(source, rowvar=False) + _EPS * np.eye(3))
    moved = (style.rgb.reshape(-1, 3) - mu_s) @ (root_t @ inverse_root_s).T + mu_t
    rgb = np.clip(moved, 0.0, 1.0).reshape(style.rgb.shape).astype(np.float32)
    return SourceImage(native=from_float_rgb(rgb, style.dtype), alpha=style.alpha)


def luminance_image(image: SourceImage) -> SourceImage:
    """The image's luminance as three equal channels, in its own dtype."""
    y = yiq(to_float_rgb(image.native[..., :3]))[..., 0]
    return as_source_image(from_float_rgb(np.repeat(y[..., None], 3, axis=2), image.dtype))


def luminance_style(style: SourceImage, content: SourceImage, mask: np.ndarray | None = None) -> SourceImage:
    """The style's luminance with the content's mean and spread (the paper's luminance matching);
    the style's own are those of its region (alpha), which it keeps."""
    y_style = yiq(style.rgb)[..., 0]
    y_region = yiq(_pixels(style, style.alpha))[..., 0]
    y_content = yiq(_pixels(content, mask))[..., 0]
    scale = y_content.std() / max(float(y_region.std()), _EPS)
    y = np.clip((y_style - y_region.mean()) * scale + y_content.mean(), 0.0, 1.0)
    return SourceImage(native=from_float_rgb(np.repeat(y[..., None], 3, axis=2), style.dtype), alpha=style.alpha)


def with_content_chroma(
    stylized_grey: np.ndarray, grey: SourceImage, content: SourceImage, rows: int = 512
) -> np.ndarray:
    """The stylized luminance joined to the content's chroma; where the transfer left the grey
    image as it was, the content's own pixels (bit for bit). A band of rows at a time."""
    out = content.native[..., :3].copy()
    for top in range(0, out.shape[0], rows):
        band = np.s_[top : top + rows]
        changed = (stylized_grey[band][..., :3] != grey.native[band]).any(axis=2)
        if not changed.any():
            continue
        y = yiq(to_float_rgb(stylized_grey[band][changed][:, :3]))[:, 0]
        iq = yiq(to_float_rgb(content.native[band][changed][:, :3]))[:, 1:]
        out[band][changed] = from_float_rgb(rgb_of(np.concatenate([y[:, None], iq], axis=1)), content.dtype)
    return out


def in_content_chroma(content: SourceImage) -> Callable[[np.ndarray], np.ndarray]:
    """For a luminance-only transfer: a preview (float RGB) with the content's chroma, as the result
    will have it, rather than grey. The content's chroma is computed once per preview size."""
    chroma: dict[tuple[int, int], np.ndarray] = {}

    def coloured(preview: np.ndarray) -> np.ndarray:
        shape = preview.shape[:2]
        if shape not in chroma:
            chroma[shape] = yiq(content.resized(shape))[..., 1:]
        y = yiq(preview[..., :3].astype(np.float32))[..., :1]
        return np.clip(rgb_of(np.concatenate([y, chroma[shape]], axis=-1)), 0.0, 1.0)

    return coloured
