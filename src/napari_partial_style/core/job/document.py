"""The job as one document: its inputs, its parameters, and each stage's result stamped with the
fingerprint of what it was computed from.

The CLI, batches, sweeps, the quick look and napari's Run all each make or edit a document and ask
`core/job/pipeline.py` for its results; the pipeline recomputes only what is
missing or stale. Every change (an edit of the inputs or a stage's new result) is a step of the
document's history, so whole steps can be undone and redone (core/job/history.py).
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import SourceImage
from napari_partial_style.core.job import fingerprint
from napari_partial_style.core.job.history import ABSENT, History
from napari_partial_style.core.job.rules import Mix, styles_of
from napari_partial_style.core.params import JobParams
from napari_partial_style.core.segment.prompts import Prompt, Prompts

STAGES = ("segment", "stylize", "composite", "score")
_serial = itertools.count(1)  # each result's own number: what comes after it depends on it
USER_TARGET = "target"
# How each ingredient of a stage's fingerprint is named when it changed ("out of date: labels changed").
WHAT = {
    "content": "content",
    "styles": "style images",
    "labels": "labels",
    "session": "session settings",
    "segment": "segmentation settings",
    "saliency": "saliency settings",
    "prompts": "prompts",
    "style": "style settings",
    "region": "region choice",
    "composite": "composite settings",
    "score": "score settings",
    "segmentation": "segmentation",
    "stylized": "stylized image",
    "composited": "composite",
}
# Each stage's result, named as what a later one was made from.
UPSTREAM = {
    "stylize": ("segment", "segmentation"),
    "composite": ("stylize", "stylized image"),
    "score": ("composite", "composite"),
}


@dataclass
class Stamped:
    """A stage's result and the fingerprints of the ingredients it was computed from."""

    value: Any
    parts: dict[str, str]


@dataclass
class JobDocument:
    """One job's state. `labels` are the current labels: given (painted, loaded, --labels), or the
    segmentation's, with the user's corrections applied on top."""

    content: SourceImage
    params: JobParams = field(default_factory=JobParams)
    styles: list[tuple[str, Mix]] = field(default_factory=list)
    labels: np.ndarray | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    prompts: Prompts = field(default_factory=Prompts)  # clicks and strokes the segmentation's CRF obeys
    results: dict[str, Stamped] = field(default_factory=dict)
    runs: Counter = field(default_factory=Counter)  # stage executions, for the record and tests
    history: History = field(default_factory=History)
    timings: dict[str, float] = field(default_factory=dict)

    @functools.cached_property
    def _content_key(self) -> str:
        """The content's fingerprint, made on first use: in a dock's worker (the pipeline stamps its
        results with it), not on the GUI thread as napari's dock makes the document (0.1-0.5 s at 24 Mpx)."""
        return fingerprint.of_image(self.content)

    @classmethod
    def of(
        cls,
        content: SourceImage,
        style=None,
        params: JobParams | None = None,
        labels: np.ndarray | None = None,
        inputs: dict[str, str] | None = None,
        prompts: Prompts | None = None,
    ) -> JobDocument:
        """A new document: `style` is one image, a blend or a mapping, as `api.Session.run` takes."""
        labels = None if labels is None else np.asarray(labels)
        return cls(content, params or JobParams(), styles_of(style), labels, dict(inputs or {}), prompts or Prompts())

    # inputs (each change one undoable step; the region's checks run where the region is made) ---
    def edit_labels(self, labels: np.ndarray, what: str = "label edit") -> None:
        """The user's corrected labels (a brush stroke, a fill, a prompt)."""
        labels = np.asarray(labels)
        if self.labels is not None and np.array_equal(labels, self.labels):
            return
        self.history.record(self, what, {"labels": labels})

    def add_prompt(self, prompt: Prompt) -> None:
        """One click or stroke more: one undoable step, which the CRF rerun it asks for joins."""
        self.edit_prompts(self.prompts.add(prompt), "prompt")

    def edit_prompts(self, prompts: Prompts, what: str = "prompts") -> None:
        """New prompts (napari's prompt layers, a file): the segmentation's labels become stale and
        the next `compute` reruns the CRF alone, from the saliency maps it holds."""
        if not isinstance(prompts, Prompts):
            raise InputError(f"prompts must be Prompts, not {type(prompts).__name__}.")
        if prompts != self.prompts:
            self.history.record(self, what, {"prompts": prompts}, opens=True)

    def set_params(self, params: JobParams, what: str = "settings") -> None:
        """New parameters; the results they touch become stale."""
        if params != self.params:
            self.history.record(self, what, {"params": params})

    def set_style(self, style, what: str = "style") -> None:
        """New style images: one, a blend or a mapping, as `api.Session.run` takes them (the same
        images and weights again are no step)."""
        styles = styles_of(style)
        if _styles_key(styles) != _styles_key(self.styles):
            self.history.record(self, what, {"styles": styles})

    def stamp(self, stage: str, value: Any, parts: dict[str, str] | None = None) -> Stamped:
        """`value` as `stage`'s result, made from `parts` (by default what the document holds now)."""
        return Stamped(value, {**(self.parts(stage) if parts is None else parts), "serial": str(next(_serial))})

    def use_result(self, stage: str, value: Any, what: str) -> None:
        """A result the user chose (a stylized layer of their own) in place of computing it; later
        stages are made from it, and it is current for what the document holds now."""
        self.history.record(self, what, {f"results.{stage}": self.stamp(stage, value)})

    def discard(self, stage: str, what: str) -> None:
        """Drop a result so that it is computed afresh (the segmentation's labels with it)."""
        if stage in self.results:
            changes = {f"results.{stage}": ABSENT, **({"labels": None} if stage == "segment" else {})}
            self.history.record(self, what, changes)
        elif stage == "segment" and self.labels is not None:
            self.history.record(self, what, {"labels": None})

    def undo(self) -> str | None:
        """Go back one whole step (a stage's result, a correction, new settings); its name, or None."""
        return self.history.undo(self)

    def redo(self) -> str | None:
        return self.history.redo(self)

    # what the stages see ----------------------------------------------------------------------
    @property
    def segmentation(self):
        stamped = self.results.get("segment")
        return None if stamped is None else stamped.value

    def targets(self) -> list[str]:
        """The label values' names: the segmentation's targets, else one user target."""
        seg = self.segmentation
        return list(seg.targets) if seg is not None else [USER_TARGET]

    def labels_name(self) -> str:
        return f"labels ({self.inputs['labels']})" if "labels" in self.inputs else "labels"

    def region(self) -> np.ndarray:
        """The pixels of the chosen label values (every target by default) in the current labels."""
        from napari_partial_style.core.images import target_mask
        from napari_partial_style.core.job.rules import segmented_mask

        if self.labels is None:
            raise InputError("the job has no labels yet: segment the content, or give labels.")
        seg = self.segmentation
        if seg is not None:
            return segmented_mask(self.labels, seg.targets, self.params.composite)
        return target_mask(
            self.labels, self.content.shape, self.labels_name(), self.params.composite.label_values or None
        )

    def needs_segmentation(self) -> bool:
        return self.labels is None or self.segmentation is not None

    def parts(self, stage: str) -> dict[str, str]:
        """The fingerprints of what `stage` would be computed from now."""
        p = self.params
        base = {"content": self._content_key, "session": fingerprint.of_value(p.session)}
        seg = self.results.get("segment")
        upstream = {"segmentation": fingerprint.of_value(seg.parts)} if seg is not None else {}
        if stage == "segment":
            saliency = fingerprint.of_value([p.segment.classifier, p.segment.saliency])
            prompts = {"prompts": fingerprint.of_value(self.prompts.to_json())} if self.prompts else {}
            return {**base, "segment": fingerprint.of_value(p.segment), "saliency": saliency, **prompts}
        if stage == "stylize":
            region = (p.composite.label_values, p.composite.crf_edge if p.style.method == "masked" else 0)
            parts = {
                **base,
                **upstream,
                "styles": _styles_key(self.styles),
                "style": fingerprint.of_value(p.style),
                "region": fingerprint.of_value(region),
            }
            if p.style.style_region:
                parts["segment"] = fingerprint.of_value(p.segment)
            if len(self.styles) > 1:  # a style per label value: which pixels take which style
                parts["labels"] = fingerprint.of_array(self.labels)
            return parts
        if stage == "composite":
            return {
                "stylized": self._result_key("stylize"),
                "labels": fingerprint.of_array(self.labels),
                "composite": fingerprint.of_value(p.composite),
            }
        if stage == "score":
            return {
                "composited": self._result_key("composite"),
                "segment": fingerprint.of_value(p.segment),
                "score": fingerprint.of_value(p.score),
                "styles": _styles_key(self.styles),
            }
        raise ValueError(f"unknown stage {stage!r}; the stages are {', '.join(STAGES)}")

    def _result_key(self, stage: str) -> str:
        stamped = self.results.get(stage)
        return "missing" if stamped is None else fingerprint.of_value(stamped.parts)

    # staleness --------------------------------------------------------------------------------
    def stale(self) -> dict[str, str]:
        """{stage: why it is out of date} for every result that no longer matches its inputs."""
        whys = {stage: self.why_stale(stage) for stage in self.results}
        return {stage: why for stage, why in whys.items() if why}

    def why_stale(self, stage: str) -> str:
        """'' when `stage`'s result is up to date, else what changed ('labels changed', ...)."""
        stamped = self.results.get(stage)
        if stamped is None:
            return "not computed"
        upstream, name = UPSTREAM.get(stage, (None, ""))
        if upstream in self.results and self.why_stale(upstream):
            return f"made from an out-of-date {name}"
        now, then = self.parts(stage), {k: v for k, v in stamped.parts.items() if k != "serial"}
        changed = [WHAT.get(k, k) for k in sorted(set(now) | set(then)) if now.get(k) != then.get(k)]
        if changed:
            return f"{', '.join(changed)} changed"
        if stage == "stylize":
            return self._beyond_stylized()
        return ""

    def _beyond_stylized(self) -> str:
        """Labels painted where the stylized image kept the content's pixels make it out of date there."""
        covered = self.results["stylize"].value.covered
        if covered is None or self.labels is None:
            return ""
        try:
            mask = self.region()
        except InputError:
            return ""
        beyond = int(np.count_nonzero(mask & ~covered))
        return f"labels painted beyond the stylized area ({beyond} px)" if beyond else ""

    def is_current(self, stage: str) -> bool:
        return stage in self.results and not self.why_stale(stage)


def _styles_key(styles: list[tuple[str, Mix]]) -> str:
    return fingerprint.of_value(
        [[selector, [[fingerprint.of_image(image), weight] for image, weight in mix]] for selector, mix in styles]
    )
