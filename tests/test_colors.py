"""Colour control: the style's colours moved to the content's, and luminance-only transfer."""

import numpy as np
from scipy.ndimage import distance_transform_edt

from napari_partial_style.api import Session
from napari_partial_style.core.images import as_source_image
from napari_partial_style.core.params import SessionParams, StyleParams
from napari_partial_style.core.style.colors import match_colors, yiq


def coloured(shape, seed, tint):
    rng = np.random.default_rng(seed)
    return np.clip(rng.random((*shape, 3)) * 0.4 + np.array(tint), 0, 1).astype(np.float32)


def test_match_moves_the_styles_colour_mean_and_covariance_to_the_regions():
    content = coloured((40, 50), 0, (0.5, 0.1, 0.1))
    content[:, 25:] = coloured((40, 25), 1, (0.0, 0.4, 0.5))  # the region is the blue-green half
    mask = np.zeros((40, 50), bool)
    mask[:, 25:] = True
    style = as_source_image(coloured((40, 40), 2, (0.3, 0.3, 0.0)))
    moved = match_colors(style, as_source_image(content), mask).rgb.reshape(-1, 3)
    region = content[mask]
    assert np.allclose(moved.mean(axis=0), region.mean(axis=0), atol=0.01)
    assert np.allclose(np.cov(moved, rowvar=False), np.cov(region, rowvar=False), atol=2e-3)
    assert not np.allclose(style.rgb.reshape(-1, 3).mean(axis=0), region.mean(axis=0), atol=0.05)


def test_content_colours_keep_the_contents_chroma_and_change_its_luminance(hub):
    content = (coloured((48, 64), 3, (0.5, 0.2, 0.1)) * 255).astype(np.uint8)
    mask = np.zeros((48, 64), bool)
    mask[8:40, 10:50] = True
    style = (coloured((32, 32), 4, (0.0, 0.3, 0.6)) * 255).astype(np.uint8)
    session = Session(SessionParams(device="cpu", size=64))
    params = StyleParams(steps=6, colors="content", band=2, style_weight=1e9)
    out = session.stylize(content, style, params, mask).result()
    plain = session.stylize(content, style, StyleParams(steps=6, band=2, style_weight=1e9), mask).result()
    before, after, styled = (yiq(a.astype(np.float32) / 255) for a in (content, out, plain))
    changed = (out != content).any(axis=2)
    assert changed[mask].mean() > 0.5 and np.abs(after[..., 0] - before[..., 0])[mask].max() > 0.02
    assert np.abs(after[..., 1:] - before[..., 1:])[mask].max() < 0.01  # chroma kept (uint8 rounding)
    assert np.abs(styled[..., 1:] - before[..., 1:])[mask].max() > 0.01  # which plain transfer does not
    far = distance_transform_edt(~mask) > 6  # beyond the free band: the content's pixels, bit for bit
    assert np.array_equal(out[far], content[far])


def test_content_colours_show_in_the_previews_too(hub):
    """The transfer runs on grey images; its previews are shown with the content's chroma, as the
    result will be, not grey."""
    content = (coloured((48, 64), 5, (0.6, 0.1, 0.1)) * 255).astype(np.uint8)
    style = (coloured((32, 32), 6, (0.2, 0.2, 0.2)) * 255).astype(np.uint8)
    session = Session(SessionParams(device="cpu", size=64))
    previews = []
    session.stylize(content, style, StyleParams(steps=4, colors="content"), preview_every=2).result(
        lambda event: previews.append(event.preview) if event.preview is not None else None
    )
    assert len(previews) == 2
    for preview in previews:
        chroma = yiq(preview.astype(np.float32))[..., 1:]
        own = yiq(as_source_image(content).resized(preview.shape[:2]))[..., 1:]
        assert np.abs(chroma - own).mean() < 0.01 and np.abs(chroma).mean() > 0.05  # the content's red, not grey
