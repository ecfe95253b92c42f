"""Style networks: one module per named network, so a new network is one new file.

A module here defines `WEIGHTS` (the pretrained files it needs, see core/io/weights.py; may be
empty) and `load(found, taps, device)`: from {weight key: path}, a module whose forward gives the
activations of the `taps` (VGG19's layer names, which the style objectives read) by name. A network
can also be registered at run time (`register`), as the tests' tiny one is. Listing the names
imports nothing.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

from napari_partial_style.core.errors import InputError

_REGISTERED: dict[str, Any] = {}


def names() -> list[str]:
    return sorted({m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")} | set(_REGISTERED))


def get(name: str) -> ModuleType | Any:
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in names():
        raise InputError(f"unknown style network {name!r}; choose one of {', '.join(names())}.")
    return importlib.import_module(f"{__name__}.{name}")


def register(name: str, network: Any) -> None:
    """Offer `network` (an object with WEIGHTS and load, as a module here) under `name`."""
    _REGISTERED[name] = network
