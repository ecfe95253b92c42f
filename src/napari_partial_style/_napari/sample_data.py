"""Sample data for napari: the coffee photo, its cup labels, and material textures (all CC0)."""

from __future__ import annotations

from napari_partial_style import samples
from napari_partial_style._napari.settings import prefer_our_reader


def _image(data, name: str):
    prefer_our_reader()  # the plugin is in use: let napari open bundles with its reader from now on
    return (data, {"name": name}, "image")


def coffee():
    return [_image(samples.coffee(), "coffee")]


def coffee_cup_labels():
    return [
        _image(samples.coffee(), "coffee"),
        (samples.coffee_cup_labels(), {"name": "coffee labels", "features": {"class": ["background", "cup"]},
                                        "opacity": 0.5}, "labels"),
    ]


def stone():
    return [_image(samples.stone(), "stone")]


def brick():
    return [_image(samples.brick(), "brick")]


def grass():
    return [_image(samples.grass(), "grass")]
