"""The core must stay importable without napari, Qt or magicgui, and the package must import light."""

import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import napari_partial_style.core as core
for mod in pkgutil.walk_packages(core.__path__, "napari_partial_style.core."):
    importlib.import_module(mod.name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in {"napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "magicgui", "vispy"})
print(",".join(bad))
"""


def test_core_imports_no_gui_modules():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_package_import_does_not_import_torch():
    code = ("import sys, napari_partial_style, napari_partial_style._napari.reader, napari_partial_style._napari.writer, "
            "napari_partial_style._napari.sample_data, napari_partial_style._napari; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
