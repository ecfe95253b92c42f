"""Label colours that depend on the class name, so "cup" looks the same in every run."""

from __future__ import annotations

import colorsys
import hashlib


def class_color(name: str) -> tuple[float, float, float, float]:
    digest = hashlib.md5(name.encode()).digest()
    hue = digest[0] / 255.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 0.95)
    return (r, g, b, 1.0)


def class_colormap(classes: list[str]):
    """Label k gets the colour of classes[k]; label 0 (background) is transparent."""
    from napari.utils.colormaps import DirectLabelColormap

    colors = {0: (0.0, 0.0, 0.0, 0.0), None: (0.5, 0.5, 0.5, 1.0)}
    colors.update({k: class_color(name) for k, name in enumerate(classes) if k > 0})
    return DirectLabelColormap(color_dict=colors)
