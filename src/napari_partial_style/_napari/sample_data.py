"""Sample data for napari: the coffee photo, its cup labels, and material textures (all CC0)."""

from __future__ import annotations

from napari_partial_style import samples
from napari_partial_style._napari.common import KIND_KEY, TEXTURE
from napari_partial_style._napari.settings import prefer_our_reader


def _image(data, name: str, kind: str = "photo"):
    """An image layer marked as a photo or a texture, so the docks start with a photo as the
    content and a texture as the style."""
    prefer_our_reader()  # the plugin is in use: let napari open bundles with its reader from now on
    return (data, {"name": name, "metadata": {KIND_KEY: kind}}, "image")


def coffee():
    return [_image(samples.coffee(), "coffee")]


def coffee_cup_labels():
    return [
        _image(samples.coffee(), "coffee"),
        (
            samples.coffee_cup_labels(),
            {"name": "coffee labels", "features": {"class": ["background", "cup"]}, "opacity": 0.5},
            "labels",
        ),
    ]


def stone():
    return [_image(samples.stone(), "stone", TEXTURE)]


def brick():
    return [_image(samples.brick(), "brick", TEXTURE)]


def grass():
    return [_image(samples.grass(), "grass", TEXTURE)]
