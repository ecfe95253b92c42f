"""Style objectives: one module per loss, found by name, so a new objective is one new file.

A module here defines `TAPS` (the VGG19 layers it reads), `style_stats(net, styles, params)`, the
statistics the content should match, from one or several `StyleImage`s (a blend: each with its
share, each read only where its own guide is), and `make(net, content, targets, params, outside)`,
returning an object whose `parts(image)` gives the weighted loss terms as a dict of scalar tensors
(their sum is minimised). Each `Target` is such statistics and the content region that should take
them on (a soft 1×1×H×W guide, or None for the whole image); `outside`, when given, is the guide of
the rest of the frame, which should keep its own statistics. The statistics are kept apart from
the loss because they do not depend on the content: a pyramid level computes them once for all its
tiles. Listing the names imports nothing, so napari can offer them cheaply.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from napari_partial_style.core.errors import InputError

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class StyleImage:
    """A style image (1×3×H×W), its share of a blend, and where its statistics come from (a soft
    1×1×H×W guide at its size; None: all of it)."""

    image: torch.Tensor
    share: float = 1.0
    guide: torch.Tensor | None = None


@dataclass(frozen=True)
class Target:
    stats: Any  # what the objective's style_stats gave
    guide: torch.Tensor | None = None


class StyleObjective(Protocol):
    def parts(self, image: torch.Tensor) -> dict[str, torch.Tensor]: ...


def names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get(name: str) -> ModuleType:
    """The objective module called `name`."""
    if name not in names():
        raise InputError(f"style objective {name!r} is unknown; use {' or '.join(names())}.")
    return importlib.import_module(f"{__name__}.{name}")
