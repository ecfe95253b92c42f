"""Gatys et al.'s loss, as their reference implementation computes it, with spatial control.

content = MSE at relu4_2; style = sum over relu1_1..relu5_1 of (style_weight / N_l²) · MSE between
Gram matrices normalised by H·W; optional L1 total variation. The default weights are the
reference's converted to torchvision's input units (core/params.py, docs/style-weights.md).

With guides (Gatys et al. 2017, "Controlling Perceptual Factors"), each region's Gram matrix is
its own average (core/style/guides.py) matched to its style's, and weighted by the region's share
of the frame: every pixel then feels the same balance of style and content as in the whole-image
loss, so one style weight means the same with either method and a crop of the frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from napari_partial_style.core.params import StyleParams
from napari_partial_style.core.style.guides import guided_gram, layer_guides, products
from napari_partial_style.core.style.objectives import StyleImage, Target

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
TAPS = (*STYLE_LAYERS, CONTENT_LAYER)


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrices (B, C, C) of (B, C, H, W) features, normalised by H·W.

    Always float32, whatever the network's precision (its features come back float32, see
    core/runtime/precision.py): a Gram sums H·W products, and the loss compares near-equal Grams,
    which bfloat16's 8-bit mantissa would round to noise."""
    return products(features) / (features.shape[2] * features.shape[3])


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """L1 total variation: the sum of absolute differences between neighbouring pixels."""
    return (image[..., 1:, :] - image[..., :-1, :]).abs().sum() + (image[..., 1:] - image[..., :-1]).abs().sum()


def style_stats(
    net: Callable[[torch.Tensor], dict[str, torch.Tensor]], styles: Sequence[StyleImage], params: StyleParams
) -> dict[str, torch.Tensor]:
    """The Gram targets per style layer: a blend's are the mix of its images' by share, and an
    image with a guide (its region of the material) gives the guided Grams of that region only."""
    grams: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for style in styles:
            features = net(style.image)
            guides = (
                None
                if style.guide is None
                else layer_guides(net.body, net.names, style.guide, STYLE_LAYERS, params.guide)
            )
            for name in STYLE_LAYERS:
                matrix = gram(features[name]) if guides is None else guided_gram(features[name], guides[name])
                grams[name] = grams.get(name, 0.0) + style.share * matrix.detach()
    return grams


class _Term:
    """One region's style term: its guides per layer (None: the whole frame), target Grams, weight."""

    def __init__(self, guides: dict[str, torch.Tensor] | None, targets: dict[str, torch.Tensor], share: float) -> None:
        self.guides, self.targets, self.share = guides, targets, share

    def gram(self, features: torch.Tensor, layer: str) -> torch.Tensor:
        return gram(features) if self.guides is None else guided_gram(features, self.guides[layer])


class GatysObjective:
    """The loss for one content image and its style targets; the targets are computed once."""

    def __init__(
        self,
        net: Callable[[torch.Tensor], dict[str, torch.Tensor]],
        content: torch.Tensor,
        targets: Sequence[Target],
        params: StyleParams,
        outside: torch.Tensor | None = None,
    ) -> None:
        self.net = net
        self.params = params
        self.terms: list[_Term] = []
        with torch.no_grad():
            content_features = net(content)
            self.content_target = content_features[CONTENT_LAYER].detach()
            for target in targets:
                guides = self._guides(target.guide)
                self.terms.append(
                    _Term(guides, target.stats, 1.0 if target.guide is None else float(target.guide.mean()))
                )
            if outside is not None and bool((outside > 0).any()):
                guides = self._guides(outside, mode="simple")
                self.terms.append(
                    _Term(
                        guides,
                        {name: guided_gram(content_features[name], guides[name]).detach() for name in STYLE_LAYERS},
                        float(outside.mean()),
                    )
                )
        channels = {name: self.terms[0].targets[name].shape[-1] for name in STYLE_LAYERS}
        self.layer_weights = {name: params.style_weight / channels[name] ** 2 for name in STYLE_LAYERS}

    def _guides(self, guide: torch.Tensor | None, mode: str | None = None) -> dict[str, torch.Tensor] | None:
        if guide is None:
            return None
        return layer_guides(
            self.net.body, self.net.names, guide, STYLE_LAYERS, mode or self.params.guide, self.params.guide_grow
        )

    def parts(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Weighted loss terms at `image`: content, style, tv."""
        features = self.net(image)
        p = self.params
        content = p.content_weight * torch.mean((features[CONTENT_LAYER] - self.content_target) ** 2)
        style = sum(
            term.share
            * self.layer_weights[name]
            * torch.mean((term.gram(features[name], name) - term.targets[name]) ** 2)
            for term in self.terms
            for name in STYLE_LAYERS
        )
        parts = {"content": content, "style": style}
        if p.tv_weight > 0:
            parts["tv"] = p.tv_weight * total_variation(image)
        return parts


def make(
    net: Callable[[torch.Tensor], dict[str, torch.Tensor]],
    content: torch.Tensor,
    targets: Sequence[Target],
    params: StyleParams,
    outside: torch.Tensor | None = None,
) -> GatysObjective:
    return GatysObjective(net, content, targets, params, outside)
