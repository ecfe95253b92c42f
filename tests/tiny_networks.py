"""Tiny networks for plumbing tests: classifier sources with VGG16's FCN shape and a style network
with VGG19's, both at 1/8 of their widths, and a narrower FCN for training runs.

The real loading, saliency, CRF, style and scoring code runs on them; only the arithmetic is small
(segmenting a 48×64 image takes ~0.1 CPU-s instead of ~10 with the full network). They read no
weight file, so they cannot stand in for a test of loading; a few end-to-end tests use the full
networks for that.
"""

from __future__ import annotations

import torch

from napari_partial_style.core.nets.vgg import TappedVGG
from napari_partial_style.core.segment import sources
from napari_partial_style.core.segment.fcn import FCNClassifier
from napari_partial_style.core.segment.sources import imagenet
from napari_partial_style.core.style import networks

WIDTHS = (8, 16, 32, 64, 64)
HIDDEN = 64


class TinySource:
    """A registered classifier source: `classes`, a score kind and a seed fix the network."""

    WEIGHTS: tuple = ()  # reads no file

    def __init__(self, classes: list[str] | None, score_kind: str, seed: int) -> None:
        self._classes, self.SCORE_KIND, self.seed = classes, score_kind, seed

    def classes(self) -> list[str]:
        return self._classes or imagenet.classes()

    def load(self, _found) -> FCNClassifier:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            return FCNClassifier(self.classes(), self.SCORE_KIND, widths=WIDTHS, hidden=HIDDEN)


TINY = {
    "tiny": TinySource(None, "softmax", 0),  # ImageNet's 1000 classes, as the imagenet source
    "tiny-materials": TinySource(["leather", "metal", "wood"], "sigmoid", 1),
}  # as a trained checkpoint


class TinyStyleNetwork:
    """A registered style network: VGG19's layers at 1/8 of its widths, seeded, reading no file."""

    WEIGHTS: tuple = ()

    def load(self, _found, taps, device) -> TappedVGG:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(2)
            return TappedVGG("vgg19", taps, widths=WIDTHS).eval().requires_grad_(False).to(device)


class TinyFCN(FCNClassifier):
    """Training's classifier at the tiny sources' widths: from scratch, it learns a fixed batch in
    a few steps as VGG16 does (with the He initialisation; without it, neither does)."""

    widths, hidden = WIDTHS, HIDDEN

    def __init__(self, classes: list[str], score_kind: str = "sigmoid") -> None:
        super().__init__(classes, score_kind, widths=self.widths, hidden=self.hidden)


class NarrowFCN(TinyFCN):
    """Narrower still, for the runs that check files rather than learning: a whole run takes a second."""

    widths, hidden = (4, 8, 8, 8, 8), 8


def register() -> None:
    for name, source in TINY.items():
        sources.register(name, source)
    networks.register("tiny", TinyStyleNetwork())
