"""Make the sample labels of the cup in scikit-image's coffee photo.

The mask was drawn by eye: an ellipse for the rim, a polygon for the body and an ellipse for the
handle, minus the coffee's surface and the spoon. Run it to re-create
src/napari_partial_style/samples/coffee_cup_labels.png (label 1 = cup, 0 = everything else).
"""

from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data
from skimage.draw import ellipse, line, polygon

OUT = Path(__file__).resolve().parents[1] / "src/napari_partial_style/samples/coffee_cup_labels.png"


def cup_mask(shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[ellipse(111, 290, 94, 118, shape=shape)] = True
    body_x = [176, 405, 400, 385, 360, 330, 300, 265, 235, 205, 185]
    body_y = [120, 120, 185, 225, 255, 272, 280, 277, 262, 232, 195]
    mask[polygon(body_y, body_x, shape=shape)] = True
    mask[ellipse(265, 226, 40, 30, shape=shape)] = True
    mask[ellipse(143, 288, 47, 82, shape=shape)] = False
    spoon = np.zeros(shape, dtype=bool)
    rr, cc = line(66, 414, 250, 370)
    for d in range(-6, 7):
        spoon[rr, np.clip(cc + d, 0, shape[1] - 1)] = True
    spoon[ellipse(283, 366, 44, 40, shape=shape)] = True
    mask &= ~spoon
    return mask


if __name__ == "__main__":
    image = data.coffee()
    Image.fromarray(cup_mask(image.shape[:2]).astype(np.uint8)).save(OUT)
    overlay = image.copy()
    overlay[cup_mask(image.shape[:2])] = (0.5 * overlay[cup_mask(image.shape[:2])] + [0, 127, 0]).astype(np.uint8)
    Image.fromarray(overlay).save("/tmp/cup_overlay.png")
    print(OUT)
