"""torchvision's VGG19 pretrained on ImageNet: Gatys et al.'s network, truncated after the last
layer the objective reads and loaded once per process (core/nets/vgg.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from napari_partial_style.core.io import weights

WEIGHTS = (weights.VGG19,)


def load(found: dict[str, Path], taps: tuple[str, ...], device: Any) -> Any:
    from napari_partial_style.core.nets.vgg import tapped_vgg

    return tapped_vgg("vgg19", found[weights.VGG19.key], taps, device)
