"""napari writer: the layers of one job saved as a `.pstyle` bundle, through the core's atomic write.

Any selection is accepted (all of a job's layers, several labels layers, unrelated layers): the job's
layers are found by the names the plugin gives them (DESIGN.md's contract), and the rest is ignored.
Errors are raised as BundleError, not ValueError: npe2 reads a ValueError from a writer as "this
writer does not apply", and napari would then say "No data written" instead of our message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from napari_partial_style._napari import layer_names as names
from napari_partial_style._napari.layers import PROBABILITIES_KEY
from napari_partial_style._napari.settings import prefer_our_reader

LayerData = tuple[Any, dict, str]


def write_bundle_layers(path: str, layer_data: list[LayerData]) -> list[str]:
    """Write the job whose content is among `layer_data` as a bundle at `path`."""
    from napari_partial_style.core.io.bundle import Bundle, check_target, write_bundle
    from napari_partial_style.core.errors import BundleError, InputError

    prefer_our_reader()
    target = Path(path)
    if target.suffix != ".pstyle":
        target = target.with_name(target.name + ".pstyle")
    try:
        job = JobLayers(layer_data)
        bundle = Bundle(manifest=job.manifest(), content=job.content, labels=job.labels, saliency=job.saliency,
                        crf_probabilities=job.probabilities, scores=job.scores, **job.images)
        check_target(target, overwrite=True)
        return [str(write_bundle(bundle, target, overwrite=True))]
    except InputError as exc:
        raise BundleError(str(exc)) from exc


def _meta(layer_meta: dict) -> dict:
    return (layer_meta.get("metadata") or {}).get("partial_style") or {}


class JobLayers:
    """The layers of one job picked out of a selection by name."""

    def __init__(self, layer_data: list[LayerData]) -> None:
        from napari_partial_style.core.errors import InputError

        images = {meta.get("name", ""): (data, meta) for data, meta, kind in layer_data if kind == "image"}
        labels = [(data, meta) for data, meta, kind in layer_data if kind == "labels"]
        content = self._content_name(images, labels)
        if content is None:
            selected = ", ".join(images) or "none"
            raise InputError(f"select the content image layer too (image layers selected: {selected}); a bundle "
                             "needs the image the job started from.")
        base = names.base_name(content)
        self.content = np.asarray(images[content][0])
        self.metas = {"content": _meta(images[content][1])}
        self.images: dict[str, np.ndarray] = {}
        for role in names.ROLES:
            newest = names.newest_version(names.role(base, role), images)  # `stylized [n]`: the latest run
            if newest is not None:
                data, meta = images[newest]
                self.images[role] = np.asarray(data)
                self.metas[role] = _meta(meta)
        saliency = [(names.saliency_target(base, name), data, meta) for name, (data, meta) in images.items()
                    if names.saliency_target(base, name) is not None]
        self.targets = [target for target, _, _ in saliency]
        self.saliency = np.stack([np.asarray(d, dtype=np.float32) for _, d, _ in saliency]) if saliency else None
        if saliency:
            self.metas.setdefault("segment", _meta(saliency[0][2]))
        self.labels = self.probabilities = None
        ours = [(d, m) for d, m in labels if names.is_labels(base, m.get("name", ""))]
        chosen = ours[-1] if ours else (labels[0] if len(labels) == 1 else None)  # the newest of the job's
        if chosen is not None:
            self.labels = np.asarray(chosen[0])
            self.probabilities = (chosen[1].get("metadata") or {}).get(PROBABILITIES_KEY)
            self.metas["segment"] = _meta(chosen[1]) or self.metas.get("segment", {})
            features = chosen[1].get("features")
            classes = list(features["class"])[1:] if features is not None and "class" in features else []
            self.targets = self.targets or classes
        self.scores = self.metas.get("composite", {}).get("scores")

    @staticmethod
    def _content_name(images: dict[str, tuple], labels: list[tuple]) -> str | None:
        """The image layer the others are named after; with several candidates, the one with most
        of the job's layers selected beside it."""
        candidates = [name for name in images if not names.is_derived(name)]
        others = list(images) + [meta.get("name", "") for _, meta in labels]

        def followers(name: str) -> int:
            base = names.base_name(name)
            return sum(other != name and other.startswith(base + " ") for other in others)

        return max(candidates, key=followers) if candidates else None

    def manifest(self) -> dict[str, Any]:
        """What was done, as far as the layers tell: a reopened bundle's manifest, updated with
        the parameters, targets and scores of the stages run since in napari."""
        reopened = next((m for m in self.metas.values() if "format" in m), {})
        manifest = {k: v for k, v in reopened.items() if k not in ("files", "format", "version", "written_by")}
        parameters = dict(manifest.get("parameters", {}))
        segment = self.metas.get("segment", {})
        if segment.get("stage") == "segment":
            parameters["segment"] = segment["parameters"]
            manifest.update({k: segment[k] for k in ("class_scores", "classifier_classes", "size", "device")
                             if k in segment})
        stylized = self.metas.get("stylized", {})
        if stylized.get("stage") == "stylize":
            parameters.update(stylized["parameters"])
        composite = self.metas.get("composite", {})
        if composite.get("stage") == "composite":
            parameters["composite"] = composite["parameters"]
        parameters["score"] = {**parameters.get("score", {}), "enabled": self.scores is not None}
        manifest.update(parameters=parameters, targets=self.targets or manifest.get("targets") or ["target"],
                        written_by="napari writer")
        if self.scores is not None:
            manifest["scores"] = self.scores
        return manifest
