"""Classifier sources: one module per named source, so a new source is one new file.

A module here defines `WEIGHTS` (the pretrained files it needs, see core/io/weights.py; may be
empty), `SCORE_KIND` ("softmax" or "sigmoid": the scores its network gives), `load(found)` (the classifier, from {weight key: path}) and `classes()` (its class names,
read cheaply for napari's class list). A source can also be registered at run time (`register`),
as the tests' tiny network is. Any other source string is a checkpoint file made by `train`.
Listing the names imports nothing.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

_REGISTERED: dict[str, Any] = {}


def names() -> list[str]:
    return sorted({m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")} | set(_REGISTERED))


def get(source: str) -> ModuleType | Any | None:
    """The module (or registered object) of a named source, or None when `source` is a checkpoint path."""
    if source in _REGISTERED:
        return _REGISTERED[source]
    return importlib.import_module(f"{__name__}.{source}") if source in names() else None


def register(name: str, source: Any) -> None:
    """Offer `source` (an object with WEIGHTS, SCORE_KIND, load and classes, as a module here) under `name`."""
    _REGISTERED[name] = source
