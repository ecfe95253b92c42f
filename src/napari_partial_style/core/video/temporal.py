"""The temporal term of style transfer for clips (Ruder, Dosovitskiy & Brox 2016, eq. 7).

A frame's result is pulled towards the previous frame's result warped onto it along the optical
flow, wherever the flow is trusted (`c` = 1: forward and backward flow agree, no motion boundary)
and the region is: `weight` times the mean over the level's pixels and channels of
`c · (result − warped previous)²`. A pixel the previous frame did not see (c = 0) is free to take
the style anew. The mean (not the sum) keeps one weight meaning the same at every size and level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from napari_partial_style.core.images import resize_plane, resize_rgb
from napari_partial_style.core.style.objectives import StyleObjective

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class TemporalTarget:
    """The previous result warped onto this frame (H×W×3 float in [0, 1], at the content's size),
    where it is trusted (H×W float in [0, 1]: c times the region), and the term's weight."""

    previous: np.ndarray
    trust: np.ndarray
    weight: float

    def at(self, box: Box, shape: tuple[int, int]) -> TemporalTarget:
        """The target cut to `box` and resized to a level's `shape`."""
        y0, y1, x0, x1 = box
        return TemporalTarget(
            resize_rgb(self.previous[y0:y1, x0:x1], shape),
            np.clip(resize_plane(self.trust[y0:y1, x0:x1].astype(np.float32), shape), 0.0, 1.0),
            self.weight,
        )

    def cut(self, cut: tuple[slice, slice]) -> TemporalTarget:
        """The target over one tile of a level."""
        return TemporalTarget(self.previous[cut], self.trust[cut], self.weight)


class WithTemporal:
    """An objective plus the temporal term; like the realism term it stays float32 at any precision."""

    def __init__(self, objective: StyleObjective, target: TemporalTarget, device: torch.device) -> None:
        from napari_partial_style.core.nets.tensors import to_tensor

        self.objective, self.weight = objective, target.weight
        self.previous = to_tensor(target.previous, device)
        self.trust = to_tensor(target.trust[..., None], device)

    def parts(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        squared = (self.trust * (image - self.previous) ** 2).sum() / image.numel()
        return {**self.objective.parts(image), "temporal": self.weight * squared}
