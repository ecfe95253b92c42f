"""napari writer: the layers of one job saved as a `.pstyle` bundle, through the core's atomic write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

SUFFIXES = {"stylized": " stylized", "composite": " composite", "style": " style"}


def write_bundle_layers(path: str, layer_data: list[tuple[Any, dict, str]]) -> list[str]:
    """Sort the layers by their names (DESIGN.md's contract) into a bundle and write it.

    The content is the image layer whose name has none of the stage suffixes; labels are the
    labels layer (a painted one included); saliency layers become the stack in their order.
    """
    from napari_partial_style.core.bundle import Bundle, check_target, write_bundle
    from napari_partial_style.core.errors import InputError

    target = Path(path)
    if target.suffix != ".pstyle":
        target = target.with_name(target.name + ".pstyle")
    images = [(data, meta) for data, meta, kind in layer_data if kind == "image"]
    labels = [(data, meta) for data, meta, kind in layer_data if kind == "labels"]
    found: dict[str, Any] = {}
    saliency, targets, content, manifest = [], [], None, {}
    for data, meta in images:
        name = meta.get("name", "")
        manifest.update((meta.get("metadata") or {}).get("partial_style", {}) or {})
        if " saliency [" in name and name.endswith("]"):
            saliency.append(np.asarray(data, dtype=np.float32))
            targets.append(name[name.index(" saliency [") + len(" saliency ["):-1])
            continue
        for key, suffix in SUFFIXES.items():
            if name.endswith(suffix):
                found[key] = np.asarray(data)
                break
        else:
            content = np.asarray(data) if content is None else content
    if content is None:
        raise InputError("select the content image layer too: a bundle needs the image the job started from.")
    label_array = None
    if labels:
        label_array = np.asarray(labels[0][0])
        label_meta = labels[0][1]
        features = label_meta.get("features")
        classes = list(features["class"])[1:] if features is not None and "class" in features else []
        targets = targets or classes
    manifest = {**manifest, "targets": targets or manifest.get("targets") or ["target"], "written_by": "napari writer"}
    manifest.pop("written_checksum", None)
    bundle = Bundle(manifest=manifest, content=content, labels=label_array,
                    saliency=np.stack(saliency) if saliency else None, **found)
    check_target(target, overwrite=True)
    return [str(write_bundle(bundle, target, overwrite=True))]
