"""Segment: DCSM saliency maps and CRF labels of an image layer, each its own layer."""

from __future__ import annotations

from collections.abc import Iterator
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
    mark_used,
    over_slices,
    pick_content,
    session,
    show_defaults,
    slices_box,
    source_image,
    stack_sources,
    watch_layers,
)
from napari_partial_style._napari.forms import ParamForm, in_widget_words
from napari_partial_style._napari.jobs import JobProgress, JobRunner
from napari_partial_style._napari.layers import (
    SALIENCY_LOOK,
    current_slice,
    into_stack,
    put_image,
    put_labels,
    slice_index,
    slice_text,
)
from napari_partial_style._napari.prompt_tool import PromptTool
from napari_partial_style.core.errors import InputError
from napari_partial_style.core.params import JobParams

PARTS = (("session",), ("segment",))
TARGETS = ("segment", "saliency", "targets")


class SegmentWidget(Container):
    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        self.viewer = viewer
        self.image = ComboBox(label="image", choices=layer_choices(viewer, "image"))
        self.slices = slices_box()
        self.follow = CheckBox(
            text="follow the region from the one shown",
            value=True,
            visible=False,
            tooltip="segment the slice shown (or keep the labels painted on it) and carry its labels along the "
            "optical flow to the next slices, the CRF fitting them to each; unticked: each slice segmented "
            "on its own",
        )
        self.form = ParamForm(JobParams, PARTS, CUSTOM)
        show_defaults(self.form)
        self.classifier = self.form["segment.classifier"]
        self.picker = self.form["segment.saliency.targets"]
        self.threshold = self.form["segment.saliency.threshold"]
        self.run = PushButton(text="Segment")
        self.crf_only = PushButton(
            text="Re-run CRF only", tooltip="new labels from the saliency layers already computed"
        )
        self.click = PushButton(
            text="Pick a target by clicking",
            tooltip="adds a points layer: each point you place on the object adds the class "
            "the classifier sees there to the target classes",
        )
        self.status = Label(value="")
        self.progress = JobProgress()
        self.prompts = PromptTool(viewer, lambda: self.image.value, self.status, self.progress)
        super().__init__(
            widgets=[
                self.image,
                self.slices,
                self.follow,
                self.click,
                self.form,
                self.run,
                self.crf_only,
                self.prompts,
                self.progress,
                self.status,
            ]
        )
        self.runner = JobRunner(self.run, self.status, "Segment", self.progress)
        self.crf_runner = JobRunner(self.crf_only, self.status, "CRF", self.progress)
        self.point_runner = JobRunner(self.click, self.status, "Pick", self.progress)
        self.click.clicked.connect(self._points_layer)
        self.classifier.changed.connect(self._load_classes)
        self.picker.above.changed.connect(self._mode_changed)
        self.run.clicked.connect(lambda: self.runner.toggle(self._segment_job))
        self.crf_only.clicked.connect(lambda: self.crf_runner.toggle(self._crf_job))
        watch_layers(viewer, self.image)
        pick_content(viewer, self.image)
        viewer.layers.events.inserted.connect(lambda _event: pick_content(viewer, self.image, keep=True))
        self.image.changed.connect(self._slices_shown)
        self.slices.changed.connect(self._slices_shown)
        viewer.dims.events.axis_labels.connect(self._slices_shown)
        self._slices_shown()

    def _slices_shown(self, _event=None) -> None:
        self.slices.name_for(self.viewer, self.image.value)
        word = frame_word(self.viewer, self.image.value)
        self.follow.text = f"follow the region from the {word} shown"
        self.follow.visible = self.slices.every_slice(self.image.value)

    def _mode_changed(self) -> None:
        picking = not self.picker.above.value
        self.threshold.visible = not picking
        if picking and not self.picker._classes:
            self._load_classes()

    def _load_classes(self) -> None:
        try:
            self.picker.set_classes(self.classifier.class_names())
        except Exception as exc:  # an unreadable checkpoint: say so, keep the widget usable
            self.picker.set_classes([])
            self.status.value = f"cannot read classes: {exc}"

    def params(self) -> JobParams:
        return self.form.params()

    # picking a target by clicking -------------------------------------------------------------
    def _points_layer(self) -> None:
        """`<image> target points` on the image, in add mode; each new point is looked up."""
        from napari_partial_style._napari.layers import geometry

        layer = self.image.value
        if layer is None:
            self.status.value = "Pick: open an image and choose it first."
            return
        name = f"{layer.name} target points"
        if name not in self.viewer.layers:
            points = self.viewer.add_points(
                name=name,
                size=max(layer.data.shape[-3 if layer.rgb else -2 :][:2]) / 40,
                face_color="yellow",
                **geometry(layer),
            )
            points.events.data.connect(lambda event: self._point_added(points, event))
        points = self.viewer.layers[name]
        self.viewer.layers.selection.active = points
        points.mode = "add"
        self.status.value = f"Pick: click on the object in '{layer.name}'"

    def _point_added(self, points, event) -> None:
        if getattr(event, "action", "added") != "added" or not len(points.data) or self.point_runner.running:
            return
        point = tuple(float(v) for v in points.data[-1][-2:])
        self.point_runner.toggle(lambda: self._pick_job(point))  # bad input: one line in the dock

    def _pick_job(self, point: tuple[float, float]):
        layer = self.image.value
        source = source_image(self.viewer, layer, "an image layer")
        params = self.form.params(fixed={TARGETS: ()})  # a click adds a target: none need be chosen yet
        job_session = session(params.session)

        def job():
            return (yield from job_session.classes_at(source, point, params.segment))

        return job, self._picked

    def _picked(self, found: list[tuple[str, float]]) -> None:
        """The best class joins the targets; the runners-up are named, to click again or pick by hand."""
        name = found[0][0]
        self.picker.add(name)
        others = ", ".join(f"{n} {s:.2f}" for n, s in found[1:])
        self.status.value = f"Pick: done — {name} ({found[0][1]:.2f}) added to the targets; next: {others}"

    # running ----------------------------------------------------------------------------------
    def _segment_job(self):
        """The job the Run button starts, and what shows its result. The content's document (shared
        with the other docks and Run all) computes the segmentation: with the same settings it is
        current and comes back at once, as segmented. Its checks (unknown classes, prompts that do
        not fit) are the job's first step, in the worker: a refusal comes within milliseconds."""
        from napari_partial_style._napari.job_view import computed, edit

        layer = self.image.value
        mark_used(content=layer)
        if self.slices.every_slice(layer):
            return self._follow_job(layer) if self.follow.value else self._stack_job(layer)
        index = slice_index(self.viewer, layer)  # where the result goes, wherever the slider is by then
        params = self.params()
        doc = edit(self.viewer, layer, self.form.values()).document
        seg = doc.segmentation
        if seg is None:  # labels given before (painted, a sample's): Segment replaces them
            doc.discard("segment", "segment")
        elif doc.is_current("segment"):
            doc.edit_labels(seg.labels, "labels as segmented")  # painted over: Segment gives them back
        job_session = session(params.session)
        size = job_session.size_for(doc.content.shape)

        prepared = doc.labels

        def anew(doc) -> None:
            """Labels another dock gave after this click (Stylize's "the whole frame", clicked at once)
            would leave nothing to segment: Segment segments, as clicked."""
            if doc.segmentation is None and doc.labels is not prepared:
                doc.history.record(doc, "segment", {"labels": None})

        compute = computed(doc, job_session, "segment", first=anew, then=lambda doc: doc.segmentation)

        def job():
            return (yield from compute), size, str(job_session.device)

        return (job, lambda result: self._show(layer, params, *result, index=index))

    def _follow_job(self, layer):
        """Every frame's labels carried from the frame shown (`follow.FollowedClip`); the frames
        finished when it is cancelled or fails are shown as done."""
        from napari_partial_style._napari.follow import FollowedClip

        params = self.params()
        clip = FollowedClip(self.viewer, layer, params, frame_word(self.viewer, layer))
        size, device = clip.session.size_for(clip.sources[0].shape), str(clip.session.device)

        def show(result, finished: bool = True):
            meta = {"followed_from": clip.start}
            yield from self._show(layer, params, result.result(), size, device, extra=meta)
            self.status.value = f"Segment: done — {clip.summary()}" if finished else self.status.value

        def partial() -> str | None:
            if not clip.done.any() or clip.done.all():
                return None
            for _ in show(clip, finished=False):
                pass
            return clip.summary()

        return clip.job, show, None, keep_finished(self.runner, partial)

    def _stack_job(self, layer):
        """Every slice segmented for the targets the first slice found (one class list for the
        stack), maps and labels stacked with the image's axes; the slices finished when it is
        cancelled are shown."""
        from dataclasses import replace

        from napari_partial_style.core.segment.segmentation import Segmentation

        leading, sources = stack_sources(layer)
        params = self.params()
        job_session = session(params.session)
        word = frame_word(self.viewer, layer)
        segs: list = []

        def stage_of(_i, source, done):
            segment = params.segment
            if done:
                segment = replace(segment, saliency=replace(segment.saliency, targets=tuple(done[0].targets)))
            return job_session.segment(source, segment)

        def stacked():
            first = segs[0]
            blank = [Segmentation(first.maps * 0, first.labels * 0, None, first.targets, [], None, [])]
            whole = segs + blank * (len(sources) - len(segs))  # slices not reached: no labels yet
            maps = np.stack([s.maps for s in whole], axis=1).reshape(len(first.targets), *leading, *first.labels.shape)
            labels = np.stack([s.labels for s in whole]).reshape(*leading, *first.labels.shape)
            return Segmentation(
                maps, labels, None, first.targets, first.target_ids, first.scores, first.classes, first.threshold
            )

        size, device = job_session.size_for(sources[0].shape), str(job_session.device)

        def job():
            yield from over_slices(sources, stage_of, segs, word)
            return stacked(), size, device

        def partial() -> str | None:
            if not segs:
                return None
            for _ in self._show(layer, params, stacked(), size, device):
                pass
            return f"{len(segs)} of {len(sources)} {word}s segmented (the rest have no labels yet)"

        return job, lambda result: self._show(layer, params, *result), None, keep_finished(self.runner, partial)

    def _show(
        self,
        layer,
        params: JobParams,
        seg,
        size,
        device,
        index: tuple[int, ...] | None = None,
        extra: dict | None = None,
    ) -> Iterator[None]:
        """The maps and labels as layers, one per event-loop turn; a result of one slice of a stack
        goes to that slice of stack-shaped layers (shown there only; the slices done before are kept).
        `extra`: more of the record (how the labels were made)."""
        meta = {
            **(extra or {}),
            "stage": "segment",
            "parameters": asdict(params.segment),
            "size": size,
            "device": device,
            "targets": seg.targets,
            "classifier_classes": seg.classes,
            "class_scores": seg.class_scores(),
        }
        for i, target in enumerate(seg.targets[: len(seg.maps)]):  # labels given by hand may have no maps
            name = names.saliency(layer.name, target)
            put_image(
                self.viewer,
                name,
                into_stack(self.viewer, layer, index, seg.maps[i], name),
                layer,
                meta,
                **SALIENCY_LOOK,
            )
            yield
        yield from self._put_labels(layer, seg.labels, seg.targets, meta, seg.probabilities, index)
        scores = ", ".join(f"{k} {v:.2f}" for k, v in seg.class_scores().items())
        self.status.value = f"Segment: done{slice_text(index)} — {scores}"
        weak = seg.weak_targets()
        if weak is not None:
            from napari.utils.notifications import show_warning

            warning = in_widget_words(weak)
            self.status.value += f"\nWarning: {warning}"
            show_warning(f"Segment: {warning}")

    def _put_labels(
        self,
        layer,
        labels: np.ndarray,
        targets: list[str],
        meta: dict,
        probabilities: np.ndarray | None,
        index: tuple[int, ...] | None = None,
    ) -> Iterator[None]:
        """The labels as a layer: a new one is shown in the next event-loop turn (see `put_labels`)."""
        from napari.utils.notifications import show_info

        name = names.role(layer.name, names.LABELS)
        if index is not None:  # one slice's marginals would be read on every slice: none for a stack
            previous = names.newest_version(name, [lyr.name for lyr in self.viewer.layers])
            labels, probabilities = into_stack(self.viewer, layer, index, labels, previous), None
            meta = {**meta, "slice": list(index)}
        labels_layer, renamed = put_labels(self.viewer, name, labels, targets, layer, meta, probabilities)
        if renamed:
            show_info(f"'{name}' was painted, so it was kept; the new labels are in '{labels_layer.name}'.")
        if not labels_layer.visible:
            yield
            labels_layer.visible = True

    def _crf_job(self):
        """The job "Re-run CRF only" starts, and what shows its result; bad input raises here."""
        layer = self.image.value
        source = source_image(self.viewer, layer, "an image layer")
        maps_layers = [(names.saliency_target(layer.name, lyr.name), lyr) for lyr in self.viewer.layers]
        maps_layers = [(target, lyr) for target, lyr in maps_layers if target is not None]
        if not maps_layers:
            raise InputError(f"no '{names.saliency(layer.name, '...')}' layers yet; run Segment first.")
        params = self.params()
        targets = [target for target, _ in maps_layers]
        maps = np.stack([np.asarray(current_slice(self.viewer, lyr)[0], dtype=np.float32) for _, lyr in maps_layers])
        index = slice_index(self.viewer, layer)
        job_session = session(params.session)

        def job():
            return (yield from job_session.recrf(source, maps, targets, params.segment.crf))

        def show(seg) -> Iterator[None]:
            yield from self._put_labels(
                layer,
                seg.labels,
                targets,
                {"stage": "segment", "parameters": asdict(params.segment), "targets": targets, "crf_only": True},
                seg.probabilities,
                index,
            )
            self.status.value = f"CRF: done{slice_text(index)}"

        return (job, show)
