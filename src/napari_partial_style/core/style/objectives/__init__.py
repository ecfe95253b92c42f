"""Style objectives: one module per loss, found by name, so a new objective is one new file.

A module here defines `TAPS` (the VGG19 layers it reads) and `make(net, content, targets, params,
outside)`, returning an object whose `parts(image)` gives the weighted loss terms as a dict of scalar
tensors (their sum is minimised). Each `Target` is a style image and the content region that should
take it on (a soft 1×1×H×W guide, or None for the whole image), or several style images blended by
weight (`weight` is the first's, `blend` the others'); `outside`, when given, is the
guide of the rest of the frame, which should keep its own statistics. Listing the names imports
nothing, so napari can offer them cheaply.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from napari_partial_style.core.errors import InputError

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Target:
    style: torch.Tensor
    guide: torch.Tensor | None = None
    weight: float = 1.0
    blend: tuple[tuple[torch.Tensor, float], ...] = ()

    def mix(self) -> list[tuple[torch.Tensor, float]]:
        """Each style with its share (the weights normalised to sum to 1)."""
        pairs = [(self.style, self.weight), *self.blend]
        total = sum(weight for _, weight in pairs)
        return [(style, weight / total) for style, weight in pairs]


class StyleObjective(Protocol):
    def parts(self, image: torch.Tensor) -> dict[str, torch.Tensor]: ...


def names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get(name: str) -> ModuleType:
    """The objective module called `name`."""
    if name not in names():
        raise InputError(f"style objective {name!r} is unknown; use {' or '.join(names())}.")
    return importlib.import_module(f"{__name__}.{name}")
