"""Style objectives: one module per loss, found by name, so a new objective is one new file.

A module here defines `TAPS` (the VGG19 layers it reads), `style_stats(net, styles, params)`, the
statistics the content should match, from one or several `StyleImage`s (a blend: each with its
share, each read only where its own guide is), and `make(net, content, targets, params, outside)`,
returning an object whose `parts(image)` gives the weighted loss terms as a dict of scalar tensors
(their sum is minimised). Each `Target` is such statistics and the content region that should take
them on (a soft 1×1×H×W guide, or None for the whole image); `outside`, when given, is the guide of
the rest of the frame, which should keep its own statistics. The statistics are kept apart from
the loss because they do not depend on the content: a pyramid level computes them once for all its
tiles. The registry is core/registry.py's `STYLE_OBJECTIVES`; listing the names imports nothing, so
napari can offer them cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.registry import STYLE_OBJECTIVES

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


names = STYLE_OBJECTIVES.names


def get(name: str) -> ModuleType:
    """The objective module called `name`."""
    module = STYLE_OBJECTIVES.get(name)
    if module is None:
        raise InputError(f"style objective {name!r} is unknown; use {' or '.join(names())}.")
    return module
