"""Segment: DCSM saliency maps and CRF labels of an image layer, each its own layer."""

from __future__ import annotations

from dataclasses import asdict

import napari
import numpy as np
from magicgui.widgets import ComboBox, Container, Label, PushButton

from napari_partial_style._napari import layer_names as names
from napari_partial_style._napari.common import CUSTOM, layer_choices, session, source_image, watch_layers
from napari_partial_style._napari.forms import ParamForm
from napari_partial_style._napari.jobs import JobRunner
from napari_partial_style._napari.layers import put_image, put_labels
from napari_partial_style._napari.stable_colors import class_colormap
from napari_partial_style.core.errors import InputError
from napari_partial_style.core.params import JobParams

PARTS = (("session",), ("segment",))


class SegmentWidget(Container):
    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        self.viewer = viewer
        self.image = ComboBox(label="image", choices=layer_choices(viewer, "image"))
        self.form = ParamForm(JobParams, PARTS, CUSTOM)
        self.classifier = self.form["segment.classifier"]
        self.picker = self.form["segment.saliency.targets"]
        self.threshold = self.form["segment.saliency.threshold"]
        self.run = PushButton(text="Segment")
        self.crf_only = PushButton(text="Re-run CRF only", tooltip="new labels from the saliency layers already computed")
        self.status = Label(value="")
        super().__init__(widgets=[self.image, self.form, self.run, self.crf_only, self.status])
        self.runner = JobRunner(self.run, self.status, "Segment")
        self.crf_runner = JobRunner(self.crf_only, self.status, "CRF")
        self.classifier.changed.connect(self._load_classes)
        self.picker.above.changed.connect(self._mode_changed)
        self.run.clicked.connect(lambda: self.runner.toggle(self._segment_job))
        self.crf_only.clicked.connect(lambda: self.crf_runner.toggle(self._crf_job))
        watch_layers(viewer, self.image)

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

    # running ----------------------------------------------------------------------------------
    def _segment_job(self):
        """The job the Run button starts, and what shows its result; bad input raises here."""
        layer = self.image.value
        source = source_image(self.viewer, layer, "an image layer")
        params = self.params()
        job_session = session(params.session)

        def job():
            seg = yield from job_session.segment(source, params.segment)
            return seg, job_session.size_for(source.shape), str(job_session.device)

        return (job, lambda result: self._show(layer, params, *result))

    def _show(self, layer, params: JobParams, seg, size, device) -> None:
        meta = {"stage": "segment", "parameters": asdict(params.segment), "size": size, "device": device,
                "targets": seg.targets, "classifier_classes": seg.classes, "class_scores": seg.class_scores()}
        strongest = max(range(len(seg.targets)), key=lambda i: seg.maps[i].mean())
        for i, target in enumerate(seg.targets):
            put_image(self.viewer, names.saliency(layer.name, target), seg.maps[i], layer, meta,
                      colormap="inferno", contrast_limits=(0.0, 1.0), blending="additive", visible=i == strongest)
        self._put_labels(layer, seg.labels, seg.targets, meta)
        scores = ", ".join(f"{k} {v:.2f}" for k, v in seg.class_scores().items())
        self.status.value = f"Segment: done — {scores}"

    def _put_labels(self, layer, labels: np.ndarray, targets: list[str], meta: dict) -> None:
        from napari.utils.notifications import show_info

        name = names.role(layer.name, names.LABELS)
        labels_layer, renamed = put_labels(self.viewer, name, labels, targets, layer, meta)
        labels_layer.colormap = class_colormap(["background", *targets])
        if renamed:
            show_info(f"'{name}' was painted, so it was kept; the new labels are in '{labels_layer.name}'.")

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
        maps = np.stack([np.asarray(lyr.data, dtype=np.float32) for _, lyr in maps_layers])
        job_session = session(params.session)

        def job():
            return (yield from job_session.recrf(source, maps, targets, params.segment.crf))

        def show(seg) -> None:
            self._put_labels(layer, seg.labels, targets, {"stage": "segment", "parameters": asdict(params.segment),
                                                          "targets": targets, "crf_only": True})
            self.status.value = "CRF: done"

        return (job, show)
