"""Gatys et al.'s loss, as their reference implementation computes it.

content = MSE at relu4_2; style = sum over relu1_1..relu5_1 of (style_weight / N_l²) · MSE between
Gram matrices normalised by H·W; optional L1 total variation. The default weights are the
reference's converted to torchvision's input units (core/params.py, docs/style-weights.md).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from napari_partial_style.core.params import StyleParams

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
TAPS = (*STYLE_LAYERS, CONTENT_LAYER)


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrices (B, C, C) of (B, C, H, W) features, normalised by H·W."""
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """L1 total variation: the sum of absolute differences between neighbouring pixels."""
    return (image[..., 1:, :] - image[..., :-1, :]).abs().sum() + (image[..., 1:] - image[..., :-1]).abs().sum()


class GatysObjective:
    """The loss for one content/style pair; its targets are computed once."""

    def __init__(self, net: Callable[[torch.Tensor], dict[str, torch.Tensor]], content: torch.Tensor,
                 style: torch.Tensor, params: StyleParams) -> None:
        self.net = net
        self.params = params
        with torch.no_grad():
            self.content_target = net(content)[CONTENT_LAYER].detach()
            style_features = net(style)
            self.style_targets = {name: gram(style_features[name]).detach() for name in STYLE_LAYERS}
        self.layer_weights = {
            name: params.style_weight / self.style_targets[name].shape[-1] ** 2 for name in STYLE_LAYERS
        }

    def parts(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Weighted loss terms at `image`: content, style, tv."""
        features = self.net(image)
        p = self.params
        content = p.content_weight * torch.mean((features[CONTENT_LAYER] - self.content_target) ** 2)
        style = sum(
            self.layer_weights[name] * torch.mean((gram(features[name]) - self.style_targets[name]) ** 2)
            for name in STYLE_LAYERS
        )
        parts = {"content": content, "style": style}
        if p.tv_weight > 0:
            parts["tv"] = p.tv_weight * total_variation(image)
        return parts


def make(net: Callable[[torch.Tensor], dict[str, torch.Tensor]], content: torch.Tensor, style: torch.Tensor,
         params: StyleParams, mask: np.ndarray | None = None) -> GatysObjective:
    """The whole-image Gatys loss; a mask only limits where the composite uses the result."""
    return GatysObjective(net, content, style, params)
