"""The extension points: a classifier source, a CRF back end, a style objective or a style network is
one module in its stage's folder, found by its file name, or an object registered at run time.

The parameter tree offers their names as choices (core/params.py) and the stages load them, so the
registries live here, below both: the tree reads names without importing any stage, and listing
names imports nothing (napari shows the choices the moment a dock opens).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from pkgutil import iter_modules
from types import ModuleType
from typing import Any

NO_CRF = "none"  # a choice of CRFParams.method that is no back end: the argmax of the maps


class Registry:
    """The modules of the package `core.<package>` (those not starting with `_`) and the objects
    registered under a name; `first` names are listed first in that order, the rest sorted, then `also`
    (choices that are no module)."""

    def __init__(self, package: str, first: tuple[str, ...] = (), also: tuple[str, ...] = ()) -> None:
        self.package = f"{__package__}.{package}"
        self.folder = str(Path(__file__).parent.joinpath(*package.split(".")))
        self.first, self.also = first, also
        self._registered: dict[str, Any] = {}

    def _search_path(self) -> list[str]:
        """Where its modules are: the package's own search path once it is imported, else its folder."""
        package = sys.modules.get(self.package)
        return list(package.__path__) if package is not None else [self.folder]

    def names(self) -> list[str]:
        found = {m.name for m in iter_modules(self._search_path()) if not m.name.startswith("_")}
        found |= set(self._registered)
        return [n for n in self.first if n in found] + sorted(found - set(self.first))

    def choices(self) -> list[str]:
        return [*self.names(), *self.also]

    def get(self, name: str) -> ModuleType | Any | None:
        """The module or registered object called `name`; None when there is none."""
        if name in self._registered:
            return self._registered[name]
        return importlib.import_module(f"{self.package}.{name}") if name in self.names() else None

    def register(self, name: str, implementation: Any) -> None:
        """Offer `implementation` (an object with what a module of the package defines) under `name`."""
        self._registered[name] = implementation


CLASSIFIER_SOURCES = Registry("segment.sources")
CRF_BACKENDS = Registry("segment.crf_backends", first=("torch", "pydensecrf"), also=(NO_CRF,))
STYLE_OBJECTIVES = Registry("style.objectives")
STYLE_NETWORKS = Registry("style.networks")
