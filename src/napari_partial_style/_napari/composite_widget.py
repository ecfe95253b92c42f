"""Composite & score: paste the stylized target region into the content, then check the result.

Compositing is cheap and runs on the spot (and on every label edit when auto-update is on), so
correcting the labels never re-runs style transfer. Scoring re-segments the composite in a worker,
with the segmentation settings recorded on the labels layer (those that made it), so napari and the
CLI score the same inputs alike; painted-from-scratch labels are scored with the defaults.
"""

from __future__ import annotations

from dataclasses import asdict

import napari
import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, Label, PushButton

from napari_partial_style._napari import layer_names as names
from napari_partial_style._napari.common import (
    CUSTOM,
    frame_word,
    keep_finished,
    layer_choices,
    layer_kind,
    over_slices,
    pick_content,
    session,
    show_defaults,
    slices_box,
    source_image,
    stack_sources,
    watch_layers,
)
from napari_partial_style._napari.forms import ParamForm
from napari_partial_style._napari.jobs import JobProgress, JobRunner
from napari_partial_style._napari.layers import (
    COVERED_KEY,
    META_KEY,
    into_stack,
    is_preview,
    put_image,
    slice_index,
    slice_text,
)
from napari_partial_style._napari.save_bundle import save_button
from napari_partial_style.core.errors import InputError
from napari_partial_style.core.params import JobParams
from napari_partial_style.core.segment.score_meaning import MEANING

AUTO_DELAY_MS = 150
INSTANT_PIXELS = 1_000_000  # composited on the GUI thread up to this: 0.12 s loaded at 1 Mpx, 3 s at 24 Mpx
COMPOSITE_PARTS = (("composite",),)
STALE = "Out of date (the composite changed; press Score):"
SCORE_PARTS = (("segment", "classifier"), ("score",), ("session",))
# napari scores with the Score button, so the CLI's --score/--no-score has no widget.
NOT_IN_NAPARI = (("score", "enabled"),)


LISTED_FRAMES = 12  # a longer clip lists its lowest-scoring frames only


def _frames_text(frames: list[dict | None], count: int, word: str) -> tuple[str, str]:
    """What a person checking a restyled clip reads first (how many frames, the mean, the worst
    frame, by the slider's numbers) and each frame's mean IU (a long clip's lowest few)."""
    from napari_partial_style.core.segment.score_meaning import verdict

    scored = [(i, f) for i, f in enumerate(frames) if f is not None]
    ious = [f["mean_iu"] for _, f in scored]
    mean_iu, accuracy = float(np.mean(ious)), float(np.mean([f["pixel_accuracy"] for _, f in scored]))
    worst, low = min(scored, key=lambda item: item[1]["mean_iu"])
    unscored = len(frames) - len(scored)
    line = (
        f"{len(scored)} of {count} {word}s scored"
        + (f" ({unscored} without a region)" if unscored else "")
        + f": the region reads as {low['expected_class']!r} with mean IU {mean_iu:.3f} on average "
        f"({verdict(mean_iu)}), pixel accuracy {accuracy:.3f}; worst {word} {worst} ({low['mean_iu']:.3f})"
    )
    if len(frames) <= LISTED_FRAMES:
        listed = [f"{i} {'—' if f is None else format(f['mean_iu'], '.2f')}" for i, f in enumerate(frames)]
        return line, f"mean IU per {word}: " + " · ".join(listed)
    lowest = sorted(scored, key=lambda item: item[1]["mean_iu"])[:5]
    listed = [f"{i} {f['mean_iu']:.2f}" for i, f in lowest]
    return line, f"lowest mean IU: {word} " + " · ".join(listed) + " (every frame's in the composite's metadata)"


def _none():
    """A stage with no steps and no result: a frame without a region is not scored."""
    yield from ()


class CompositeWidget(Container):
    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        self.viewer = viewer
        self.content = ComboBox(label="content", choices=layer_choices(viewer, "image"))
        self.stylized = ComboBox(
            label="stylized",
            choices=layer_choices(viewer, "image"),
            nullable=True,
            value=None,
            tooltip="the image Stylize made (`<content> stylized`), picked by name when it exists",
        )
        self.labels_layer = ComboBox(
            label="labels",
            choices=self._labels_choices,
            tooltip="the content's labels: `<content> labels [n]`, or a labels layer of the content's size",
        )
        self.slices = slices_box()
        self.composite_form = ParamForm(JobParams, COMPOSITE_PARTS)
        self.auto = CheckBox(text="re-composite when the labels change", value=False)
        self.composite_button = PushButton(text="Composite")
        self.style = ComboBox(
            label="style",
            choices=layer_choices(viewer, "image"),
            nullable=True,
            tooltip="the style image: its top class is the expected class unless one is named",
        )
        self.score_form = ParamForm(JobParams, SCORE_PARTS, CUSTOM, exclude=NOT_IN_NAPARI)
        show_defaults(self.score_form)
        self.score_button = PushButton(text="Score")
        self.scores = Label(value="")
        self.scores.native.setWordWrap(True)
        self.scores.tooltip = MEANING
        self.status = Label(value="")
        self.save = save_button(viewer, lambda: (self.content.value, self.labels_layer.value), self.status)
        self.progress = JobProgress()
        super().__init__(
            widgets=[
                self.content,
                self.stylized,
                self.labels_layer,
                self.slices,
                self.composite_form,
                self.auto,
                self.composite_button,
                self.style,
                self.score_form,
                self.score_button,
                self.scores,
                self.save,
                self.progress,
                self.status,
            ]
        )
        self.runner = JobRunner(self.score_button, self.status, "Score", self.progress)
        self.composite_runner = JobRunner(self.composite_button, self.status, "Composite", self.progress)
        self.composite_button.clicked.connect(self.recomposite)
        self.score_button.clicked.connect(lambda: self.runner.toggle(self._score_job))
        self.content.changed.connect(self._pick_companions)
        viewer.layers.events.inserted.connect(self._pick_companions)
        viewer.layers.events.inserted.connect(self._follow_data)
        viewer.layers.events.removed.connect(self._pick_companions)
        viewer.dims.events.axis_labels.connect(lambda _event: self.slices.name_for(viewer, self.content.value))
        self.labels_layer.changed.connect(self._watch_labels)
        self.auto.changed.connect(self._watch_labels)
        watch_layers(viewer, self.content, self.stylized, self.labels_layer, self.style)
        self._watched = None
        self._timer = None
        self._watch_labels()
        pick_content(viewer, self.content)
        self._pick_companions()  # the layers already open when the widget is docked

    def _labels_choices(self, _widget=None) -> list[tuple[str, object]]:
        """Labels that fit the content: named after it, or of its size (another image's labels
        would fail with a shape error); none while no content is chosen."""
        content = self.content.value
        if content is None:
            return []
        base = names.base_name(content.name)
        shape = np.shape(content.data)[:-1] if content.rgb else np.shape(content.data)
        return [
            (layer.name, layer)
            for layer in self.viewer.layers
            if isinstance(layer, layer_kind("labels"))
            and (names.is_labels(base, layer.name) or np.shape(layer.data) == shape)
        ]

    def _follow_data(self, event) -> None:
        """A stylized layer that opens as a preview becomes a result in place: pick again then."""
        if is_preview(event.value):
            event.value.events.data.connect(self._pick_companions)

    def _pick_companions(self, _event=None) -> None:
        """Select the newest `<content> stylized [n]` and `<content> labels [n]` when they exist (so
        deleting the newest result goes back to the one before); the labels box lists only the
        content's labels, and shows none when it has none."""
        content = self.content.value
        self.slices.name_for(self.viewer, content)
        if content is None:
            return
        self.stylized.reset_choices()
        self.labels_layer.reset_choices()
        layers = self.viewer.layers
        base = names.base_name(content.name)
        results = [lyr.name for lyr in layers if not is_preview(lyr)]  # never a run's half-finished preview
        stylized = names.newest_version(names.role(base, names.STYLIZED), results)
        if stylized is not None:
            self.stylized.value = layers[stylized]
            # the style Stylize used, for Score: named in its record, or a reopened bundle's own
            style_name = layers[stylized].metadata.get(META_KEY, {}).get("style_layer") or names.role(base, names.STYLE)
            if self.style.value is None and style_name in layers:
                self.style.reset_choices()
                self.style.value = layers[style_name]
        elif self.stylized.value is content:  # never the content as its own stylized image
            self.stylized.value = None
        labels = [lyr for lyr in layers if isinstance(lyr, layer_kind("labels")) and names.is_labels(base, lyr.name)]
        if labels:
            self.labels_layer.value = labels[-1]

    # compositing -----------------------------------------------------------------------------
    def _document(self, *forms):
        """The content's document (shared with the other docks and Run all) with `forms`' settings,
        the chosen labels (this slice) and the chosen stylized image as its stylize result, when it
        is not the one the document made; bad input raises here."""
        from napari_partial_style._napari.job_view import edit
        from napari_partial_style.core.job.pipeline import use_stylized

        content, stylized, labels = self.content.value, self.stylized.value, self.labels_layer.value
        if content is None or stylized is None or labels is None:
            raise InputError(
                "choose the content, stylized and labels layers (run Segment and Stylize first, or paint labels)."
            )
        if stylized is content:
            raise InputError(
                f"{content.name} is chosen as its own stylized image; choose the layer Stylize made "
                f"('{names.role(content.name, names.STYLIZED)}')."
            )
        source = source_image(self.viewer, content, "a content layer")
        styl = source_image(self.viewer, stylized, "the stylized layer").native
        if styl.shape[:2] != source.shape:
            raise InputError(
                f"{stylized.name} is {styl.shape[1]}×{styl.shape[0]} but {content.name} is "
                f"{source.shape[1]}×{source.shape[0]}; stylize this content first."
            )
        values = {path: value for form in forms for path, value in form.values().items()}
        doc = edit(self.viewer, content, values, labels_layer=labels).document
        covered = stylized.metadata.get(COVERED_KEY)
        use_stylized(doc, styl, covered if isinstance(covered, np.ndarray) else None, stylized.name)
        return content, doc

    def _stack_composite(self):
        """Each slice composited with its own stylized slice and labels slice, stacked: the layer,
        the masks and the job."""
        from napari_partial_style._napari.layers import planes
        from napari_partial_style.api import Session

        content, stylized, labels = self.content.value, self.stylized.value, self.labels_layer.value
        if stylized is None or labels is None:
            raise InputError("choose the stylized and labels layers (run Segment and Stylize on all slices first).")
        leading, sources = stack_sources(content)
        styl = stack_sources(stylized)[1]
        label_planes = planes(labels)[1] if labels.ndim > 2 else []
        if len(styl) != len(sources) or len(label_planes) != len(sources):
            raise InputError(
                f"{content.name} has {len(sources)} slices but {stylized.name} has {len(styl)} and "
                f"{labels.name} {len(label_planes)}; run Segment and Stylize on all slices first."
            )
        params = self.composite_form.params().composite
        masks = [
            Session.target_mask(plane, source.shape, params, labels.name, allow_empty=True)
            for source, plane in zip(sources, label_planes)
        ]

        def job():
            results = []
            for source, stylized_plane, mask in zip(sources, styl, masks):
                results.append((yield from Session.compositing(source, stylized_plane.native, mask, params))[0])
            return np.stack(results).reshape(*leading, *results[0].shape)

        return content, np.stack(masks), params, job

    def _composite_job(self):
        """What Composite computes: the layer, its slice and the job, which returns the composite
        and its region; the document's pipeline composites (a slice of a stack: that slice)."""
        if self.slices.every_slice(self.content.value):
            layer, masks, params, stacked = self._stack_composite()

            def stack_job():
                return (yield from stacked()), masks, ""  # slices: no stale mark

            return None, layer, stack_job
        from napari_partial_style._napari.job_view import computed

        layer, doc = self._document(self.composite_form)
        job_session = session(doc.params.session)

        given = ("segment", "stylize") if "segment" in doc.results else ("stylize",)  # the layers chosen, as they are

        def composited(doc):
            result, stale = doc.results["composite"].value, doc.why_stale("stylize")
            return result.image, result.mask, stale if stale.startswith("labels painted beyond") else ""

        compute = computed(doc, job_session, "composite", given=given, then=composited)

        def job():
            return (yield from compute)

        return slice_index(self.viewer, layer), layer, job

    def recomposite(self) -> None:
        """Composite now: on the main thread when it is instant (milliseconds), in a worker with
        progress and Cancel when photo smoothing or the photo's size makes it take seconds (its checks
        are part of it: they grow and feather the region); errors go to the status."""
        from napari_partial_style.core.progress import drain

        if self.composite_runner.running:
            self.composite_runner.cancel()
            return
        try:
            job, show = self.composite_job()
        except Exception as exc:
            self.runner.report_error(exc, "Composite")
            return
        layer, params = self.content.value, self.composite_form.params().composite
        plane = layer.data.shape[-3:-1] if layer.rgb else layer.data.shape[-2:]
        if params.smooth or self._busy(layer) or np.prod(plane) > INSTANT_PIXELS:  # a busy document: wait for it
            self.composite_runner.start(job, show)
            return
        try:
            result = drain(job())
        except Exception as exc:
            self.runner.report_error(exc, "Composite")
            return
        show(result)

    def composite_job(self):
        """Composite's job and what shows its result (bad input raises here): run at once or in
        the worker by `recomposite`, in the worker by Run all on a clip."""
        index, layer, job = self._composite_job()
        params = self.composite_form.params().composite

        def show(result) -> None:
            image, mask, stale = result
            name = names.role(names.base_name(layer.name), names.COMPOSITE)
            meta = {"stage": "composite", "labels_layer": self.labels_layer.value.name, "parameters": asdict(params)}
            image = into_stack(self.viewer, layer, index, image, name, content_elsewhere=True)
            put_image(self.viewer, name, image, layer, meta, rgb=True)
            self.status.value = f"Composite: done, {int(mask.sum())} px changed region{slice_text(index)}"
            if stale:
                self.status.value += f"; out of date: the stylized image ({stale}): Stylize again to cover them"
            if self.scores.value and not self.scores.value.startswith(STALE):  # they measured the composite before
                self.scores.value = f"{STALE} {self.scores.value}"

        return job, show

    @staticmethod
    def _busy(layer) -> bool:
        from napari_partial_style._napari.job_view import busy, view_of

        view = view_of(layer)
        return view is not None and busy(view.document)

    def _watch_labels(self) -> None:
        if self._watched is not None:
            self._watched.events.paint.disconnect(self._schedule)
            self._watched.events.data.disconnect(self._schedule)
            self._watched = None
        layer = self.labels_layer.value
        if self.auto.value and layer is not None:
            layer.events.paint.connect(self._schedule)
            layer.events.data.connect(self._schedule)
            self._watched = layer

    def _schedule(self, _event=None) -> None:
        """Coalesce a brush stroke's many paint events into one re-composite."""
        from qtpy.QtCore import QTimer

        if self._timer is None:
            self._timer = QTimer()
            self._timer.setSingleShot(True)
            self._timer.timeout.connect(self._auto_composite)
        self._timer.start(AUTO_DELAY_MS)

    def _auto_composite(self) -> None:
        """A stroke's re-composite; while one runs in a worker (smoothing, a large photo), it waits for it."""
        if self.composite_runner.running:
            self._timer.start(AUTO_DELAY_MS)
        else:
            self.recomposite()

    # scoring ---------------------------------------------------------------------------------
    def _score_job(self):
        """The job the Score button starts, and what shows its result; bad input raises here. The
        document scores its composite against the style's class (or the one named, or the one the
        composite's record names) with the segmentation settings it was segmented with."""
        from dataclasses import replace

        from napari_partial_style._napari.job_view import computed
        from napari_partial_style.core.job.pipeline import use_composite

        layer = self.content.value
        name = None if layer is None else names.role(names.base_name(layer.name), names.COMPOSITE)
        if name is None or name not in self.viewer.layers:
            raise InputError("composite first: there is no composite layer to score.")
        if self.slices.every_slice(layer):
            return self._stack_score_job(layer, name)
        layer, doc = self._document(self.composite_form, self.score_form)
        if self.style.value is not None:
            doc.set_style(source_image(self.viewer, self.style.value, "the style layer"))
        elif doc.params.score.expect is None and not doc.styles:
            doc.set_params(replace(doc.params, score=replace(doc.params.score, expect=self._recorded_class(name))))
        composite = source_image(self.viewer, self.viewer.layers[name], "the composite layer").native
        use_composite(doc, composite, name)  # the composite shown is the one scored
        given = tuple(s for s in ("segment", "stylize", "composite") if s in doc.results)
        job_session = session(doc.params.session)

        def scored(doc):
            score = doc.results["score"].value
            return {**score.scores, "rescored_labels": score.rescored_labels}

        scoring = computed(doc, job_session, "score", given=given, then=scored)

        def job():
            return (yield from scoring)

        return (job, lambda scores: self._show_scores(layer, name, scores))

    def _recorded_class(self, name: str) -> str:
        """The expected class an earlier score of the composite `name` recorded; InputError when none did."""
        recorded = (self.viewer.layers[name].metadata.get(META_KEY, {}).get("scores") or {}).get("expected_class")
        if recorded is None:
            raise InputError("name the expected class, or choose the style layer so its top class is used.")
        return recorded

    def _stack_score_job(self, layer, name: str):
        """Every frame's composite scored against its labels' region (the expected class found on
        the first frame, then named, so the style is classified once); a frame without a region is
        left out. Cancel shows the frames scored so far."""
        from dataclasses import replace

        from napari_partial_style._napari.layers import planes, recorded_segment_params
        from napari_partial_style.api import Session

        labels = self.labels_layer.value
        if labels is None:
            raise InputError("choose the labels layer (run Segment on all frames first, or paint labels).")
        word = frame_word(self.viewer, layer)
        leading, frames = stack_sources(self.viewer.layers[name])
        label_planes = planes(labels)[1] if labels.ndim > 2 else []
        if len(label_planes) != len(frames):
            raise InputError(
                f"{name} has {len(frames)} {word}s but {labels.name} has {len(label_planes)}; "
                f"composite all {word}s with labels of every {word} first."
            )
        form = self.score_form.params()
        segment = replace(recorded_segment_params(labels), classifier=form.segment.classifier)
        style = None if self.style.value is None else source_image(self.viewer, self.style.value, "the style layer")
        score = form.score
        if score.expect is None and style is None:
            score = replace(score, expect=self._recorded_class(name))
        targets = labels.metadata.get(META_KEY, {}).get("targets") or ()
        composite_params = self.composite_form.params().composite
        masks = [
            Session.target_mask(plane, frame.shape, composite_params, labels.name, allow_empty=True)
            for frame, plane in zip(frames, label_planes)
        ]
        job_session = session(form.session)
        scored: list[dict | None] = []

        def stage_of(i, frame, done):
            mask = masks[i]
            if not mask.any():
                return _none()
            found = next((s["expected_class"] for s in done if s is not None), score.expect)
            return job_session.score(frame, mask, style, segment, replace(score, expect=found), targets)

        def job():
            yield from over_slices(frames, stage_of, scored, word)
            return scored

        def partial() -> str | None:
            if not any(s is not None for s in scored):
                return None
            self._show_frame_scores(layer, name, scored, len(frames), leading, word)
            return f"{len(scored)} of {len(frames)} {word}s scored"

        def show(result) -> None:
            self._show_frame_scores(layer, name, result, len(frames), leading, word)

        return job, show, None, keep_finished(self.runner, partial)

    def _show_frame_scores(self, layer, name: str, scored: list, count: int, leading, word: str) -> None:
        """Mean and worst frame in the status, each frame's mean IU in the scores text, every frame's
        numbers in the composite's metadata, and what the classifier sees in each frame as one labels
        layer with the frame axis (hidden at first)."""
        from napari_partial_style._napari.layers import put_labels

        frames = [None if s is None else {k: v for k, v in s.items() if k != "rescored_labels"} for s in scored]
        shape = next(s["rescored_labels"].shape for s in scored if s is not None)
        rescored = np.zeros((count, *shape), np.uint8)
        for i, s in enumerate(scored):
            if s is not None:
                rescored[i] = s["rescored_labels"]
        line, per_frame = _frames_text(frames, count, word)
        self.scores.value = f"{line}\n{per_frame}"
        summary = {"frames": frames, "expected_class": next(f["expected_class"] for f in frames if f is not None)}
        self.viewer.layers[name].metadata.setdefault(META_KEY, {})["scores"] = summary
        first = next(f for f in frames if f is not None)
        classes = list(first.get("class_set", [])) or [str(first["expected_class"])]
        seen, _ = put_labels(
            self.viewer,
            names.role(names.base_name(layer.name), names.RESEGMENTED),
            rescored.reshape(*leading, *shape),
            classes,
            layer,
            {"stage": "score", "scores": summary},
            visible=False,
        )
        self.status.value = f"Score: done — {line}; tick '{seen.name}' to see what the classifier sees in each {word}"

    def _show_scores(self, layer, name: str, scores: dict) -> None:
        """The scores in words, and what the classifier now sees as a labels layer (hidden at first:
        over the composite it would hide the change it measures)."""
        from napari_partial_style._napari.layers import put_labels
        from napari_partial_style.core.segment.score_meaning import summary

        rescored = scores.pop("rescored_labels")
        classes = list(scores.get("class_set", [])) or [str(scores["expected_class"])]
        self.scores.value = summary(scores)
        self.viewer.layers[name].metadata.setdefault(META_KEY, {})["scores"] = scores
        base = names.base_name(layer.name)
        seen, _ = put_labels(
            self.viewer,
            names.role(base, names.RESEGMENTED),
            rescored,
            classes,
            layer,
            {"stage": "score", "scores": scores},
            visible=False,
        )
        self.status.value = f"Score: done; tick '{seen.name}' to see what the classifier sees now"
