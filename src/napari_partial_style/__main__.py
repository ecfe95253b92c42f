"""`python -m napari_partial_style` runs the command-line interface."""

from napari_partial_style._entry import entry

entry()
