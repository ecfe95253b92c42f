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
from napari_partial_style._napari.layers import COVERED_KEY, META_KEY, PROBABILITIES_KEY, STYLE_IMAGE_KEY
from napari_partial_style._napari.settings import prefer_our_reader

LayerData = tuple[Any, dict, str]
NAPARI = "napari"  # the manifest's record of where the layers sat and the user's own metadata
PLACE = ("scale", "translate", "rotate", "shear", "affine", "units", "axis_labels")
OURS = {META_KEY, PROBABILITIES_KEY, STYLE_IMAGE_KEY, COVERED_KEY, "bundle", "outline_when_added"}  # not the user's


def write_bundle_layers(path: str, layer_data: list[LayerData]) -> list[str]:
    """Write the job whose content is among `layer_data` as a bundle at `path`."""
    from napari_partial_style.core.errors import BundleError, InputError
    from napari_partial_style.core.io.bundle import Bundle, check_target, write_bundle

    prefer_our_reader()
    target = Path(path)
    if target.suffix != ".pstyle":
        target = target.with_name(target.name + ".pstyle")
    try:
        job = JobLayers(layer_data)
        manifest = job.manifest()
        stale = stale_results(job.content_name, job.content)
        if stale:
            manifest["stale"] = stale
        bundle = Bundle(
            manifest=manifest,
            content=job.content,
            labels=job.labels,
            saliency=job.saliency,
            crf_probabilities=None if job.frames else job.probabilities,
            scores=job.scores,
            preview=None if job.frames else job.preview(),
            frames=job.frames,
            **job.images,
        )
        check_target(target, overwrite=True)
        written = [str(write_bundle(bundle, target, overwrite=True))]
    except InputError as exc:
        raise BundleError(str(exc)) from exc
    if stale:
        from napari.utils.notifications import show_warning

        show_warning(
            f"saved {target.name}, with results out of date: "
            + "; ".join(f"{stage} ({why})" for stage, why in stale.items())
            + " (Run all brings them up to date)"
        )
    return written


def stale_results(content_name: str, content: np.ndarray | None = None) -> dict[str, str]:
    """What the document of the content layer called `content_name` (holding `content`) says is out of date."""
    from napari_partial_style._napari.job_view import view_named

    view = view_named(content_name, content)
    return {} if view is None else view.document.stale()


def _meta(layer_meta: dict) -> dict:
    return (layer_meta.get("metadata") or {}).get(META_KEY) or {}


def _plain(value: Any) -> Any:
    """`value` as JSON types (numbers, lists, strings), or TypeError when it has no such form."""
    import json

    def convert(item: Any) -> Any:
        if isinstance(item, (np.ndarray, np.generic)):
            return item.tolist()
        if isinstance(item, tuple):
            return list(item)
        if type(item).__name__ == "Unit":  # pint's units, as napari gives them
            return str(item)
        raise TypeError(f"{type(item).__name__} is not JSON")

    return json.loads(json.dumps(value, default=convert))


def place(layer_meta: dict) -> dict[str, Any]:
    """Where a layer sits in the world (scale, translate, rotation, shear, affine, units), as JSON."""
    return {key: _plain(layer_meta[key]) for key in PLACE if layer_meta.get(key) is not None}


def user_metadata(layer_meta: dict) -> tuple[dict[str, Any], list[str]]:
    """The user's own metadata keys as JSON, and the names of those with no JSON form (left out)."""
    kept, left = {}, []
    for key, value in (layer_meta.get("metadata") or {}).items():
        if key in OURS:
            continue
        try:
            kept[key] = _plain(value)
        except (TypeError, ValueError):
            left.append(str(key))
    return kept, left


class JobLayers:
    """The layers of one job picked out of a selection by name."""

    def __init__(self, layer_data: list[LayerData]) -> None:
        from napari_partial_style.core.errors import InputError

        images = {meta.get("name", ""): (data, meta) for data, meta, kind in layer_data if kind == "image"}
        labels = [(data, meta) for data, meta, kind in layer_data if kind == "labels"]
        content = self._content_name(images, labels)
        if content is None:
            selected = ", ".join(images) or "none"
            raise InputError(
                f"select the content image layer too (image layers selected: {selected}); a bundle "
                "needs the image the job started from."
            )
        base = names.base_name(content)
        self.content_name = content
        self.content = np.asarray(images[content][0])
        planes = 3 if images[content][1].get("rgb") else 2
        self.frames = self.content.shape[0] if self.content.ndim == planes + 1 else None  # a clip: one frame axis
        if self.content.ndim > planes + 1:
            raise InputError(
                f"'{content}' has {self.content.ndim - planes} axes before its planes ({self.content.shape}); a "
                "bundle holds one image or one clip (a single frame axis): save one slice's stack."
            )
        self.raw = {"content": images[content][1]}  # napari's layer state, for the place and user metadata
        self.metas = {"content": _meta(images[content][1])}
        self.images: dict[str, np.ndarray] = {}
        for role in names.ROLES:
            newest = names.newest_version(names.role(base, role), images)  # `stylized [n]`: the latest run
            if newest is not None:
                data, meta = images[newest]
                self.images[role] = np.asarray(data)
                self.metas[role], self.raw[role] = _meta(meta), meta
        if "style" not in self.images and "stylized" in self.raw:  # the style Stylize used, by any name
            chosen = self.metas["stylized"].get("style_layer")
            style = images[chosen][0] if chosen in images else self.raw["stylized"]["metadata"].get(STYLE_IMAGE_KEY)
            if style is not None:
                self.images["style"] = np.asarray(style)
        saliency = [
            (names.saliency_target(base, name), data, meta)
            for name, (data, meta) in images.items()
            if names.saliency_target(base, name) is not None
        ]
        self.targets = [target for target, _, _ in saliency]
        self.saliency = np.stack([np.asarray(d, dtype=np.float32) for _, d, _ in saliency]) if saliency else None
        if self.saliency is not None and self.frames:
            self.saliency = self.saliency.swapaxes(0, 1)  # a clip's maps: (frames, targets, H, W)
        if saliency:
            self.metas.setdefault("segment", _meta(saliency[0][2]))
        self.labels = self.probabilities = None
        ours = [(d, m) for d, m in labels if names.is_labels(base, m.get("name", ""))]
        chosen = ours[-1] if ours else (labels[0] if len(labels) == 1 else None)  # the newest of the job's
        if chosen is not None:
            self.labels = np.asarray(chosen[0])
            self.raw["labels"] = chosen[1]
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
            manifest.update(
                {k: segment[k] for k in ("class_scores", "classifier_classes", "size", "device") if k in segment}
            )
        stylized = self.metas.get("stylized", {})
        if stylized.get("stage") == "stylize":
            parameters.update(stylized["parameters"])
        composite = self.metas.get("composite", {})
        if composite.get("stage") == "composite":
            parameters["composite"] = composite["parameters"]
        parameters["score"] = {**parameters.get("score", {}), "enabled": self.scores is not None}
        manifest.update(
            parameters=parameters,
            targets=self.targets or manifest.get("targets") or ["target"],
            written_by="napari writer",
            napari=self.napari_record(),
        )
        if self.scores is not None:
            manifest["scores"] = self.scores
        return manifest

    def napari_record(self) -> dict[str, Any]:
        """The content layer's place (every layer of the job lies on it) and each layer's own metadata."""
        record: dict[str, Any] = {"place": place(self.raw["content"]), "metadata": {}}
        left_out = []
        for role, meta in self.raw.items():
            kept, left = user_metadata(meta)
            if kept:
                record["metadata"][role] = kept
            left_out += [f"{role}: {key}" for key in left]
        if left_out:
            record["metadata_left_out"] = left_out  # no JSON form (e.g. an object): named, not silently lost
        return record

    def preview(self) -> np.ndarray | None:
        """content | stylized | composite, as the CLI's bundles carry, when the three are there."""
        from napari_partial_style.core.images import as_source_image
        from napari_partial_style.core.job.result import preview_strip

        parts = [self.content, self.images.get("stylized"), self.images.get("composite")]
        if any(part is None for part in parts):
            return None
        return preview_strip(
            [as_source_image(part, name).native for part, name in zip(parts, ("content", "stylized", "composite"))]
        )
