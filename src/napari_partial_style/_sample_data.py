"""Sample data for napari: the coffee photo, its cup labels, and material textures (all CC0)."""

from __future__ import annotations

from napari_partial_style import samples


def coffee():
    return [(samples.coffee(), {"name": "coffee"}, "image")]


def coffee_cup_labels():
    return [
        (samples.coffee(), {"name": "coffee"}, "image"),
        (samples.coffee_cup_labels(), {"name": "coffee labels", "features": {"class": ["background", "cup"]},
                                        "opacity": 0.5}, "labels"),
    ]


def stone():
    return [(samples.stone(), {"name": "stone"}, "image")]


def brick():
    return [(samples.brick(), {"name": "brick"}, "image")]


def grass():
    return [(samples.grass(), {"name": "grass"}, "image")]
