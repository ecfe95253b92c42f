"""`python -m napari_partial_style` runs the command-line interface."""

from napari_partial_style.cli.entry import entry

entry()
