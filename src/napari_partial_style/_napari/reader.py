"""napari reader for result bundles: a `.pstyle` file (or an unzipped bundle folder) opens as one layer per stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

LayerData = tuple[Any, dict[str, Any], str]


def get_reader(path: str | list[str]):
    """Return the bundle reader for a `.pstyle` file or folder, else None; never raises."""
    if isinstance(path, list):
        if len(path) != 1:
            return None
        path = path[0]
    candidate = Path(path)
    if candidate.suffix != ".pstyle" or not candidate.exists():
        return None
    return read_bundle_layers


def read_bundle_layers(path: str | list[str]) -> list[LayerData]:
    """Layers of a bundle, named `<bundle> content`, `<bundle> labels`, ... (DESIGN.md). A clip's
    (a frame axis in every layer but the style) open as stacks, so the slider moves through them together."""
    from napari_partial_style._napari import layer_names as names
    from napari_partial_style._napari.layers import SALIENCY_LOOK
    from napari_partial_style._napari.settings import prefer_our_reader
    from napari_partial_style.core.io.bundle import read_bundle

    prefer_our_reader()
    path = Path(path[0] if isinstance(path, list) else path)
    bundle = read_bundle(path)
    name = path.stem
    meta = {"partial_style": bundle.manifest, "bundle": str(path)}
    # napari does not guess that a stack's last axis is colour once a place is given: a clip says so
    colour = {"rgb": True} if bundle.frames and bundle.content.ndim == 4 else {}
    layers: list[LayerData] = [
        (bundle.content, {"name": names.role(name, names.CONTENT), "metadata": meta, **colour}, "image")
    ]
    if bundle.style is not None:
        layers.append(
            (bundle.style, {"name": names.role(name, names.STYLE), "visible": False, "metadata": meta}, "image")
        )
    targets = bundle.manifest.get("targets") or []
    if bundle.saliency is not None:
        maps = bundle.saliency.swapaxes(0, 1) if bundle.frames else bundle.saliency  # a clip's: (T, K, H, W)
        for i, target in enumerate(targets[: len(maps)]):
            layers.append(
                (
                    maps[i],
                    {
                        "name": names.saliency(name, target),
                        **SALIENCY_LOOK,
                        "metadata": meta,
                    },
                    "image",
                )
            )
    for key in (names.STYLIZED, names.COMPOSITE):
        array = getattr(bundle, key)
        if array is not None:
            layers.append(
                (
                    array,
                    {
                        "name": names.role(name, key),
                        "metadata": meta,
                        "visible": key == names.COMPOSITE,
                        **({"rgb": True} if bundle.frames and array.ndim == 4 else {}),
                    },
                    "image",
                )
            )
    if bundle.labels is not None:
        from napari_partial_style._napari.layers import PROBABILITIES_KEY
        from napari_partial_style._napari.stable_colors import class_colormap

        features = {"class": ["background", *targets]}
        token = _outline_when_added()
        layers.append(
            (
                bundle.labels,
                {
                    "name": names.role(name, names.LABELS),
                    "opacity": 0.5,
                    "features": features,
                    "metadata": {**meta, PROBABILITIES_KEY: bundle.crf_probabilities, OUTLINE_KEY: token},
                    "colormap": class_colormap(["background", *targets]),  # the colours the job showed
                },
                "labels",
            )
        )
    return _placed(layers, bundle.manifest.get("napari"), name, 3 if bundle.frames else 2)


def _placed(layers: list[LayerData], record: Any, name: str, ndim: int = 2) -> list[LayerData]:
    """The layers where the napari writer found them (scale, translate, units, ...; the style
    image has a grid of its own) with each one's user metadata back (DESIGN.md's bundle)."""
    from napari_partial_style._napari import layer_names as names

    if not isinstance(record, dict):
        return layers  # a CLI bundle: pixels are the world
    where = _checked_place(record.get("place"), name, ndim)
    own = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
    roles = {
        names.role(name, role): role
        for role in (names.CONTENT, names.STYLE, names.STYLIZED, names.COMPOSITE, names.LABELS)
    }
    placed = []
    for data, kwargs, kind in layers:
        role = roles.get(kwargs["name"])
        extra = own.get(role) if isinstance(own.get(role), dict) else {}
        kwargs = {**kwargs, "metadata": {**extra, **kwargs["metadata"]}}
        if role != names.STYLE:
            kwargs.update(where)
        placed.append((data, kwargs, kind))
    return placed


OUTLINE_KEY = "outline_when_added"


def _outline_when_added() -> str:
    """A token for the bundle's labels layer, which the viewer opening it draws as outlines once it
    has added it, as Segment's labels are drawn: napari's add_labels takes no `contour`. Outside
    napari (no current viewer) the layer stays filled at half opacity."""
    import uuid

    from napari_partial_style._napari.layers import LABELS_CONTOUR, LABELS_OPACITY

    token = uuid.uuid4().hex
    try:
        import napari

        viewer = napari.current_viewer()
    except Exception:  # noqa: BLE001 - no viewer: nothing to draw
        return token
    if viewer is None:
        return token

    def outline(event) -> None:
        layer = event.value
        if layer.metadata.get(OUTLINE_KEY) != token:
            return
        viewer.layers.events.inserted.disconnect(outline)
        del layer.metadata[OUTLINE_KEY]
        layer.contour, layer.opacity = LABELS_CONTOUR, LABELS_OPACITY

    viewer.layers.events.inserted.connect(outline)
    return token


PLACE_KEYS = ("scale", "translate", "rotate", "shear", "affine", "units", "axis_labels")


def _checked_place(place: Any, name: str, ndim: int = 2) -> dict[str, Any]:
    """The recorded place if napari accepts it for a layer of `ndim` axes (3: a clip's); a damaged one is dropped with a
    warning (the layers then open on the pixel grid), never an error that loses the bundle."""
    import warnings

    if not isinstance(place, dict):
        return {}
    place = {key: value for key, value in place.items() if key in PLACE_KEYS}
    try:
        from napari.layers import Image

        for key in PLACE_KEYS[:5]:
            if key in place and not np.isfinite(np.asarray(place[key], dtype=float)).all():
                raise ValueError(f"{key} is not finite")
        Image(np.zeros((2,) * ndim, np.uint8), **place)
    except Exception as exc:  # noqa: BLE001 - any refusal means the record is not usable
        warnings.warn(
            f"{name}.pstyle: the layers' recorded place is damaged ({exc}); they open on the pixel grid.", stacklevel=2
        )
        return {}
    return place
