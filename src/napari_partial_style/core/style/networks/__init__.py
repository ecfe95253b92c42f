"""Style networks: one module per named network, so a new network is one new file.

A module here defines `WEIGHTS` (the pretrained files it needs, see core/io/weights.py; may be
empty) and `load(found, taps, device)`: from {weight key: path}, a module whose forward gives the
activations of the `taps` (VGG19's layer names, which the style objectives read) by name. A network
can also be registered at run time (`register`), as the tests' tiny one is. The registry is
core/registry.py's `STYLE_NETWORKS`; listing the names imports nothing.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.registry import STYLE_NETWORKS

names = STYLE_NETWORKS.names
register = STYLE_NETWORKS.register  # (name, network): an object with WEIGHTS and load, as a module here


def get(name: str) -> ModuleType | Any:
    network = STYLE_NETWORKS.get(name)
    if network is None:
        raise InputError(f"unknown style network {name!r}; choose one of {', '.join(names())}.")
    return network
