"""Style objectives: one module per loss, found by name, so a new objective is one new file.

A module here defines `TAPS` (the VGG19 layers it reads) and `make(net, content, style, params,
mask)`, returning an object whose `parts(image)` gives the weighted loss terms as a dict of scalar
tensors (their sum is minimised). `mask` (h×w, 1 where the content should take the style) is None
for a whole-image objective. Listing the names imports nothing, so napari can offer them cheaply.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from napari_partial_style.core.errors import InputError

if TYPE_CHECKING:
    import torch


class StyleObjective(Protocol):
    def parts(self, image: torch.Tensor) -> dict[str, torch.Tensor]: ...


def names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get(name: str) -> ModuleType:
    """The objective module called `name`."""
    if name not in names():
        raise InputError(f"style objective {name!r} is unknown; use {' or '.join(names())}.")
    return importlib.import_module(f"{__name__}.{name}")
