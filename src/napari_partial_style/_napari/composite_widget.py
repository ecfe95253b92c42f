"""Composite & score: paste the stylized target region into the content, then check the result.

Compositing is cheap and runs on the spot (and on every label edit when auto-update is on), so
correcting the labels never re-runs style transfer. Scoring re-segments the composite in a worker.
"""

from __future__ import annotations

import napari
import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, Label, LineEdit, PushButton

from napari_partial_style._napari.common import (
    classifier_boxes,
    classifier_source,
    device_box,
    explicit_weights,
    layer_choices,
    layer_kind,
    size_box,
    watch_layers,
)
from napari_partial_style._napari.jobs import JobRunner
from napari_partial_style._napari.layers import current_slice, put_image

AUTO_DELAY_MS = 150


class CompositeWidget(Container):
    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        self.viewer = viewer
        self.content = ComboBox(label="content", choices=layer_choices(viewer, "image"))
        self.stylized = ComboBox(label="stylized", choices=layer_choices(viewer, "image"), nullable=True, value=None,
                                 tooltip="the image Stylize made (`<content> stylized`), picked by name when it exists")
        self.labels_layer = ComboBox(label="labels", choices=layer_choices(viewer, "labels"))
        self.values = LineEdit(label="target labels", value="all", tooltip="label values to change: 'all' (every nonzero label) or e.g. '1, 3'")
        self.feather = FloatSpinBox(label="feather (px)", value=0.0, min=0.0, max=200.0, step=1.0,
                                    tooltip="width of a soft edge centred on the region's edge; 0: hard mask")
        self.auto = CheckBox(text="re-composite when the labels change", value=False)
        self.composite_button = PushButton(text="Composite")
        self.source, self.checkpoint = classifier_boxes()
        self.style = ComboBox(label="style", choices=layer_choices(viewer, "image"), nullable=True,
                              tooltip="the style image: its top class is the expected class unless one is named")
        self.expect = LineEdit(label="expected class", tooltip="class the region should read as now (default: the style's top class)")
        self.size = size_box()
        self.device = device_box()
        self.score_button = PushButton(text="Score")
        self.scores = Label(value="")
        self.status = Label(value="")
        super().__init__(widgets=[
            self.content, self.stylized, self.labels_layer, self.values, self.feather, self.auto, self.composite_button,
            self.source, self.checkpoint, self.style, self.expect, self.size, self.device, self.score_button,
            self.scores, self.status,
        ])
        self.runner = JobRunner(self.score_button, self.status, "Score")
        self.composite_button.clicked.connect(self.recomposite)
        self.score_button.clicked.connect(lambda: self.runner.toggle(self._score_job))
        self.content.changed.connect(self._pick_companions)
        viewer.layers.events.inserted.connect(self._pick_companions)
        self.labels_layer.changed.connect(self._watch_labels)
        self.auto.changed.connect(self._watch_labels)
        watch_layers(viewer, self.content, self.stylized, self.labels_layer, self.style)
        self._watched = None
        self._timer = None
        self._watch_labels()
        self._pick_companions()  # the layers already open when the widget is docked

    def _pick_companions(self, _event=None) -> None:
        """Select `<content> stylized` and the newest `<content> labels` when they exist."""
        content = self.content.value
        if content is None:
            return
        self.stylized.reset_choices()
        self.labels_layer.reset_choices()
        layers = self.viewer.layers
        stylized = f"{content.name} stylized"
        if stylized in layers:
            self.stylized.value = layers[stylized]
        elif self.stylized.value is content:  # never the content as its own stylized image
            self.stylized.value = None
        labels = [lyr for lyr in layers if isinstance(lyr, layer_kind("labels")) and lyr.name.startswith(f"{content.name} labels")]
        if labels:
            self.labels_layer.value = labels[-1]

    # compositing -----------------------------------------------------------------------------
    def target_values(self) -> tuple[int, ...] | None:
        from napari_partial_style.core.errors import InputError

        text = (self.values.value or "").strip().lower()
        if text in ("", "all"):
            return None
        try:
            return tuple(int(v) for v in text.replace(",", " ").split())
        except ValueError as exc:
            raise InputError(f"target labels {self.values.value!r}: give 'all' or label numbers like '1, 3'.") from exc

    def _arrays(self):
        from napari_partial_style.core.errors import InputError
        from napari_partial_style.core.images import as_source_image, target_mask

        content, stylized, labels = self.content.value, self.stylized.value, self.labels_layer.value
        if content is None or stylized is None or labels is None:
            raise InputError("choose the content, stylized and labels layers (run Segment and Stylize first, or paint labels).")
        if stylized is content:
            raise InputError(f"{content.name} is chosen as its own stylized image; choose the layer Stylize made "
                             f"('{content.name} stylized').")
        source = as_source_image(current_slice(self.viewer, content)[0], name=content.name)
        styl = np.asarray(current_slice(self.viewer, stylized)[0])
        if styl.shape[:2] != source.shape:
            raise InputError(f"{stylized.name} is {styl.shape[1]}×{styl.shape[0]} but {content.name} is "
                             f"{source.shape[1]}×{source.shape[0]}; stylize this content first.")
        styl_rgb = as_source_image(styl, name=stylized.name).native
        mask = target_mask(np.asarray(current_slice(self.viewer, labels)[0]), source.shape, name=labels.name,
                           values=self.target_values())
        return content, source, styl_rgb, mask

    def recomposite(self) -> None:
        """Composite now, on the main thread (a few milliseconds): errors go to a notification."""
        from napari_partial_style.core.composite import composite, feather_alpha

        try:
            layer, source, stylized, mask = self._arrays()
            result = composite(source, stylized, feather_alpha(mask, self.feather.value))
        except Exception as exc:
            self.runner.report_error(exc)
            return
        meta = {"stage": "composite", "labels_layer": self.labels_layer.value.name, "feather": self.feather.value, "target_labels": self.values.value}
        put_image(self.viewer, f"{layer.name} composite", result, layer, meta, rgb=result.ndim == 3)
        self.status.value = f"Composite: {int(mask.sum())} px changed region"

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
            self._timer.timeout.connect(self.recomposite)
        self._timer.start(AUTO_DELAY_MS)

    # scoring ---------------------------------------------------------------------------------
    def _score_job(self):
        """The job the Score button starts, and what shows its result; bad input raises here."""
        from napari_partial_style.core.images import as_source_image

        layer, source, _, mask = self._arrays()
        name = f"{layer.name} composite"
        if name not in self.viewer.layers:
            from napari_partial_style.core.errors import InputError

            raise InputError("composite first: there is no composite layer to score.")
        composite = as_source_image(np.asarray(self.viewer.layers[name].data), name=name)
        classifier = classifier_source(self.source, self.checkpoint)
        style = None
        if self.style.value is not None:
            style = as_source_image(current_slice(self.viewer, self.style.value)[0], name=self.style.value.name)
        expect = (self.expect.value or "").strip() or None
        if expect is None and style is None:
            from napari_partial_style.core.errors import InputError

            raise InputError("name the expected class, or choose the style layer so its top class is used.")
        original = list(self.labels_layer.value.metadata.get("partial_style", {}).get("targets", []))
        device_name, size_value = self.device.value, self.size.value

        def job():
            from napari_partial_style.core.segment.classifier import classifier_steps
            from napari_partial_style.core.device import get_device, working_size
            from napari_partial_style.core.segment.scoring import expected_id, score_stage
            from napari_partial_style.core.segment.segmentation import SegmentParams
            from napari_partial_style.core.segment.targets import resolve_class

            device = get_device(device_name)
            size = working_size(size_value, device, source.shape)
            model = yield from classifier_steps(classifier, device, explicit_weights(["vgg16"]))
            expected = expected_id(model, expect, style, size, device)
            targets = [resolve_class(t, model.classes) for t in original if t in model.classes]
            scores, _ = yield from score_stage(model, composite, mask, expected, targets, SegmentParams(classifier=classifier),
                                               size, device)
            return scores

        return (job, self._show_scores)

    def _show_scores(self, scores: dict) -> None:
        self.scores.value = (f"reads as {scores['expected_class']!r}: pixel accuracy {scores['pixel_accuracy']:.3f}, "
                             f"mean IU {scores['mean_iu']:.3f}")
        layer = self.viewer.layers[f"{self.content.value.name} composite"]
        layer.metadata.setdefault("partial_style", {})["scores"] = scores
        self.status.value = "Score: done"
