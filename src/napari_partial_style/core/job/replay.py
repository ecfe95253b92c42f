"""Replay: recompute a bundle's job from what it recorded and say, layer by layer, how far the new
result is from the saved one.

On the machine, device, library versions, thread count and weight files that made it, a job
reproduces bit for bit, so any difference fails. Elsewhere float arithmetic differs in its last
bits and L-BFGS amplifies that, so a replay passes within TOLERANCE: images whose mean difference
is at most 1% of the range and labels that agree on at least 99% of the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from napari_partial_style.core.errors import BundleError, InputError
from napari_partial_style.core.images import as_source_image, to_float_rgb
from napari_partial_style.core.io.bundle import read_bundle
from napari_partial_style.core.job import pipeline
from napari_partial_style.core.job.document import USER_TARGET, JobDocument
from napari_partial_style.core.job.record import environment, job_result
from napari_partial_style.core.job.result import bundle_labels
from napari_partial_style.core.job.runtime import Runtime
from napari_partial_style.core.params import JobParams
from napari_partial_style.core.segment.prompts import Prompts

TOLERANCE = {"mean_difference": 0.01, "labels_agreement": 0.99}
IMAGES = ("stylized", "composite")
ENVIRONMENT = ("device", "threads", "machine", "versions", "weights_sha256")


@dataclass
class LayerDifference:
    """One layer saved and replayed: the largest and mean difference (images, in [0, 1]) or the
    share of pixels whose label differs (labels)."""

    layer: str
    largest: float
    mean: float

    def within(self, exact: bool) -> bool:
        if exact:
            return self.largest == 0
        if self.layer == "labels":
            return 1 - self.mean >= TOLERANCE["labels_agreement"]
        return self.mean <= TOLERANCE["mean_difference"]


@dataclass
class Replay:
    """The comparison: per layer, the scores side by side, and whether the environment is the
    recorded one (then the layers must be equal bit for bit)."""

    layers: list[LayerDifference]
    scores: dict[str, tuple[Any, Any]]
    changed_environment: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        return not self.changed_environment

    @property
    def matches(self) -> bool:
        return all(layer.within(self.exact) for layer in self.layers)


def document_of(path: str | Path) -> tuple[JobDocument, Any]:
    """The job a bundle recorded, as a new document, and the bundle; a bundle that does not hold
    enough to replay it is one line saying what is missing."""
    from napari_partial_style.core.options import from_dict

    bundle = read_bundle(path)
    manifest = bundle.manifest
    if "parameters" not in manifest:
        raise InputError(f"{path} records no parameters; it cannot be replayed.")
    regions = manifest.get("style", {}).get("regions", [])
    if len(regions) > 1:
        raise InputError(
            f"{path} was made with {len(regions)} style regions, and a bundle keeps the first style image "
            "only; run the command that made it again instead."
        )
    params = from_dict(JobParams, manifest["parameters"])
    given = manifest.get("labels_given", manifest.get("targets") == [USER_TARGET])
    if given:  # the bundle keeps the region the given labels' chosen values made, as label 1
        params = replace(params, composite=replace(params.composite, label_values=()))
    content = as_source_image(bundle.content, "content")
    style = None if bundle.style is None else as_source_image(bundle.style, "style")
    doc = JobDocument.of(
        content, style, params, bundle.labels if given else None, manifest.get("inputs", {}), _prompts(path, manifest)
    )
    return doc, bundle


def _prompts(path: str | Path, manifest: dict[str, Any]) -> Prompts:
    """The prompts the job's CRF obeyed (none in bundles made without)."""
    try:
        return Prompts.from_json(manifest.get("prompts", []))
    except InputError as exc:
        raise BundleError(f"{path}: the manifest's prompts are damaged ({exc})") from None


def replay(path: str | Path, weights: dict[str, str | Path] | None = None, folders=()):
    """Recompute the bundle's job (a generator of progress) and compare; returns a Replay."""
    doc, bundle = document_of(path)
    runtime = Runtime(doc.params.session, weights, folders)
    yield from pipeline.compute(doc, runtime)
    result = job_result(doc, runtime)
    layers = [
        _image_difference(name, getattr(bundle, name), getattr(result, name))
        for name in IMAGES
        if getattr(bundle, name) is not None
    ]
    if bundle.labels is not None:
        layers.append(_labels_difference(bundle.labels, bundle_labels(result)))
    if bundle.saliency is not None and result.segmentation is not None:
        layers.append(_image_difference("saliency", bundle.saliency, result.segmentation.maps))
    recorded = bundle.manifest.get("replay", {})
    now = environment(runtime)
    changed = {key: (recorded.get(key), now[key]) for key in ENVIRONMENT if recorded.get(key) != now[key]}
    saved_scores, new_scores = bundle.scores or {}, result.scores or {}
    scores = {
        key: (saved_scores.get(key), new_scores.get(key))
        for key in ("pixel_accuracy", "mean_iu")
        if key in saved_scores or key in new_scores
    }
    return Replay(layers, scores, changed)


def _image_difference(layer: str, saved: np.ndarray | None, made: np.ndarray | None) -> LayerDifference:
    maps = layer == "saliency"
    if (
        saved is None
        or made is None
        or (saved.shape if maps else saved.shape[:2]) != (made.shape if maps else made.shape[:2])
    ):
        return LayerDifference(layer, float("inf"), float("inf"))
    convert = (lambda x: np.asarray(x, np.float64)) if maps else (lambda x: to_float_rgb(x).astype(np.float64))
    diff = np.abs(convert(saved) - convert(made))
    return LayerDifference(layer, float(diff.max(initial=0.0)), float(diff.mean()) if diff.size else 0.0)


def _labels_difference(saved: np.ndarray, made: np.ndarray) -> LayerDifference:
    if saved.shape != made.shape:
        return LayerDifference("labels", float("inf"), 1.0)
    differs = saved != made
    return LayerDifference("labels", float(differs.any()), float(differs.mean()))


def restored(path: str | Path) -> JobDocument:
    """A bundle as a live document: its inputs and parameters, and its results as current, so that
    changing one setting recomputes only what depends on it (napari's reopened bundles)."""
    from napari_partial_style.core.job.document import Stamped
    from napari_partial_style.core.job.pipeline import CompositeResult, ScoreResult, StyleResult, covered_area
    from napari_partial_style.core.segment.segmentation import Segmentation

    doc, bundle = document_of(path)
    manifest = bundle.manifest

    def stamp(stage: str, value) -> None:
        doc.results[stage] = Stamped(value, {**doc.parts(stage), "serial": f"bundle {stage}"})

    if doc.labels is None and bundle.labels is not None:
        probabilities = bundle.crf_probabilities
        maps = bundle.saliency if bundle.saliency is not None else np.zeros((0, *bundle.labels.shape), np.float32)
        classes = manifest.get("classifier_classes") or []
        stamp("segment", Segmentation(maps, bundle.labels, probabilities, list(manifest["targets"]), [], None, classes))
        doc.labels = bundle.labels
    if bundle.stylized is None or doc.labels is None or not doc.styles:
        return doc
    mask = doc.region()
    stamp(
        "stylize",
        StyleResult(
            bundle.stylized,
            covered_area(bundle.stylized, doc.content.native, mask),
            manifest.get("style", {}),
            doc.styles[0][1][0][0],
        ),
    )
    if bundle.composite is None:
        return doc
    stamp("composite", CompositeResult(bundle.composite, None, mask, manifest.get("composite", {})))
    if bundle.scores is not None:
        stamp("score", ScoreResult(dict(bundle.scores), None))
    return doc
