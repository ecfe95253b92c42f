"""Segment: DCSM saliency maps and CRF labels of an image layer, each its own layer."""

from __future__ import annotations

import napari
import numpy as np
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FloatSpinBox,
    Label,
    LineEdit,
    PushButton,
    Select,
    SpinBox,
)

from napari_partial_style._napari.common import (
    IMAGENET,
    classifier_boxes,
    classifier_source,
    device_box,
    explicit_weights,
    layer_choices,
    size_box,
    watch_layers,
)
from napari_partial_style._napari.jobs import JobRunner
from napari_partial_style._napari.layers import current_slice, put_image, put_labels
from napari_partial_style._napari.stable_colors import class_colormap

MAX_LISTED = 200


class SegmentWidget(Container):
    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        from napari_partial_style.core.segment.crf import CALIBRATIONS, CRFParams, METHODS

        crf = CRFParams()
        self.viewer = viewer
        self.image = ComboBox(label="image", choices=layer_choices(viewer, "image"))
        self.source, self.checkpoint = classifier_boxes()
        self.above = CheckBox(text="targets: every class above the threshold", value=True)
        self.threshold = FloatSpinBox(label="threshold", value=0.0, min=0.0, max=1.0, step=0.05,
                                      tooltip="0: the classifier's default (0.5 for checkpoints, 0.2 for ImageNet)")
        self.search = LineEdit(label="find class", tooltip="type to filter the class list", visible=False)
        self._listed: list[str] = []
        self.targets = Select(label="target classes", choices=lambda _widget: self._listed, visible=False)
        self.subtract = LineEdit(label="subtract", tooltip="classes, comma-separated, subtracted from the targets' saliency (default: best-scoring others)")
        self.size = size_box()
        self.device = device_box()
        self.crf_method = ComboBox(label="CRF", choices=list(METHODS), value=crf.method)
        self.calibration = ComboBox(label="map calibration", choices=list(CALIBRATIONS), value=crf.calibration,
                                    tooltip="otsu: each map's Otsu threshold becomes 0.5, so peaky or weaker targets are kept")
        self.alpha = FloatSpinBox(label="background α", value=crf.background_alpha, min=0.1, max=64.0, step=0.5,
                                  tooltip="background = (1 − max saliency)^α; larger labels more as target")
        self.iterations = SpinBox(label="CRF iterations", value=crf.iterations, min=1, max=50)
        self.run = PushButton(text="Segment")
        self.crf_only = PushButton(text="Re-run CRF only", tooltip="new labels from the saliency layers already computed")
        self.status = Label(value="")
        super().__init__(widgets=[
            self.image, self.source, self.checkpoint, self.above, self.threshold, self.search, self.targets,
            self.subtract, self.size, self.device, self.crf_method, self.calibration, self.alpha, self.iterations,
            self.run, self.crf_only, self.status,
        ])
        self.runner = JobRunner(self.run, self.status, "Segment")
        self.crf_runner = JobRunner(self.crf_only, self.status, "CRF")
        self._classes: list[str] = []
        self.source.changed.connect(self._source_changed)
        self.checkpoint.changed.connect(self._load_classes)
        self.above.changed.connect(self._mode_changed)
        self.search.changed.connect(self._filter)
        self.run.clicked.connect(lambda: self.runner.toggle(self._segment_job))
        self.crf_only.clicked.connect(lambda: self.crf_runner.toggle(self._crf_job))
        watch_layers(viewer, self.image)

    # class list -------------------------------------------------------------------------------
    def _source_changed(self) -> None:
        self._load_classes()

    def _mode_changed(self) -> None:
        chosen = not self.above.value
        self.search.visible = self.targets.visible = chosen
        self.threshold.visible = not chosen
        if chosen and not self._classes:
            self._load_classes()

    def _load_classes(self) -> None:
        from napari_partial_style.core.segment.classifier import imagenet_classes, read_class_names

        try:
            if self.source.value == IMAGENET:
                self._classes = imagenet_classes()
            elif self.checkpoint.value and self.checkpoint.value.is_file():
                self._classes = read_class_names(self.checkpoint.value)
            else:
                self._classes = []
        except Exception as exc:  # an unreadable checkpoint: say so, keep the widget usable
            self._classes = []
            self.status.value = f"cannot read classes: {exc}"
        self._filter()

    def _filter(self) -> None:
        text = (self.search.value or "").strip().lower()
        chosen = list(self.targets.value)
        matches = [c for c in self._classes if text in c.lower()][:MAX_LISTED]
        # Choices come from a callable: napari calls reset_choices() on docked widgets whenever
        # layers change, which would empty a list given once.
        self._listed = list(dict.fromkeys([*chosen, *matches]))
        self.targets.reset_choices()
        self.targets.value = chosen

    # parameters -------------------------------------------------------------------------------
    def classifier_source(self) -> str:
        return classifier_source(self.source, self.checkpoint)

    def segment_params(self):
        from napari_partial_style.core.segment.crf import CRFParams
        from napari_partial_style.core.segment.saliency import SaliencyParams
        from napari_partial_style.core.segment.segmentation import SegmentParams

        targets = () if self.above.value else tuple(self.targets.value)
        if not self.above.value and not targets:
            from napari_partial_style.core.errors import InputError

            raise InputError("pick at least one target class, or tick 'every class above the threshold'.")
        subtract = tuple(s.strip() for s in (self.subtract.value or "").split(",") if s.strip())
        saliency = SaliencyParams(threshold=self.threshold.value or None, targets=targets, subtract=subtract)
        crf = CRFParams(method=self.crf_method.value, calibration=self.calibration.value,
                        background_alpha=self.alpha.value, iterations=self.iterations.value)
        return SegmentParams(classifier=self.classifier_source(), saliency=saliency, crf=crf)

    def _input(self):
        from napari_partial_style.core.errors import InputError
        from napari_partial_style.core.images import as_source_image

        layer = self.image.value
        if layer is None:
            raise InputError("open or choose an image layer first.")
        data, sliced = current_slice(self.viewer, layer)
        if sliced:
            from napari.utils.notifications import show_info

            show_info(f"{layer.name} is a stack: segmenting the current 2D slice.")
        return layer, as_source_image(data, name=layer.name)

    # running ----------------------------------------------------------------------------------
    def _segment_job(self):
        """The job the Run button starts, and what shows its result; bad input raises here."""
        layer, source = self._input()
        params = self.segment_params()
        device_name, size_value = self.device.value, self.size.value

        def job():
            from napari_partial_style.core.segment.classifier import classifier_steps
            from napari_partial_style.core.device import get_device, working_size
            from napari_partial_style.core.segment.segmentation import segment_stage

            device = get_device(device_name)
            size = working_size(size_value, device, source.shape)
            model = yield from classifier_steps(params.classifier, device, explicit_weights(["vgg16"]))
            seg = yield from segment_stage(model, source, params, size, device)
            return seg, size, str(device)

        return (job, lambda result: self._show(layer, params, *result))

    def _show(self, layer, params, seg, size, device) -> None:
        from dataclasses import asdict

        meta = {"stage": "segment", "parameters": asdict(params), "size": size, "device": device,
                "targets": seg.targets, "classifier_classes": seg.classes,
                "class_scores": seg.class_scores()}
        strongest = max(range(len(seg.targets)), key=lambda i: seg.maps[i].mean())
        for i, target in enumerate(seg.targets):
            put_image(self.viewer, f"{layer.name} saliency [{target}]", seg.maps[i], layer, meta,
                      colormap="inferno", contrast_limits=(0.0, 1.0), blending="additive", visible=i == strongest)
        self._put_labels(layer, seg.labels, seg.targets, meta)
        scores = ", ".join(f"{k} {v:.2f}" for k, v in seg.class_scores().items())
        self.status.value = f"Segment: done — {scores}"

    def _put_labels(self, layer, labels: np.ndarray, targets: list[str], meta: dict) -> None:
        from napari.utils.notifications import show_info

        name = f"{layer.name} labels"
        labels_layer, renamed = put_labels(self.viewer, name, labels, targets, layer, meta)
        labels_layer.colormap = class_colormap(["background", *targets])
        if renamed:
            show_info(f"'{name}' was painted, so it was kept; the new labels are in '{labels_layer.name}'.")

    def _saliency_layers(self, layer) -> list:
        prefix = f"{layer.name} saliency ["
        return [lyr for lyr in self.viewer.layers if lyr.name.startswith(prefix) and lyr.name.endswith("]")]

    def _crf_job(self):
        """The job "Re-run CRF only" starts, and what shows its result; bad input raises here."""
        layer, source = self._input()
        maps_layers = self._saliency_layers(layer)
        if not maps_layers:
            from napari_partial_style.core.errors import InputError

            raise InputError(f"no '{layer.name} saliency [...]' layers yet; run Segment first.")
        params = self.segment_params()
        targets = [lyr.name[len(layer.name) + len(" saliency ["):-1] for lyr in maps_layers]
        maps = np.stack([np.asarray(lyr.data, dtype=np.float32) for lyr in maps_layers])
        device_name, size_value = self.device.value, self.size.value

        def job():
            from napari_partial_style.core.device import get_device, working_size
            from napari_partial_style.core.images import working_shape
            from napari_partial_style.core.segment.segmentation import labels_from_maps, resize_stack

            device = get_device(device_name)
            size = working_size(size_value, device, source.shape)
            shape = working_shape(source.shape, size)
            result = yield from labels_from_maps(source.resized(shape), resize_stack(maps, shape),
                                                 params.crf, source.shape, device)
            return result

        def show(result) -> None:
            from dataclasses import asdict

            self._put_labels(layer, result[0], targets, {"stage": "segment", "parameters": asdict(params),
                                                          "targets": targets, "crf_only": True})
            self.status.value = "CRF: done"

        return (job, show)

