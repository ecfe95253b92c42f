"""torchvision's ImageNet VGG16 as an FCN: 1000 object classes, softmax scores."""

from __future__ import annotations

import functools
from pathlib import Path

from napari_partial_style.core.io import weights

WEIGHTS = [weights.VGG16]
SCORE_KIND = "softmax"  # one of 1000 classes: scores sum to 1


@functools.lru_cache(maxsize=1)
def classes() -> list[str]:
    """The 1000 class names of torchvision's VGG16_Weights.IMAGENET1K_V1 metadata, as a copy
    shipped with the package (a test checks it equals torchvision's). Importing torchvision here
    would import Triton, whose LLVM crashes a process where Mesa's llvmpipe (napari under Xvfb,
    or on Mesa drivers) is already loaded."""
    from importlib.resources import files

    return (files("napari_partial_style.core.segment") / "imagenet_classes.txt").read_text().splitlines()


def load(found: dict[str, Path]):
    """torchvision's VGG16 with its fully connected layers reshaped into convolutions."""
    from napari_partial_style.core.segment.fcn import FCNClassifier, copy_imagenet_weights

    model = FCNClassifier(classes(), score_kind=SCORE_KIND, initialise=False)  # all of it is loaded next
    copy_imagenet_weights(model, found[weights.VGG16.key], ("fc6", "fc7", "fc8"))
    return model
