"""What jobs share in one process: the device, the working size rule, where weights are looked for,
and the loaded networks. The pipeline's stages ask it for networks; `api.Session` is a door to it."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

from napari_partial_style.core.params import SessionParams, StyleParams
from napari_partial_style.core.progress import Progress


class Runtime:
    """Device, working size, weight lookup and (cached per process) networks.

    `weights` maps a weight key ("vgg16", "vgg19") to an explicit file; `folders` are searched
    before $NAPARI_PARTIAL_STYLE_WEIGHTS and torch's hub cache."""

    def __init__(
        self,
        params: SessionParams | None = None,
        weights: dict[str, str | Path] | None = None,
        folders: Sequence[Path] = (),
    ) -> None:
        from napari_partial_style.core.runtime.device import get_device

        self.params = params or SessionParams()
        self.device = get_device(self.params.device)
        self.weights = dict(weights or {})
        self.folders = list(folders)
        self.found: dict[str, Path] = {}  # every weight file a job of this runtime used, for its record

    def size_for(self, shape: tuple[int, int]) -> int:
        """The working long side for an image of `shape`: the session's, else the device's default."""
        from napari_partial_style.core.runtime.device import working_size

        return working_size(self.params.size, self.device, shape)

    def find_weights(self, needed: Sequence[Any]) -> Generator[Progress, None, dict[str, Path]]:
        """Every file in `needed` found, or downloaded with progress, before any work starts."""
        from napari_partial_style.core.io import weights

        found = yield from weights.ensure_steps(needed, self.weights, self.folders)
        self.found.update(found)
        return found

    def classifier(self, source: str) -> Generator[Progress, None, Any]:
        """The classifier of `source` ("imagenet" or a checkpoint path), loaded once."""
        from napari_partial_style.core.segment.classifier import load_classifier, required_weights

        found = yield from self.find_weights(required_weights(source))
        yield Progress("load", 0, 1, message="loading the classifier")
        model = load_classifier(source, self.device, found)
        yield Progress("load", 1, 1, message="classifier loaded")
        return model

    def style_network(self, style: StyleParams) -> Generator[Progress, None, Any]:
        """The style network (VGG19 unless `style.network` names another) truncated after the last
        layer the style objective reads."""
        from napari_partial_style.core.style import networks
        from napari_partial_style.core.style.objectives import get

        network = networks.get(style.network)
        found = yield from self.find_weights(list(network.WEIGHTS))
        yield Progress("load", 0, 1, message=f"loading the style network {style.network}")
        net = network.load(found, tuple(get(style.objective).TAPS), self.device)
        yield Progress("load", 1, 1, message=f"style network {style.network} loaded")
        return net
