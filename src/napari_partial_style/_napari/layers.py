"""Layers in and out: the current 2D slice of an input, outputs named by the DESIGN.md contract."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from napari_partial_style._napari import layer_names as names
from napari_partial_style._napari.layer_names import numbered
from napari_partial_style.core.params import SegmentParams

META_KEY = "partial_style"
# The CRF's marginals (K+1, H, W) beside a labels layer, for the composite's CRF soft edge; kept out of
# META_KEY, which is JSON for the manifest.
PROBABILITIES_KEY = "crf_probabilities"
# The style image (native pixels) beside a stylized layer, so a bundle saved from napari carries it
# whatever the style layer is called or whether it is selected.
STYLE_IMAGE_KEY = "style_image"
# How a saliency map is shown, wherever it comes from (Segment, Run all, a reopened bundle): hidden,
# since over the photo it hides the labels; tick it to look.
SALIENCY_LOOK = {
    "colormap": "inferno",
    "contrast_limits": (0.0, 1.0),
    "blending": "translucent",
    "opacity": 0.6,
    "visible": False,
}
COVERED_KEY = "stylized_area"  # beside a stylized layer: where it may differ from the content
# Segment's labels drawn as outlines: filled at half opacity, a red class vanished on a red cup.
# Outlines read on any photo; napari's layer controls set `contour` to 0 for filled labels to paint.
# (A reader cannot set `contour`: napari's add_labels does not take it, so bundles open filled.)
LABELS_CONTOUR, LABELS_OPACITY = 2, 0.9
CREATE_ONLY = {"rgb"}


def _leading(layer) -> tuple[int, ...]:
    """The stack axes of a layer's data: all but the image plane (and an RGB layer's channels)."""
    shape = np.shape(layer.data)
    spatial = 3 if getattr(layer, "rgb", False) else 2
    return tuple(shape[: max(0, len(shape) - spatial)])


def slice_index(viewer, layer) -> tuple[int, ...] | None:
    """The index of the viewer's current 2D slice in `layer`'s stack; None when it is not a stack."""
    leading = _leading(layer)
    if not leading:
        return None
    ndim = len(leading) + (3 if getattr(layer, "rgb", False) else 2)
    step = viewer.dims.current_step[-ndim:][: len(leading)] if viewer is not None else (0,) * len(leading)
    return tuple(min(int(s), n - 1) for s, n in zip(step, leading))


def current_slice(viewer, layer) -> tuple[np.ndarray, bool]:
    """The 2D (RGB or grayscale) image of `layer` at the viewer's current position, and whether
    that was a slice of a larger stack."""
    index = slice_index(viewer, layer)
    if index is None:
        return np.asarray(layer.data), False
    return np.asarray(layer.data[index]), True


def slice_text(index: tuple[int, ...] | None) -> str:
    """ " (slice 3)" as napari's slider numbers it, for a status line; "" when not a slice of a stack."""
    return "" if index is None else f" (slice {', '.join(map(str, index))})"


def into_stack(
    viewer,
    like,
    index: tuple[int, ...] | None,
    plane: np.ndarray,
    previous: str | None,
    content_elsewhere: bool = False,
) -> np.ndarray:
    """A result of one slice (`index`) of the stack `like` as a stack of its shape, so napari shows
    it on that slice only: the other slices come from the layer `previous` when it is such a stack
    (an earlier result: results of single slices add up), else from the content itself
    (`content_elsewhere`, for images: unchanged slices) or zeros. Not a stack: `plane` as it is."""
    if index is None:
        return plane
    shape = (*_leading(like), *plane.shape)
    old = viewer.layers[previous].data if previous is not None and previous in viewer.layers else None
    if old is not None and np.shape(old) == shape and np.asarray(old).dtype == plane.dtype:
        stack = np.array(old, copy=True)
    elif content_elsewhere:
        data = np.asarray(like.data)
        if data.ndim < len(shape):  # a grayscale stack under an RGB result
            data = np.repeat(data[..., None], shape[-1], axis=-1)
        stack = data.astype(plane.dtype, copy=True)
    else:
        stack = np.zeros(shape, plane.dtype)
    stack[index] = plane
    return stack


def planes(layer) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """Every 2D (RGB or grayscale) plane of a stack, in order, and the stack's leading shape."""
    data = np.asarray(layer.data)
    spatial = 3 if getattr(layer, "rgb", False) else 2
    leading = data.shape[: max(0, data.ndim - spatial)]
    flat = data.reshape(-1, *data.shape[len(leading) :])
    return leading, [flat[i] for i in range(len(flat))]


_RESERVED: dict[int, set[str]] = {}  # per viewer: the output names of jobs still running


def _viewer_key(viewer) -> int:
    """One key per viewer: napari hands each plugin widget its own proxy of the same viewer."""
    return id(getattr(viewer, "__wrapped__", viewer))


def reserve_version(viewer, first: str) -> str:
    """The next free `first`, `first [2]`, ... among the viewer's layers and the names running jobs
    hold, held until `release`: two jobs started together write two layers, not one over the other."""
    from napari_partial_style._napari.layer_names import next_version

    held = _RESERVED.setdefault(_viewer_key(viewer), set())
    name = next_version(first, {lyr.name for lyr in viewer.layers} | held)
    held.add(name)
    return name


def release(viewer, name: str) -> None:
    """The job that reserved `name` has ended (its layer exists now, or it never will)."""
    held = _RESERVED.get(_viewer_key(viewer), set())
    held.discard(name)
    if not held:
        _RESERVED.pop(_viewer_key(viewer), None)


def geometry(layer, ndim: int = 2) -> dict[str, Any]:
    """Scale, translate, rotation and affine of the last `ndim` axes (the image plane, or the whole
    stack), so outputs sit on their input."""
    ndim = min(ndim, layer.ndim)
    return {
        "scale": tuple(layer.scale[-ndim:]),
        "translate": tuple(layer.translate[-ndim:]),
        "rotate": np.asarray(layer.rotate)[-ndim:, -ndim:],
        "affine": np.asarray(layer.affine.affine_matrix)[-ndim - 1 :, -ndim - 1 :],
    }


PLACEMENT = ("scale", "translate", "rotate", "affine")  # what `geometry` gives


def over(like, shape: tuple[int, int]) -> dict[str, Any]:
    """The geometry that lays an image of `shape` (rows, columns) exactly over `like`'s image plane,
    each of its pixels on the block of `like`'s pixels it was resized from, edges on edges: a
    preview shown at its working size (a 24 Mpx one cost napari 0.3-0.6 s of texture upload each)."""
    placed = geometry(like)
    plane = np.shape(like.data)[-3:-1] if getattr(like, "rgb", False) else np.shape(like.data)[-2:]
    factor = np.asarray(plane, float) / np.asarray(shape, float)
    scale = np.asarray(placed["scale"], float)
    # pixel i's centre lies at (i + 0.5) * factor - 0.5 of `like`'s pixels: scaled and rotated as they are
    shift = np.asarray(placed["rotate"], float) @ (scale * (factor - 1.0) / 2.0)
    return {**placed, "scale": tuple(scale * factor), "translate": tuple(np.asarray(placed["translate"]) + shift)}


def _place(layer, placed: dict[str, Any]) -> None:
    """Set each of `placed` that differs from the layer's own (napari refreshes the layer at each)."""
    for key, value in placed.items():
        now = layer.affine.affine_matrix if key == "affine" else getattr(layer, key)
        if np.shape(now) != np.shape(value) or not np.allclose(now, value):
            setattr(layer, key, value)


def checksum(array: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(array).tobytes(), digest_size=16).hexdigest()


def was_painted(layer) -> bool:
    """True when a Labels layer's data is no longer what the plugin wrote into it."""
    written = layer.metadata.get(META_KEY, {}).get("written_checksum")
    return written is None or written != checksum(np.asarray(layer.data))


def put_image(
    viewer,
    name: str,
    data: np.ndarray,
    like,
    metadata: dict | None = None,
    beside: dict[str, Any] | None = None,
    **kwargs: Any,
):
    """Update the image layer called `name` in place (the plugin's own output: replaced whole when a
    stack result follows a single-slice one), or add it; returns the layer. It lies on `like` (None:
    an output of its own), where the kwargs of PLACEMENT (a preview's, `over`) do not say otherwise.
    `beside`: arrays kept in the layer's metadata next to the JSON record (META_KEY)."""
    meta = {META_KEY: metadata or {}, **(beside or {})}
    from napari.layers import Image

    spatial = data.ndim - (1 if kwargs.get("rgb") else 0)
    placed = geometry(like, spatial) if like is not None else {}
    placed.update({key: kwargs.pop(key) for key in PLACEMENT if key in kwargs})
    if name in viewer.layers and isinstance(viewer.layers[name], Image) and viewer.layers[name].ndim != spatial:
        viewer.layers.remove(name)
    if name in viewer.layers and isinstance(viewer.layers[name], Image):
        layer = viewer.layers[name]
        layer.metadata.update(meta)  # first: whoever the data event wakes sees what the data now is
        layer.data = data
        _place(layer, placed)  # a result where its preview lay at a smaller size
        for key, value in kwargs.items():
            if key not in CREATE_ONLY:
                setattr(layer, key, value)
    else:
        layer = viewer.add_image(data, name=name, metadata=meta, **placed, **kwargs)
    labels_on_top(viewer, like)
    uncover(viewer, like, (metadata or {}).get("style_layer"))
    return layer


OPAQUE_RESULTS = (names.STYLIZED, names.COMPOSITE, names.QUICK_LOOK)


def _is_result_of(base: str, name: str) -> bool:
    """`<base> stylized [n]`, `<base> composite`, `<base> quick look` (a reopened bundle's content,
    `<base> content`, stylized in napari gives `<base> content stylized`)."""
    return any(
        names.is_version(names.role(prefix, kind), name)
        for prefix in (base, names.role(base, names.CONTENT))
        for kind in OPAQUE_RESULTS
    )


def labels_on_top(viewer, like) -> None:
    """The labels of `like`'s job above its opaque results, newest on top: under them, correcting
    the labels was blind; drawn as outlines over them, they hide little of the results."""
    from napari.layers import Labels

    if like is None:
        return
    base, layers = names.base_name(like.name), viewer.layers
    labels = [layer for layer in layers if isinstance(layer, Labels) and names.is_labels(base, layer.name)]
    for layer in reversed(labels):
        results = [i for i, other in enumerate(layers) if _is_result_of(base, other.name)]
        index = layers.index(layer)
        if results and index < max(results):
            layers.move(index, max(results) + 1)


def uncover(viewer, like, style_name: str | None) -> None:
    """The style image a job used, hidden when it lies over its content: opened after the photo,
    it covered the photo (napari draws the newest layer on top); its eye shows it again."""
    if like is None or style_name is None or style_name not in viewer.layers or like not in viewer.layers:
        return
    style = viewer.layers[style_name]
    if style is not like and style.visible and viewer.layers.index(style) > viewer.layers.index(like):
        style.visible = False


PREVIEW_KEY = "preview_step"  # in META_KEY while a layer holds a running job's preview, not its result


def is_preview(layer) -> bool:
    return PREVIEW_KEY in layer.metadata.get(META_KEY, {})


def put_labels(
    viewer,
    name: str,
    labels: np.ndarray,
    classes: list[str],
    like,
    metadata: dict | None = None,
    probabilities: np.ndarray | None = None,
    visible: bool = True,
) -> tuple[Any, bool]:
    """Write labels into the first of `name`, `name [2]`, ... that the user has not painted,
    or into a new layer after them, in the classes' stable colours (set with the data: one redraw).
    A new layer is added hidden, for the caller to show in a later event-loop turn: napari builds a
    labels layer's visuals (150-210 ms on software OpenGL) when it is added, and computes its
    contours and draws it (another 60-130 ms) when it is shown. An existing layer is left shown as
    `visible` says. Returns the layer and whether it is not `name` itself."""
    from napari.layers import Labels

    from napari_partial_style._napari.stable_colors import class_colormap

    meta = {META_KEY: {**(metadata or {}), "written_checksum": checksum(labels)}, PROBABILITIES_KEY: probabilities}
    features = {"class": ["background", *classes]}
    colormap = class_colormap(["background", *classes])
    candidate, n = name, 2
    while candidate in viewer.layers:
        layer = viewer.layers[candidate]
        if isinstance(layer, Labels) and not was_painted(layer) and layer.ndim == labels.ndim:
            resized = layer.data.shape != labels.shape
            # hidden while it changes: napari redraws a visible layer (its contours: 50 ms a megapixel)
            # for every property set, and once as it is shown again
            layer.visible = False
            layer.colormap = colormap
            layer.data = labels
            layer.metadata.update(meta)
            layer.features = features
            layer.visible = visible
            if resized and visible:
                layer.refresh()  # its extent, which napari leaves as it was while the layer is hidden
            labels_on_top(viewer, like)
            return layer, candidate != name
        candidate, n = numbered(name, n), n + 1
    layer = viewer.add_labels(
        labels,
        name=candidate,
        metadata=meta,
        features=features,
        opacity=LABELS_OPACITY,
        colormap=colormap,
        visible=False,
        **geometry(like, labels.ndim),
    )
    layer.contour = LABELS_CONTOUR
    labels_on_top(viewer, like)
    return layer, candidate != name


def recorded_segment_params(labels_layer) -> SegmentParams:
    """The segmentation settings that made a labels layer: from the Segment widget's metadata or a
    reopened bundle's manifest; the defaults for labels painted from scratch."""
    from napari_partial_style.core.options import from_dict

    meta = labels_layer.metadata.get(META_KEY, {})
    if meta.get("stage") == "segment":
        return from_dict(SegmentParams, meta.get("parameters", {}))
    return from_dict(SegmentParams, meta.get("parameters", {}).get("segment", {}))
