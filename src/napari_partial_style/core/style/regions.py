"""What a style job is asked for and what it gives back; no torch here, so napari imports it cheaply."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from napari_partial_style.core.images import SourceImage

Box = tuple[int, int, int, int]  # y0, y1, x0, x1 in content pixels


@dataclass(frozen=True)
class StyleRegion:
    """A style and the part of the content that takes it on: an H×W mask at the content's size
    (bool, or soft in [0, 1]), or None for the whole frame. `blend` adds more style images with
    their weights (`weight` is the first's): the region's Gram targets are their weighted mix."""

    style: SourceImage
    mask: np.ndarray | None = None
    name: str = ""
    weight: float = 1.0
    blend: tuple[tuple[SourceImage, float], ...] = ()

    def mix(self) -> list[tuple[SourceImage, float]]:
        """Each style image with its share of the targets (the weights normalised to sum to 1)."""
        pairs = [(self.style, self.weight), *self.blend]
        total = sum(weight for _, weight in pairs)
        return [(image, weight / total) for image, weight in pairs]


@dataclass
class Stylized:
    """The stylized frame (content's size and dtype) and how it was made, for the manifest."""

    image: np.ndarray
    levels: list[int] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
