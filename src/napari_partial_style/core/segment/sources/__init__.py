"""Classifier sources: one module per named source, so a new source is one new file.

A module here defines `WEIGHTS` (the pretrained files it needs, see core/io/weights.py),
`load(found)` (the FCNClassifier, from {weight key: path}) and `classes()` (its class names, read
cheaply for napari's class list). Any other source string is a checkpoint file made by `train`.
Listing the names imports nothing.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get(source: str) -> ModuleType | None:
    """The module of a named source, or None when `source` is a checkpoint path."""
    return importlib.import_module(f"{__name__}.{source}") if source in names() else None
