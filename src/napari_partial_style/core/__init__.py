"""Pure computation: numpy and torch only, no napari, Qt or magicgui (a test enforces it)."""
