"""Bundled samples: scikit-image's coffee photo, labels of its cup, and a stone texture.

The coffee photo (Rachel Michetti, Pikolo Espresso Bar) and the textures ship with scikit-image
under CC0: gravel (CC0Textures "Gravel04"), brick (CC0Textures "Bricks25"), grass (DeviantArt
linolafett "Grass 01"). The cup labels were drawn by eye with
scripts/make_cup_labels.py and are ours (BSD-3-Clause, like the code).
"""

from __future__ import annotations

from importlib.resources import files

import numpy as np

CUP_LABELS_FILE = "coffee_cup_labels.png"
STONE_SOURCE = "skimage.data.gravel (CC0Textures Gravel04, CC0)"


def coffee() -> np.ndarray:
    """The coffee photo, 400×600 RGB uint8."""
    from skimage import data

    return data.coffee()


def coffee_cup_labels() -> np.ndarray:
    """Labels of the cup in `coffee()`: 1 = cup, 0 = the rest (uint8)."""
    from PIL import Image

    with Image.open(files(__name__) / CUP_LABELS_FILE) as img:
        return np.asarray(img, dtype=np.uint8)


def stone() -> np.ndarray:
    """A stone (gravel) texture, 512×512 grayscale uint8."""
    from skimage import data

    return data.gravel()


def brick() -> np.ndarray:
    """A brick-wall texture, 512×512 grayscale uint8."""
    from skimage import data

    return data.brick()


def grass() -> np.ndarray:
    """A grass texture, 512×512 grayscale uint8."""
    from skimage import data

    return data.grass()
