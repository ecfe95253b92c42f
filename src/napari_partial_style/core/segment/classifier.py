"""The FCN multi-label classifier: VGG16 body, fc6/fc7/fc8 as convolutions, global max pooling.

fc6 is a 7×7 convolution without padding so torchvision's fully connected weights map onto it
exactly; it therefore needs inputs of at least 224 px, and each fc8 position classifies one
224 px window. Two sources: `imagenet` (VGG16's own 1000 classes; score = the maximum over
positions of the per-position softmax) and checkpoints written by `train` (sigmoid scores).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from napari_partial_style.core.errors import WeightsError
from napari_partial_style.core.io import weights as weights_mod
from napari_partial_style.core.model_cache import cached_model
from napari_partial_style.core.segment import sources
from napari_partial_style.core.segment.guided_relu import SwitchableReLU
from napari_partial_style.core.vgg import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    WIDTHS,
    Normalize,
    build_body,
    check_finite,
    conv_class,
    layer_names,
    load_body_weights,
    load_checkpoint,
    tapped_forward,
)

MAKE_ONE = "give a named classifier (imagenet) or a checkpoint made by `napari-partial-style train`"
ARCHITECTURE = "vgg16-fcn"
CHECKPOINT_FORMAT = "napari-partial-style classifier"
CHECKPOINT_VERSION = 1
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


def save_checkpoint(model: FCNClassifier, path: str | Path, extra: dict[str, Any] | None = None) -> None:
    """Write a classifier checkpoint: plain types and tensors only, so `weights_only` loads it."""
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "architecture": ARCHITECTURE,
            "classes": list(model.classes),
            "score": model.score_kind,
            "normalization": {"mean": list(model.mean), "std": list(model.std)},
            "state_dict": model.state_dict(),
            **(extra or {}),
        },
        path,
    )


def load_checkpoint_classifier(path: Path) -> FCNClassifier:
    """A checkpoint written by `train` (or `save_checkpoint`), checked for format and version."""
    state = load_checkpoint(path, "a classifier checkpoint", fix=MAKE_ONE)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise WeightsError(
            f"{path} is not a {CHECKPOINT_FORMAT} checkpoint; make one with `napari-partial-style train`."
        )
    if state.get("version") != CHECKPOINT_VERSION or state.get("architecture") != ARCHITECTURE:
        raise WeightsError(
            f"{path} is checkpoint version {state.get('version')} ({state.get('architecture')}); this version reads "
            f"{CHECKPOINT_VERSION} ({ARCHITECTURE}). Update napari-partial-style or retrain."
        )
    check_record(state, path)
    if not isinstance(state.get("state_dict"), dict):
        raise WeightsError(
            f'{path}: its "state_dict" is a {type(state.get("state_dict")).__name__}, not the '
            f"network's tensors; {MAKE_ONE}."
        )
    check_finite(state["state_dict"], path, MAKE_ONE)
    norm = state.get("normalization", {})
    model = FCNClassifier(
        state["classes"],
        state.get("score", "sigmoid"),
        norm.get("mean", IMAGENET_MEAN),
        norm.get("std", IMAGENET_STD),
        initialise=False,
    )  # the strict load sets every parameter
    try:
        model.load_state_dict(state["state_dict"])
    except (KeyError, RuntimeError) as exc:
        raise WeightsError(f"{path} does not fit the {ARCHITECTURE} classifier ({exc}).") from exc
    return model


def check_record(state: dict[str, Any], path: Path) -> None:
    """The checkpoint's class list and score kind are what `train` writes: one line naming the field."""
    classes = state.get("classes")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) and c.strip() for c in classes):
        raise WeightsError(f'{path}: its "classes" must be a list of class names, not {classes!r:.60}; {MAKE_ONE}.')
    if len({c.lower() for c in classes}) != len(classes):
        raise WeightsError(f'{path}: its "classes" names a class twice; {MAKE_ONE}.')
    if state.get("score", "sigmoid") not in ("sigmoid", "softmax"):
        raise WeightsError(f'{path}: its "score" is {state.get("score")!r}, not sigmoid or softmax; {MAKE_ONE}.')
    norm = state.get("normalization", {})
    for key, default in (("mean", IMAGENET_MEAN), ("std", IMAGENET_STD)):
        value = norm.get(key, default) if isinstance(norm, dict) else norm
        if (
            not isinstance(value, (list, tuple))
            or len(value) != 3
            or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in value)
        ):
            raise WeightsError(
                f"{path}: its normalization {key} must be 3 finite numbers, not {value!r:.60}; {MAKE_ONE}."
            )


def required_weights(source: str) -> list[weights_mod.WeightFile]:
    """Pretrained files a classifier source needs (a checkpoint is self-contained)."""
    named = sources.get(source)
    return list(named.WEIGHTS) if named is not None else []


def _load_named(_path: Path | None, source: str, found: tuple[tuple[str, str], ...]) -> FCNClassifier:
    return sources.get(source).load({key: Path(path) for key, path in found})


def load_classifier(source: str, device: torch.device, found: dict[str, Path]) -> FCNClassifier:
    """The classifier for `source` (a named source such as "imagenet", or a checkpoint path),
    loaded once per process."""
    named = sources.get(source)
    if named is not None:
        files = tuple((w.key, str(found[w.key])) for w in named.WEIGHTS)
        first = found[named.WEIGHTS[0].key] if named.WEIGHTS else None
        return cached_model(_load_named, first, device, source, files)
    path = Path(source).expanduser()
    if not path.exists():
        raise WeightsError(f"classifier checkpoint {path} does not exist; {MAKE_ONE}.")
    return cached_model(load_checkpoint_classifier, path, device)


def class_names(source: str) -> list[str]:
    """The classes of a source, without loading its network."""
    named = sources.get(source)
    return named.classes() if named is not None else read_class_names(source)


def score_kind(source: str) -> str:
    """ "softmax" or "sigmoid", without loading the network (the default threshold follows it)."""
    named = sources.get(source)
    return named.SCORE_KIND if named is not None else _checkpoint_header(source).get("score", "sigmoid")


def read_class_names(path: str | Path) -> list[str]:
    """A checkpoint's class names, without reading its tensors into memory."""
    return list(_checkpoint_header(path)["classes"])


def _checkpoint_header(path: str | Path) -> dict[str, Any]:
    """A checkpoint's record (its tensors memory-mapped, not read), checked for our format."""
    from napari_partial_style.core.io.image_files import describe_file

    path = Path(path)
    kind = "a folder" if path.is_dir() else describe_file(path)
    if kind != "a zip archive":
        raise WeightsError(f"{path} is {kind}, not a classifier checkpoint; {MAKE_ONE}.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:
        raise WeightsError(f"{path} cannot be read as a classifier checkpoint ({exc}); {MAKE_ONE}.") from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise WeightsError(
            f"{path} is not a {CHECKPOINT_FORMAT} checkpoint; make one with `napari-partial-style train`."
        )
    check_record(state, path)
    return state
