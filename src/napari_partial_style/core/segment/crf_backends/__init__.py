"""Dense CRF back ends: one module per implementation of the same model, found by its file name, so
a new back end is one new file (its name becomes a choice of --crf and of the widget).

A module here defines `model(rgb8, unary, gaussian, bilateral, device)`: for an 8-bit H×W×3 image,
unaries (K+1, H·W; −log probabilities, background first) and the kernels' settings (CRFParams),
an object with `step()` (one mean-field iteration: the stage yields between them, so a back end
that holds the GIL still leaves napari responsive) and `marginals()` ((K+1, H·W) float32, Q).
`none` is not a back end: it takes the argmax of the maps. The registry is core/registry.py's
`CRF_BACKENDS`; listing the names imports nothing.
"""

from __future__ import annotations

from types import ModuleType

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.registry import CRF_BACKENDS

names = CRF_BACKENDS.names
methods = CRF_BACKENDS.choices  # the choices of CRFParams.method: every back end, then none


def get(name: str) -> ModuleType:
    module = CRF_BACKENDS.get(name)
    if module is None:
        raise InputError(f"CRF method {name!r} is unknown; use {' or '.join(methods())}.")
    return module
