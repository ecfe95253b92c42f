"""A document's record (the bundle's manifest) and its `JobResult`: every parameter, the targets,
timings, scores and what replaying it needs (seeds are parameters; weight checksums, library
versions, device and threads are the environment)."""

from __future__ import annotations

import platform
from dataclasses import asdict
from importlib import metadata
from typing import Any

import numpy as np

from napari_partial_style import __version__
from napari_partial_style.core.job.document import JobDocument
from napari_partial_style.core.job.result import JobResult
from napari_partial_style.core.job.runtime import Runtime

LIBRARIES = ("torch", "torchvision", "numpy", "scipy", "scikit-image", "Pillow")


def environment(rt: Runtime) -> dict[str, Any]:
    """What else a result depends on: the weight files' sha256, library versions, device, threads."""
    import torch

    from napari_partial_style.core.io.weights import sha256_of

    versions = {"napari-partial-style": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "weights_sha256": {key: sha256_of(path) for key, path in sorted(rt.found.items())},
        "versions": versions,
        "device": str(rt.device),
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
    }


def record(doc: JobDocument, rt: Runtime) -> dict[str, Any]:
    """The manifest's account of a job: enough to run it again (`napari-partial-style replay`)."""
    env = environment(rt)
    seg = doc.segmentation
    out: dict[str, Any] = {
        "parameters": asdict(doc.params),
        "device": env["device"],
        "size": rt.size_for(doc.content.shape),
        "targets": doc.targets(),
        "classifier_classes": _classes(doc, rt),
        "inputs": dict(doc.inputs),
        "labels_given": seg is None and doc.labels is not None,
        "timings_s": dict(doc.timings),
        "versions": env["versions"],
        "replay": env,
    }
    if "stylize" in doc.results:
        out["style"] = doc.results["stylize"].value.record
    if "composite" in doc.results:
        out["composite"] = doc.results["composite"].value.record
    if seg is not None:
        out["class_scores"] = seg.class_scores()
    if doc.prompts:
        out["prompts"] = doc.prompts.to_json()
    if "score" in doc.results:
        out["scores"] = doc.results["score"].value.scores
    stale = doc.stale()
    if stale:
        out["stale"] = stale
    return out


def _classes(doc: JobDocument, rt: Runtime) -> list[str] | None:
    if doc.segmentation is not None:
        return doc.segmentation.classes
    if "score" in doc.results or doc.params.style.style_region:
        from napari_partial_style.core.segment.classifier import class_names

        return class_names(doc.params.segment.classifier)
    return None


def job_result(doc: JobDocument, rt: Runtime) -> JobResult:
    """The document's results as one `JobResult` (what the CLI saves and batches report)."""
    results = {stage: stamped.value for stage, stamped in doc.results.items()}
    composite, stylized, score = results.get("composite"), results.get("stylize"), results.get("score")
    if composite is not None:
        mask = composite.mask
    elif doc.labels is not None:
        mask = doc.region()
    else:
        mask = np.zeros(doc.content.shape, bool)
    return JobResult(
        content=doc.content,
        record=record(doc, rt),
        mask=mask,
        style=None if stylized is None else stylized.style,
        alpha=None if composite is None else composite.alpha,
        stylized=None if stylized is None else stylized.image,
        composite=None if composite is None else composite.image,
        segmentation=doc.segmentation,
        labels=_labels_plane(doc),
        scores=None if score is None else score.scores,
        rescored_labels=None if score is None else score.rescored_labels,
    )


def _labels_plane(doc: JobDocument) -> np.ndarray | None:
    """A segmentation's labels as they are now (the user's corrections included): what the bundle
    keeps and a replay reads. Given labels are kept as the region they give (None here), since
    the bundle's label k means its k-th target."""
    return None if doc.segmentation is None else doc.labels
