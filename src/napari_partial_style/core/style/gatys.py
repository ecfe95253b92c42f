"""Gatys neural style transfer (VGG19, L-BFGS) as a generator of progress events.

Losses follow Gatys' reference implementation: content = MSE at relu4_2; style = sum over
relu1_1..relu5_1 of (style_weight / N_l²) · MSE between Gram matrices normalised by H·W;
optional L1 total variation. The reference weights (content 1, style 1e3) are in Caffe units
(BGR, 0-255 inputs); torchvision's VGG19 sees inputs about 255·σ ≈ 57.6 times smaller, and style
losses scale with that factor to the fourth power and content losses to the second, so the style
weight becomes 1e3 · 57.6² ≈ 3.3e6 here. These defaults are taken from the literature, not tuned
on torchvision's weights (docs/style-weights.md says how to tune them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from napari_partial_style.core.errors import InputError, require_finite
from napari_partial_style.core.style.lbfgs import DeviceLBFGS
from napari_partial_style.core.progress import Progress, StageGenerator

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
STYLE_TAPS = (*STYLE_LAYERS, CONTENT_LAYER)
CAFFE_TO_TORCHVISION = (255.0 * 0.226) ** 2
DEFAULT_STYLE_WEIGHT = 1e3 * CAFFE_TO_TORCHVISION
INITS = ("content", "noise")


@dataclass(frozen=True)
class StyleParams:
    """Parameters of one style transfer; `steps` counts loss evaluations (closure calls)."""

    steps: int = 300
    content_weight: float = 1.0
    style_weight: float = DEFAULT_STYLE_WEIGHT
    tv_weight: float = 0.0
    init: str = "content"
    seed: int = 0
    preview_every: int = 0
    history_size: int = 100

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise InputError(f"steps must be at least 1, not {self.steps}.")
        require_finite(content_weight=self.content_weight, style_weight=self.style_weight, tv_weight=self.tv_weight)
        if min(self.content_weight, self.style_weight, self.tv_weight) < 0:
            raise InputError("content, style and TV weights must not be negative.")
        if self.init not in INITS:
            raise InputError(f"init {self.init!r} is unknown; use one of {', '.join(INITS)}.")


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrices (B, C, C) of (B, C, H, W) features, normalised by H·W."""
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """L1 total variation: the sum of absolute differences between neighbouring pixels."""
    return (image[..., 1:, :] - image[..., :-1, :]).abs().sum() + (image[..., 1:] - image[..., :-1]).abs().sum()


class StyleObjective:
    """The Gatys loss for one content/style pair; targets are computed once."""

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


def make_optimizer(image: torch.Tensor, history_size: int) -> DeviceLBFGS:
    """L-BFGS as the references use it (lr 1, no line search, no early stopping), one loss
    evaluation per step, with its memory on the device (core/style/lbfgs.py)."""
    return DeviceLBFGS(image, history_size=history_size)


def make_closure(objective: StyleObjective, image: torch.Tensor, optimizer: DeviceLBFGS | torch.optim.Optimizer,
                 record: dict[str, torch.Tensor]) -> Callable[[], torch.Tensor]:
    """One loss evaluation with gradient; the loss parts of the latest call go into `record`
    as detached tensors, so the closure itself never waits for the GPU."""

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        parts = objective.parts(image)
        total = sum(parts.values())
        total.backward()
        record.clear()
        record.update({name: value.detach() for name, value in parts.items()})
        record["total"] = total.detach()
        return total

    return closure


def as_floats(record: dict[str, torch.Tensor]) -> dict[str, float]:
    """The recorded loss parts as floats, read from the device in one transfer."""
    values = torch.stack(list(record.values())).tolist()
    return dict(zip(record, values))


def to_tensor(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    """H×W×3 float array to a 1×3×H×W tensor."""
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None].to(device)


def to_array(image: torch.Tensor) -> np.ndarray:
    """1×3×H×W tensor to an H×W×3 float32 array clipped to [0, 1]."""
    return image.detach().clamp(0, 1)[0].permute(1, 2, 0).cpu().numpy().astype(np.float32)


def initial_image(content: torch.Tensor, params: StyleParams) -> torch.Tensor:
    if params.init == "noise":
        generator = torch.Generator(device="cpu").manual_seed(params.seed)
        return torch.rand(content.shape, generator=generator).to(content.device)
    return content.clone()


def stylize(net: Callable[[torch.Tensor], dict[str, torch.Tensor]], content: np.ndarray,
            style: np.ndarray, params: StyleParams, device: torch.device) -> StageGenerator[np.ndarray]:
    """Stylize `content` (H×W×3 in [0, 1]) with `style`, one L-BFGS evaluation per step.

    Each step is one iteration of the same L-BFGS as one long `torch.optim.LBFGS` call (a test
    checks the two follow the same path), so the loop can yield progress and previews, and stop
    between any two steps.
    """
    torch.manual_seed(params.seed)
    content_t = to_tensor(content, device)
    objective = StyleObjective(net, content_t, to_tensor(style, device), params)
    image = initial_image(content_t, params).requires_grad_(True)
    optimizer = make_optimizer(image, params.history_size)
    record: dict[str, torch.Tensor] = {}
    closure = make_closure(objective, image, optimizer, record)
    for step in range(1, params.steps + 1):
        optimizer.step(closure)
        values = as_floats(record)
        if not math.isfinite(values["total"]):
            raise InputError(
                f"the style loss became {values['total']} at step {step} (content {values['content']:.3g}, "
                f"style {values['style']:.3g}); lower --style-weight or --content-weight, or try --init noise."
            )
        preview = None
        if params.preview_every and (step % params.preview_every == 0 or step == params.steps):
            preview = to_array(image)
        yield Progress("style", step, params.steps, values=values, preview=preview)
    return to_array(image)
