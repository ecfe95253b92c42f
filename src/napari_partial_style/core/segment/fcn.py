"""The FCN multi-label classifier network: VGG16 body, fc6/fc7/fc8 as convolutions, global max pooling.

fc6 is a 7×7 convolution without padding so torchvision's fully connected weights map onto it
exactly; it therefore needs inputs of at least 224 px, and each fc8 position classifies one
224 px window. The named sources (core/segment/sources/) and checkpoints (core/segment/classifier.py)
both build this network.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from napari_partial_style.core.errors import WeightsError
from napari_partial_style.core.nets.vgg import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    WIDTHS,
    Normalize,
    build_body,
    conv_class,
    layer_names,
    load_body_weights,
    load_checkpoint,
    tapped_forward,
)
from napari_partial_style.core.segment.guided_relu import SwitchableReLU

# DCSM differentiates with respect to the inputs of conv3_1 ... conv5_3 (method-spec A.3).
DCSM_TAPS = ("pool2", "relu3_1", "relu3_2", "pool3", "relu4_1", "relu4_2", "pool4", "relu5_1", "relu5_2")


class FCNClassifier(nn.Module):
    """VGG16 FCN whose `forward_taps` returns the fc8 logit map and the nine DCSM tap tensors."""

    grid = (32.0, 112.0)  # the logit map's cells on the canvas: 32 px apart, the first window centred at 112
    min_input = 224  # fc6 is an unpadded 7×7 convolution after five 2× poolings

    def __init__(
        self,
        classes: Sequence[str],
        score_kind: str = "sigmoid",
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        initialise: bool = True,
        widths: Sequence[int] = WIDTHS,
        hidden: int = 4096,
    ) -> None:
        """`widths` and `hidden` (fc6/fc7 channels) other than VGG16's: a narrow network of the
        same shape, which no pretrained file fits (the tests' tiny source)."""
        super().__init__()
        if score_kind not in ("sigmoid", "softmax"):
            raise ValueError(f"score_kind must be sigmoid or softmax, not {score_kind!r}")
        self.classes = list(classes)
        self.score_kind = score_kind
        self.mean, self.std = list(mean), list(std)
        self.normalize = Normalize(mean, std)
        self.body = build_body("vgg16", "pool5", SwitchableReLU, widths, initialise)  # see UnsetConv2d
        self.names = layer_names("vgg16")
        conv = conv_class(initialise)
        self.head = nn.Sequential(
            OrderedDict(
                fc6=conv(widths[-1], hidden, kernel_size=7),
                relu6=SwitchableReLU(),
                fc7=conv(hidden, hidden, kernel_size=1),
                relu7=SwitchableReLU(),
                fc8=conv(hidden, len(self.classes), kernel_size=1),
            )
        )

    def forward_taps(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x, taps = tapped_forward(self.body, self.names, self.normalize(x), DCSM_TAPS)
        return self.head(x), list(taps.values())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_taps(x)[0]

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        return class_scores(logits, self.score_kind)


def class_scores(logits: torch.Tensor, score_kind: str) -> torch.Tensor:
    """(B, C) class scores from a (B, C, h, w) logit map, by the classifier's kind."""
    if score_kind == "softmax":
        return torch.softmax(logits, dim=1).amax(dim=(2, 3))
    return torch.sigmoid(logits.amax(dim=(2, 3)))


FC_SHAPES = {"fc6": (4096, 512, 7, 7), "fc7": (4096, 4096, 1, 1), "fc8": (1000, 4096, 1, 1)}
FC_INDEX = {"fc6": 0, "fc7": 3, "fc8": 6}


def copy_imagenet_weights(model: FCNClassifier, path: Path, head_layers: Sequence[str]) -> None:
    """torchvision's VGG16 body and its fully connected `head_layers` reshaped into convolutions."""
    what = "torchvision's VGG16 weights"
    state = load_checkpoint(path, what)
    load_body_weights(model.body, state, path, what)
    head = {}
    for layer in head_layers:
        index = FC_INDEX[layer]
        try:
            head[f"{layer}.weight"] = state[f"classifier.{index}.weight"].reshape(FC_SHAPES[layer])
            head[f"{layer}.bias"] = state[f"classifier.{index}.bias"]
        except (KeyError, RuntimeError) as exc:
            raise WeightsError(
                f"{path} is not {what} (classifier.{index}: {exc}); delete it and download it again."
            ) from exc
    model.head.load_state_dict(head, strict=False)
