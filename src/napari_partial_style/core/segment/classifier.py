"""Which classifier a job uses, and classifier checkpoints: their record, saving and loading.

The network is core/segment/fcn.py's FCNClassifier. Two kinds of source: named ones
(core/segment/sources/, e.g. `imagenet`: VGG16's own 1000 classes; score = the maximum over
positions of the per-position softmax) and checkpoints written by `train` (sigmoid scores).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from napari_partial_style.core.errors import WeightsError
from napari_partial_style.core.io import weights as weights_mod
from napari_partial_style.core.nets.model_cache import cached_model
from napari_partial_style.core.nets.vgg import IMAGENET_MEAN, IMAGENET_STD, check_finite, load_checkpoint
from napari_partial_style.core.segment import sources
from napari_partial_style.core.segment.fcn import FCNClassifier

MAKE_ONE = "give a named classifier (imagenet) or a checkpoint made by `napari-partial-style train`"
ARCHITECTURE = "vgg16-fcn"
CHECKPOINT_FORMAT = "napari-partial-style classifier"
CHECKPOINT_VERSION = 1


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
