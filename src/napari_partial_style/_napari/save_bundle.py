"""The docks' "Save bundle…" button: the chosen content's job as a `.pstyle`, written by the
plugin's own writer whatever file type napari's File › Save dialog offers first (there a name
ending in `.pstyle` went to napari-svg, its default type, and failed).

A clip (a content layer with one leading frame axis) is saved whole, every layer with its frame
axis, through the writer's frame bundle (written a frame at a time, renamed into place only when
complete); a stack with more leading axes is saved as the slice the viewer shows, since a bundle
holds one image or one clip."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from magicgui.widgets import Label, PushButton

from napari_partial_style._napari import layer_names as names
from napari_partial_style._napari.layers import META_KEY, geometry, slice_index
from napari_partial_style._napari.writer import LayerData, write_bundle_layers

SAVE = "Save bundle…"
BUNDLE_FILTER = "Partial-style result bundle (*.pstyle)"


def job_layer_data(viewer, content, labels=None) -> list[LayerData]:
    """The content and the image layers named after it (`<content> stylized`, `... composite`,
    `... saliency [...]`, `... style`), with `labels` (else its `<content> labels [n]`) and the style
    image its newest stylized layer names; a clip's whole, a deeper stack's at the slice shown."""
    from napari.layers import Image, Labels

    base = names.base_name(content.name)
    ours = [layer for layer in viewer.layers if layer is not content and layer.name.startswith(base + " ")]
    images = [layer for layer in ours if isinstance(layer, Image)]
    named = [layer for layer in ours if isinstance(layer, Labels) and names.is_labels(base, layer.name)]
    chosen = [content, *images, *([labels] if labels is not None else named)]
    stylized = names.newest_version(names.role(base, names.STYLIZED), [layer.name for layer in images])
    style = None if stylized is None else viewer.layers[stylized].metadata.get(META_KEY, {}).get("style_layer")
    if style is not None and style in viewer.layers and viewer.layers[style] not in chosen:
        chosen.append(viewer.layers[style])
    if np.ndim(content.data) == (4 if content.rgb else 3):  # a clip: every layer with its frame axis
        return [layer.as_layer_data_tuple() for layer in chosen]
    return [_at_slice(viewer, layer) for layer in chosen]


def _at_slice(viewer, layer) -> LayerData:
    """napari's data tuple of `layer`, for a stack the slice shown and where that plane lies."""
    data, meta, kind = layer.as_layer_data_tuple()
    index = slice_index(viewer, layer)
    if index is None:
        return data, meta, kind
    plane = {**geometry(layer, 2), "shear": None, "units": tuple(layer.units[-2:])}
    return np.asarray(layer.data[index]), {**meta, **plane, "axis_labels": tuple(layer.axis_labels[-2:])}, kind


def save_button(viewer, job: Callable[[], tuple[Any, Any]], status: Label) -> PushButton:
    """A button that asks where and writes the bundle of `job()`'s (content layer, labels layer or
    None); what it wrote or why not goes to `status`, in one line."""
    button = PushButton(
        text=SAVE,
        tooltip="the content's job (its labels, stylized, composite, saliency and scores) as one "
        ".pstyle bundle, the file the command line writes; a clip: all its frames",
    )
    button.clicked.connect(lambda: save(viewer, job, status, button.native))
    return button


def save(viewer, job: Callable[[], tuple[Any, Any]], status: Label, parent=None) -> str | None:
    """Ask for the path (a file dialog) and write; the path written, None when nothing was."""
    from napari.utils.notifications import show_error
    from qtpy.QtWidgets import QFileDialog

    from napari_partial_style._napari.forms import in_widget_words
    from napari_partial_style.core.errors import InputError, PartialStyleError

    content, labels = job()
    try:
        if content is None:
            raise InputError("choose the content image first: a bundle holds the job of one image.")
        start = str(Path.cwd() / f"{names.base_name(content.name)}.pstyle")
        path, _ = QFileDialog.getSaveFileName(parent, "Save the job as a bundle", start, BUNDLE_FILTER)
        if not path:
            return None
        written = write_bundle_layers(path, job_layer_data(viewer, content, labels))[0]
    except (PartialStyleError, OSError) as exc:  # OSError: a folder it may not write to
        text = in_widget_words(str(exc))
        status.value = f"Save bundle failed: {text.splitlines()[0]}"
        show_error(f"Save bundle failed: {text}")
        return None
    status.value = f"Saved {written}"
    return written
