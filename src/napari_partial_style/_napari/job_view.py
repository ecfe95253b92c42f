"""napari's view of job documents: one document per content layer, its inputs read from the layers
the dock names, its results shown as the contract's layers, its stale marks and history in words.

The document and the pipeline (core/job) hold every job rule; this module only moves arrays
between layers and the document.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from napari_partial_style._napari import layer_names as names
from napari_partial_style._napari.common import source_image
from napari_partial_style._napari.layers import (
    COVERED_KEY,
    SALIENCY_LOOK,
    STYLE_IMAGE_KEY,
    current_slice,
    put_image,
    put_labels,
)
from napari_partial_style.core.job.document import JobDocument
from napari_partial_style.core.job.fingerprint import of_image, same_memory
from napari_partial_style.core.params import JobParams


@dataclass
class JobView:
    """A document bound to its content layer, and the labels layer that shows (and edits) its labels."""

    document: JobDocument
    content: Any
    labels: Any = None


_views: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
KEEP = object()  # `edit`'s style or labels left as the document has them


_locks: dict[int, threading.Lock] = {}


def computed(
    doc: JobDocument,
    job_session,
    want: str = "score",
    compact: bool = True,
    first: Callable[[JobDocument], None] | None = None,
    then: Callable[[JobDocument], Any] | None = None,
    **options,
):
    """`job_session.compute(doc, want, ...)` for a dock's worker: one job at a time per document, with
    the settings the job was prepared with (captured now, on the GUI thread: another dock, with its
    own session settings, may set its own before this job starts). `first(doc)` runs as the job
    takes the document, and `then(doc)`, read before the next job may change it (two docks' jobs at
    once), is what it returns; without, the stages that ran. Without `compact` (a prompt's update, whose time is the click's latency: compressing
    what it replaced cost 0.2 s at 1 Mpx), the history is compressed by the next other job, or as
    its bound is reached."""
    params = doc.params
    lock = _locks.setdefault(id(doc), threading.Lock())

    def run():
        with lock:
            doc.set_params(params)
            if first is not None:
                first(doc)
            if compact:  # what the dock's edits replaced, compressed here, not on the GUI thread
                doc.history.compact(doc)
            ran = yield from job_session.compute(doc, want, **options)
            return ran if then is None else then(doc)

    return run()


def busy(doc: JobDocument) -> bool:
    """Whether a job computes the document now (a step done on the spot would wait for it)."""
    lock = _locks.get(id(doc))
    return lock is not None and lock.locked()


def view_of(content_layer) -> JobView | None:
    return _views.get(content_layer)


def edit(viewer, content_layer, values: dict, *, style=KEEP, labels_layer=KEEP, resegment: bool = False) -> JobView:
    """The content layer's document brought up to a dock's inputs, each change one step of its
    history: `values` (a form's options, {path: value}) over its parameters, a new `style` (one
    image, a blend or a mapping), the labels of `labels_layer` as painted (None: the whole frame);
    `resegment` drops the segmentation and its labels. Every dock and Run all edit the same
    document, so a result one made is current for the others. A new content image starts a new
    document (a reopened bundle's, when the layer is its content unchanged)."""
    from napari_partial_style.core.options import build, flatten

    content = source_image(viewer, content_layer, "a content image")
    view = _views.get(content_layer)
    held = None if view is None else view.document.content
    if held is None or not (same_memory(held, content) or of_image(held) == of_image(content)):
        params = build(JobParams, values)
        doc = None if resegment else _reopened(content_layer, content, params)
        if doc is None:
            doc = JobDocument.of(content, None, params, None, {"content": content_layer.name})
        view = _views[content_layer] = JobView(doc, content_layer)
    doc = view.document
    doc.content = content  # the same pixels in the layer's own memory: the next edit needs no hashing
    doc.set_params(build(JobParams, {**flatten(doc.params), **values}))
    if style is not KEEP:
        doc.set_style(style)
    if resegment:
        doc.discard("segment", "segment again")
    elif labels_layer is not KEEP:
        _edit_labels(viewer, view, labels_layer)
    return view


def _edit_labels(viewer, view: JobView, labels_layer) -> None:
    """The labels as the layer holds them now (its current slice), or the whole frame without one."""
    doc = view.document
    if labels_layer is None:
        doc.edit_labels(np.ones(doc.content.shape, np.uint8), "the whole frame")
        doc.inputs.pop("labels", None)
        return
    doc.edit_labels(np.asarray(current_slice(viewer, labels_layer)[0]).copy())
    if labels_layer is not view.labels and doc.segmentation is None:
        doc.inputs["labels"] = labels_layer.name
    view.labels = labels_layer


def bind(viewer, content_layer, style_layer, labels_layer, params: JobParams, resegment: bool) -> JobView:
    """Run all's document: the dock's content, style, labels (unless `resegment`) and settings."""
    from napari_partial_style.core.options import flatten

    style = source_image(viewer, style_layer, "a style image")
    labels = KEEP if labels_layer is None else labels_layer
    view = edit(viewer, content_layer, flatten(params), style=style, labels_layer=labels, resegment=resegment)
    view.document.inputs["style"] = style_layer.name
    return view


def _reopened(content_layer, content, params: JobParams) -> JobDocument | None:
    """The document of a reopened bundle, its results current, when the layer is its content
    unchanged and the session is the bundle's; else None (a new document)."""
    from napari_partial_style.core.errors import PartialStyleError
    from napari_partial_style.core.job.replay import restored

    path = content_layer.metadata.get("bundle")
    if not path:
        return None
    try:
        doc = restored(path)
    except (PartialStyleError, OSError):  # moved, changed or unreadable since it was opened: start afresh
        return None
    if of_image(doc.content) != of_image(content) or doc.params.session != params.session:
        return None
    return doc


def recorded_params(layer) -> JobParams | None:
    """The parameters a reopened bundle's content layer records, for the dock to show."""
    from napari_partial_style.core.options import from_dict

    record = layer.metadata.get("partial_style", {}) if layer is not None and layer.metadata.get("bundle") else {}
    parameters = record.get("parameters") if isinstance(record, dict) else None
    return from_dict(JobParams, parameters) if isinstance(parameters, dict) else None


def show(viewer, view: JobView, ran: list[str]) -> Iterator[None]:
    """The results of the stages that `ran` as layers, one per event-loop turn (napari takes 0.1-0.2
    s to make each); a painted labels layer is kept and the new labels go beside it."""
    doc, layer = view.document, view.content
    base = names.base_name(layer.name)
    record = {"parameters": asdict(doc.params), "targets": doc.targets()}
    seg = doc.segmentation
    if "segment" in ran and seg is not None:
        meta = {
            "stage": "segment",
            "parameters": asdict(doc.params.segment),
            "targets": seg.targets,
            "classifier_classes": seg.classes,
            "class_scores": seg.class_scores(),
        }
        for i, target in enumerate(seg.targets):
            put_image(
                viewer,
                names.saliency(base, target),
                seg.maps[i],
                layer,
                meta,
                **SALIENCY_LOOK,
            )
            yield
        view.labels, _ = put_labels(
            viewer, names.role(base, names.LABELS), doc.labels, seg.targets, layer, meta, seg.probabilities
        )
        yield
        view.labels.visible = True
    results = {stage: stamped.value for stage, stamped in doc.results.items()}
    if "stylize" in ran:
        meta = {"stage": "stylize", **record, "style_layer": doc.inputs.get("style")}
        stylized = results["stylize"]
        beside = {
            STYLE_IMAGE_KEY: None if stylized.style is None else stylized.style.native,
            COVERED_KEY: stylized.covered,
        }
        put_image(viewer, names.role(base, names.STYLIZED), stylized.image, layer, meta, beside, rgb=True)
        yield
    if "composite" in ran:
        meta = {"stage": "composite", "parameters": asdict(doc.params.composite)}
        put_image(viewer, names.role(base, names.COMPOSITE), results["composite"].image, layer, meta, rgb=True)
        yield
    if "score" in ran:
        score = results["score"]
        classes = list(score.scores.get("class_set", [])) or [str(score.scores["expected_class"])]
        viewer.layers[names.role(base, names.COMPOSITE)].metadata.setdefault("partial_style", {})["scores"] = (
            score.scores
        )
        put_labels(
            viewer,
            names.role(base, names.RESEGMENTED),
            score.rescored_labels,
            classes,
            layer,
            {"stage": "score", "scores": score.scores},
            visible=False,
        )
        yield


def show_all(viewer, view: JobView) -> Iterator[None]:
    """Every result the document holds now (after an undo or redo), the labels written into the
    layer that shows them."""
    if view.labels is not None and view.labels in viewer.layers and view.document.labels is not None:
        view.labels.data = np.asarray(view.document.labels)
    yield from show(viewer, view, [s for s in view.document.results if s != "segment"])


def stale_text(doc: JobDocument) -> str:
    """'out of date: composite (labels changed); score (...)', or '' when every result is current."""
    stale = doc.stale()
    return "out of date: " + "; ".join(f"{stage} ({why})" for stage, why in stale.items()) if stale else ""


def view_named(name: str, content: np.ndarray | None = None) -> JobView | None:
    """The document of the content layer called `name` whose content is `content` (the writer gets
    layer data, not layers; a closed viewer's layer of the same name may live on a while): the newest."""
    found = [
        view
        for layer, view in list(_views.items())
        if layer.name == name
        and (
            content is None
            or (
                view.document.content.native.shape == np.shape(content)
                and np.array_equal(view.document.content.native, content)
            )
        )
    ]
    return found[-1] if found else None
