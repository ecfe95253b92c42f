"""Spatial guides: a pixel mask carried to every VGG layer a style loss reads (Gatys et al. 2017).

A guided Gram matrix averages feature products over a region only, so a region's texture can be
matched to one style image while the rest matches another (or itself). The mask reaches layer l
by walking the network: through a 3×3 conv it stays as it is (`simple`), shrinks to the neurons
whose window lies wholly inside (`inside`) or grows to those that see any of it (`all`); through
a 2×2 pool it is averaged (`simple`) or min/max pooled. `grow` then dilates (k > 0) or erodes
(k < 0) each layer's guide by k feature pixels. A guide never comes out empty: where `inside` or
erosion would remove a small region entirely at a deep layer, that layer uses the `simple` guide.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from napari_partial_style.core.errors import InputError

GUIDE_MODES = ("inside", "simple", "all")


def _min_pool(x: torch.Tensor, kernel: int, stride: int, padding: int = 0) -> torch.Tensor:
    return -F.max_pool2d(-x, kernel, stride, padding)


def _through(layer: nn.Module, guide: torch.Tensor, mode: str) -> torch.Tensor:
    """The guide at the output of one layer of the body."""
    if isinstance(layer, nn.Conv2d) and mode != "simple":
        k = layer.kernel_size[0]
        pool = F.max_pool2d if mode == "all" else _min_pool
        return pool(guide, k, 1, k // 2)
    if isinstance(layer, nn.MaxPool2d):
        k = layer.kernel_size
        if mode == "simple":
            return F.avg_pool2d(guide, k, layer.stride)
        return (F.max_pool2d if mode == "all" else _min_pool)(guide, k, layer.stride)
    return guide


def _grow(guide: torch.Tensor, k: int) -> torch.Tensor:
    if k == 0:
        return guide
    pool = F.max_pool2d if k > 0 else _min_pool
    return pool(guide, 2 * abs(k) + 1, 1, abs(k))


def layer_guides(
    body: nn.Sequential,
    names: Sequence[str],
    guide: torch.Tensor,
    taps: Sequence[str],
    mode: str = "inside",
    grow: int = 0,
) -> dict[str, torch.Tensor]:
    """`guide` (1×1×H×W, values in [0, 1]) at each tapped layer of `body`, never empty."""
    if mode not in GUIDE_MODES:
        raise InputError(f"guide mode {mode!r} is unknown; use {', '.join(GUIDE_MODES)}.")
    if not bool((guide > 0).any()):
        raise InputError("the style region is empty at this size: paint a larger region or raise the working size.")
    out: dict[str, torch.Tensor] = {}
    shaped, simple = guide, guide
    for name, layer in zip(names, body):
        shaped = _through(layer, shaped, mode)
        simple = _through(layer, simple, "simple")
        if name in taps:
            chosen = _grow(shaped, grow)
            out[name] = chosen if bool((chosen > 0).any()) else simple
    return out


def _flat(features: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """(B, HW, C) for channels-last features, (B, C, HW) otherwise (without a copy in either
    layout), and which of the two it is."""
    b, c, h, w = features.shape
    if not features.is_contiguous() and features.is_contiguous(memory_format=torch.channels_last):
        return features.permute(0, 2, 3, 1).reshape(b, h * w, c), True
    return features.reshape(b, c, h * w), False


class _Products(torch.autograd.Function):
    """Σ over pixels of f fᵀ whose backward is one product, f·(dG + dGᵀ): autograd would take the
    two operands' gradients as two products and add them (measured: the Gram terms' time halves)."""

    @staticmethod
    def forward(ctx, features: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(features)
        flat, pixels_first = _flat(features)
        return flat.transpose(1, 2) @ flat if pixels_first else flat @ flat.transpose(1, 2)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (features,) = ctx.saved_tensors
        b, c, h, w = features.shape
        symmetric = grad + grad.transpose(1, 2)
        flat, pixels_first = _flat(features)
        if pixels_first:
            return (flat @ symmetric).reshape(b, h, w, c).permute(0, 3, 1, 2)
        return (symmetric @ flat).reshape(b, c, h, w)


def products(features: torch.Tensor) -> torch.Tensor:
    """Σ over pixels of f fᵀ, (B, C, C), read in the features' own memory layout: channels-last
    features (the CPU's faster convolutions) are multiplied as (B, HW, C) without a copy."""
    return _Products.apply(features)


def guided_gram(features: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
    """The Gram matrix (B, C, C) of `features` averaged over the guide: Σ g²·f fᵀ / Σ g².

    Dividing by the guide's own energy (Gatys' normalisation T/√mean(T²)) makes it the region's
    average, so a small region's target is on the same scale as a whole image's."""
    return products(features * guide) / (guide * guide).sum()
