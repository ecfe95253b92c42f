"""The one pipeline: computes a document's missing or stale results, in order, yielding progress.

`compute(doc, runtime, want)` runs, of segment → stylize → composite → score, the stages up to
`want` whose results are missing or out of date (core/job/document.py says which), each a step of
the document's history. A brush stroke reruns composite and score; a style weight stylize onwards;
a new target everything. The CLI, batches, sweeps, the quick look and napari all come through here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.job import stages
from napari_partial_style.core.job.document import STAGES, JobDocument, Stamped
from napari_partial_style.core.job.result import Stopwatch
from napari_partial_style.core.job.rules import (
    JobRegion,
    combined_scores,
    guides,
    region_probability,
    regions_of,
    segmented_mask,
    source,
)
from napari_partial_style.core.job.runtime import Runtime
from napari_partial_style.core.progress import Progress

_serial = itertools.count(1)  # each computed result's own number: what comes after it depends on it


@dataclass
class StyleResult:
    """The stylized frame, the pixels it covers (where the region may be without restylizing), the
    record of how it was made, and the first region's style (the bundle's style image)."""

    image: np.ndarray
    covered: np.ndarray | None
    record: dict[str, Any]
    style: Any


@dataclass
class CompositeResult:
    """The composite, its alpha (None when read back from a bundle, which keeps none) and region."""

    image: np.ndarray
    alpha: np.ndarray | None
    mask: np.ndarray
    record: dict[str, Any]


@dataclass
class ScoreResult:
    scores: dict[str, Any]
    rescored_labels: np.ndarray | None  # None when read back from a bundle


@dataclass
class _Run:
    """One call's shared state: its clock and what its preflight resolved."""

    clock: Stopwatch = field(default_factory=Stopwatch)
    model: Any = None
    expected: list[int] = field(default_factory=list)


def plan(doc: JobDocument, want: str = "score") -> list[str]:
    """The stages this document has, up to `want`, in order: segment only without given labels,
    the rest only with a style, score only when enabled."""
    if want not in STAGES:
        raise InputError(f"unknown stage {want!r}; the stages are {', '.join(STAGES)}.")
    have = ["segment"] if doc.needs_segmentation() else []
    if doc.styles:
        have += ["stylize", "composite"] + (["score"] if doc.params.score.enabled else [])
    return [s for s in have if STAGES.index(s) <= STAGES.index(want)]


def todo(doc: JobDocument, want: str = "score") -> list[str]:
    """The stages `compute` would run: from the first missing or stale one on."""
    stages_ = plan(doc, want)
    for i, stage in enumerate(stages_):
        if not doc.is_current(stage):
            return stages_[i:]
    return []


def compute(doc: JobDocument, runtime: Runtime, want: str = "score"):
    """Bring `doc`'s results up to `want` up to date; returns the stages that ran."""
    run_stages = todo(doc, want)
    if not run_stages:
        return []
    run = _Run()
    yield from _preflight(doc, runtime, run_stages, run)
    for stage in run_stages:
        with run.clock.time(_CLOCK[stage]):
            value = yield from _RUNNERS[stage](doc, runtime, run)
        _commit(doc, stage, value)
    doc.timings.update(run.clock.timings)
    return run_stages


_CLOCK = {"segment": "segment", "stylize": "style", "composite": "composite", "score": "score"}


def _commit(doc: JobDocument, stage: str, value: Any) -> None:
    changes: dict[str, Any] = {f"results.{stage}": Stamped(value, {**doc.parts(stage), "serial": str(next(_serial))})}
    if stage == "segment":  # the new segmentation's labels replace the current ones (undo brings them back)
        changes["labels"] = value.labels
    doc.history.record(doc, stage, changes, join=stage == "segment")  # a prompt and its CRF rerun: one step
    doc.runs[stage] += 1


def _preflight(doc: JobDocument, rt: Runtime, run_stages: list[str], run: _Run):
    """What can fail fast fails before any long work: unknown classes, missing weights, an unknown
    expected class (found by classifying the style images), a region that --grow would erase."""
    from napari_partial_style.core.composite import check_region_survives
    from napari_partial_style.core.segment.classifier import required_weights
    from napari_partial_style.core.segment.style_region import AUTO
    from napari_partial_style.core.style import networks

    p = doc.params
    if doc.labels is not None and doc.segmentation is None:  # given labels: their region is checked first
        doc.region()
    if doc.prompts:
        _check_prompts(doc)
    if doc.labels is not None and "segment" not in run_stages and "composite" in run_stages:
        check_region_survives(np.logical_or.reduce([r.mask for r in job_regions(doc)]), p.composite)
    style_region = p.style.style_region if "stylize" in run_stages else None
    if style_region and style_region != AUTO:
        from napari_partial_style.core.segment.classifier import class_names
        from napari_partial_style.core.segment.targets import resolve_class

        resolve_class(style_region, class_names(p.segment.classifier))
    if "segment" in run_stages:
        stages.check_classes(p.segment)
    needed = list(networks.get(p.style.network).WEIGHTS) if "stylize" in run_stages else []
    if "segment" in run_stages or "score" in run_stages or style_region:
        needed += required_weights(p.segment.classifier)
    with run.clock.time("weights"):
        yield from rt.find_weights(needed)
    if "score" in run_stages:
        with run.clock.time("load classifier"):
            for _, mix in doc.styles:  # a blend's expected class is its first style's
                run.model, found = yield from stages.scorer(rt, p.segment, p.score.expect, mix[0][0], doc.content.shape)
                run.expected.append(found)


def _check_prompts(doc: JobDocument) -> None:
    """Prompts correct a segmentation: they lie on the content and name its targets (when known)."""
    from napari_partial_style.core.segment.prompts import check_prompts

    if not doc.needs_segmentation():
        raise InputError(
            "prompts correct a segmentation, and this job's labels are given (painted or --labels): "
            "paint the corrections into the labels, or drop the labels and segment."
        )
    seg, named = doc.segmentation, doc.params.segment.saliency.targets
    targets = seg.targets if seg is not None else named or None
    check_prompts(doc.prompts, doc.content.shape, list(targets) if targets else None)


# the region --------------------------------------------------------------------------------------
def job_regions(doc: JobDocument) -> list[JobRegion]:
    """Each style's region in the current labels (one style: the whole region)."""
    seg = doc.segmentation
    return regions_of(
        doc.styles,
        doc.labels,
        doc.content.shape,
        doc.region(),
        doc.targets() if seg is not None else None,
        doc.params.composite.label_values,
        doc.labels_name(),
    )


def _probability(doc: JobDocument, regions: list[JobRegion]) -> np.ndarray | None:
    """The CRF's probability of the regions, which the CRF soft edge needs."""
    edge = doc.params.composite.crf_edge
    if not edge:
        return None
    if doc.segmentation is None:
        raise InputError(
            f"a CRF soft edge ({edge:g} px) needs the CRF's probabilities, which a job with --labels "
            "has none of: drop --crf-edge or --labels."
        )
    return region_probability(doc.segmentation.probabilities, [v for r in regions for v in r.values])


# the stages ------------------------------------------------------------------------------------
def _segment(doc: JobDocument, rt: Runtime, run: _Run):
    """The segmentation; when only the prompts or the CRF's settings changed, the CRF alone reruns
    on the saliency maps the document holds (no network runs: a prompt's update takes a fraction of
    a second), giving what a full segmentation with them gives."""
    old, crf = doc.segmentation, doc.params.segment.crf
    if _crf_only(doc):
        new = yield from stages.recrf(rt, doc.content, old.maps, old.targets, crf, doc.prompts, old.work_maps)
        seg = replace(old, labels=new.labels, probabilities=new.probabilities, work_maps=new.work_maps)
    else:
        seg = yield from stages.segment(rt, doc.content, doc.params.segment, doc.prompts)
    segmented_mask(seg.labels, seg.targets, doc.params.composite)  # no region at all is refused now
    return seg


def _crf_only(doc: JobDocument) -> bool:
    """Whether the document's segmentation has maps made from what its saliency would be made from now."""
    stamped = doc.results.get("segment")
    if stamped is None or not stamped.value.maps.size:
        return False
    now = doc.parts("segment")
    return all(stamped.parts.get(key) == now[key] for key in ("content", "session", "saliency"))


def _stylize(doc: JobDocument, rt: Runtime, run: _Run):
    from napari_partial_style.core.composite import check_region_survives

    regions = job_regions(doc)
    check_region_survives(np.logical_or.reduce([r.mask for r in regions]), doc.params.composite)  # a new segmentation's
    _probability(doc, regions)  # a CRF soft edge without a segmentation fails now, not after the style transfer
    seg = doc.segmentation
    shaped = guides(
        regions, None if seg is None else seg.probabilities, doc.params.composite.crf_edge, doc.params.style.method
    )
    stylized = yield from stages.stylize(rt, doc.content, shaped, doc.params.style, doc.params.segment)
    mask = np.logical_or.reduce([r.mask for r in regions])
    record = {
        "levels": stylized.levels,
        "boxes": [list(b) for b in stylized.boxes],
        "regions": [r.name for r in regions],
        "style_regions": stylized.style_regions,
    }
    return StyleResult(stylized.image, covered_area(stylized.image, doc.content.native, mask), record, regions[0].style)


def covered_area(stylized: np.ndarray, content: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The region and every pixel the style transfer changed: labels may grow there without a new
    style transfer; beyond it, the stylized image is the content's own pixels."""
    h, w = mask.shape
    a, b = stylized.reshape(h, w, -1), content.reshape(h, w, -1)
    if a.shape != b.shape:
        return np.ones((h, w), bool)
    return mask | (a != b).any(axis=2)


def _composite(doc: JobDocument, rt: Runtime, run: _Run):
    from napari_partial_style.core.composite import changed_outside, seam_score

    regions = job_regions(doc)
    mask = np.logical_or.reduce([r.mask for r in regions])
    probability = _probability(doc, regions)
    stylized = doc.results["stylize"].value.image
    yield Progress("composite", 0, 1)
    image, alpha = yield from stages.compositing(doc.content, stylized, mask, doc.params.composite, probability)
    yield Progress("composite", 1, 1)
    record = {
        "seam_score": round(seam_score(image, mask), 4),
        "seam_score_original": round(seam_score(doc.content.native, mask), 4),
        "changed_outside_alpha": changed_outside(doc.content.native, image, alpha),
    }
    return CompositeResult(image, alpha, mask, record)


def _score(doc: JobDocument, rt: Runtime, run: _Run):
    """Each region scored against its style's class (combined as `combined_scores` says), and the
    first one's re-segmentation."""
    regions = job_regions(doc)
    composite = source(doc.results["composite"].value.image, "composite")
    targets = doc.targets() if doc.segmentation is not None else ()
    each = []
    for region, klass in zip(regions, run.expected):
        each.append(
            (yield from stages.score(rt, run.model, klass, composite, region.mask, doc.params.segment, targets))
        )
    rescored = [scores.pop("rescored_labels") for scores in each][0]
    return ScoreResult(combined_scores(regions, each), rescored)


_RUNNERS = {"segment": _segment, "stylize": _stylize, "composite": _composite, "score": _score}
