"""napari reader for result bundles: a `.pstyle` folder opens as one layer per stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

LayerData = tuple[Any, dict[str, Any], str]


def get_reader(path: str | list[str]):
    """Return the bundle reader for a `.pstyle` folder, else None; never raises."""
    if isinstance(path, list):
        if len(path) != 1:
            return None
        path = path[0]
    candidate = Path(path)
    if candidate.suffix != ".pstyle" or not candidate.is_dir():
        return None
    return read_bundle_layers


def read_bundle_layers(path: str | list[str]) -> list[LayerData]:
    """Layers of a bundle, named `<bundle> content`, `<bundle> labels`, ... (DESIGN.md)."""
    from napari_partial_style._napari.settings import prefer_our_reader
    from napari_partial_style.core.io.bundle import read_bundle

    prefer_our_reader()
    path = Path(path[0] if isinstance(path, list) else path)
    bundle = read_bundle(path)
    name = path.stem
    meta = {"partial_style": bundle.manifest, "bundle": str(path)}
    layers: list[LayerData] = [(bundle.content, {"name": f"{name} content", "metadata": meta}, "image")]
    if bundle.style is not None:
        layers.append((bundle.style, {"name": f"{name} style", "visible": False, "metadata": meta}, "image"))
    targets = bundle.manifest.get("targets") or []
    if bundle.saliency is not None:
        for i, target in enumerate(targets[: len(bundle.saliency)]):
            layers.append((bundle.saliency[i], {
                "name": f"{name} saliency [{target}]", "colormap": "inferno", "contrast_limits": (0.0, 1.0),
                "blending": "additive", "visible": False, "metadata": meta,
            }, "image"))
    for key in ("stylized", "composite"):
        array = getattr(bundle, key)
        if array is not None:
            layers.append((array, {"name": f"{name} {key}", "metadata": meta, "visible": key == "composite"}, "image"))
    if bundle.labels is not None:
        features = {"class": ["background", *targets]}
        layers.append((bundle.labels, {
            "name": f"{name} labels", "opacity": 0.4, "features": features, "metadata": meta,
        }, "labels"))
    return layers
