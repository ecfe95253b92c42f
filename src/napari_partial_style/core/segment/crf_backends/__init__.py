"""Dense CRF back ends: one module per implementation of the same model, found by its file name, so
a new back end is one new file (its name becomes a choice of --crf and of the widget).

A module here defines `model(rgb8, unary, gaussian, bilateral, device)`: for an 8-bit H×W×3 image,
unaries (K+1, H·W; −log probabilities, background first) and the kernels' settings (CRFParams),
an object with `step()` (one mean-field iteration: the stage yields between them, so a back end
that holds the GIL still leaves napari responsive) and `marginals()` ((K+1, H·W) float32, Q).
`none` is not a back end: it takes the argmax of the maps. Listing the names imports nothing.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from napari_partial_style.core.errors import InputError

NONE = "none"
FIRST = ("torch", "pydensecrf")  # listed first, in this order: the default, then the reference


def names() -> list[str]:
    found = {m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")}
    return [n for n in FIRST if n in found] + sorted(found - set(FIRST))


def methods() -> list[str]:
    """The choices of CRFParams.method: every back end, then none."""
    return [*names(), NONE]


def get(name: str) -> ModuleType:
    if name not in names():
        raise InputError(f"CRF method {name!r} is unknown; use {' or '.join(methods())}.")
    return importlib.import_module(f"{__name__}.{name}")
