"""Stylize: Gatys style transfer of a content layer with a style layer, previewed as it runs."""

from __future__ import annotations

import time

import napari
from magicgui.widgets import ComboBox, Container, FloatSpinBox, Label, PushButton, SpinBox

from napari_partial_style._napari.common import device_box, explicit_weights, layer_choices, size_box, watch_layers
from napari_partial_style._napari.jobs import JobRunner
from napari_partial_style._napari.layers import current_slice, put_image
from napari_partial_style.core.progress import Estimator


class StylizeWidget(Container):
    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        from napari_partial_style.core.style.gatys import DEFAULT_STYLE_WEIGHT

        self.viewer = viewer
        self.content = ComboBox(label="content", choices=layer_choices(viewer, "image"))
        self.style = ComboBox(label="style", choices=layer_choices(viewer, "image"), nullable=True, value=None,
                              tooltip="the image whose texture the content takes on (open one, e.g. File › Open Sample)")
        self.size = size_box()
        self.steps = SpinBox(label="steps", value=300, min=1, max=5000, tooltip="L-BFGS loss evaluations")
        self.style_size = SpinBox(label="style size", value=0, min=0, max=4096, step=32,
                                  tooltip="long side the style image is scaled to; smaller gives a coarser texture; 0: the working size")
        self.style_weight = FloatSpinBox(label="style weight", value=DEFAULT_STYLE_WEIGHT, min=0, max=1e12, step=1e5,
                                         tooltip="see docs/style-weights.md")
        self.content_weight = FloatSpinBox(label="content weight", value=1.0, min=0, max=1e6)
        self.tv_weight = FloatSpinBox(label="TV weight", value=0.0, min=0, max=1e3, step=0.01, tooltip="smooths the result")
        self.device = device_box()
        self.preview_every = SpinBox(label="preview every", value=10, min=0, max=1000, tooltip="steps between previews in the stylized layer; 0: none")
        self.estimate = Label(value="")
        self.run = PushButton(text="Stylize")
        self.status = Label(value="")
        super().__init__(widgets=[
            self.content, self.style, self.size, self.steps, self.style_size, self.style_weight,
            self.content_weight, self.tv_weight, self.device, self.preview_every, self.run, self.estimate, self.status,
        ])
        self.runner = JobRunner(self.run, self.status, "Stylize")
        self.run.clicked.connect(lambda: self.runner.toggle(self._stylize_job))
        watch_layers(viewer, self.content, self.style)
        self._estimator = Estimator()

    def params(self):
        from napari_partial_style.core.pipeline import JobParams
        from napari_partial_style.core.style.gatys import StyleParams

        style = StyleParams(steps=self.steps.value, content_weight=self.content_weight.value,
                            style_weight=self.style_weight.value, tv_weight=self.tv_weight.value,
                            preview_every=self.preview_every.value)
        return JobParams(size=self.size.value or None, style_size=self.style_size.value or None,
                         device=self.device.value, style=style, score=False)

    def _inputs(self):
        from napari_partial_style.core.errors import InputError
        from napari_partial_style.core.images import as_source_image

        content, style = self.content.value, self.style.value
        if content is None or style is None:
            raise InputError("choose a content layer and a style layer (open a style image first).")
        if content is style:
            raise InputError(f"content and style are the same layer ({content.name}); choose a style image.")
        content_data, sliced = current_slice(self.viewer, content)
        if sliced:
            from napari.utils.notifications import show_info

            show_info(f"{content.name} is a stack: stylizing the current 2D slice.")
        return (content, as_source_image(content_data, name=content.name),
                as_source_image(current_slice(self.viewer, style)[0], name=style.name))

    def _stylize_job(self):
        """The job the Run button starts, and what shows its result; bad input raises here."""
        layer, content, style = self._inputs()
        params = self.params()
        self.estimate.value = ""

        def job():
            from napari_partial_style.core.io import weights
            from napari_partial_style.core.device import get_device, working_size
            from napari_partial_style.core.pipeline import stylize_stage

            device = get_device(params.device)
            size = working_size(params.size, device, content.shape)
            found = yield from weights.ensure_steps([weights.VGG19], explicit_weights(["vgg19"]))
            stylized = yield from stylize_stage(content, style, params, device, found["vgg19"], size)
            return stylized, size, str(device)

        name = f"{layer.name} stylized"
        before = self.viewer.layers[name] if name in self.viewer.layers else None
        kept = None if before is None else (before.data, dict(before.metadata))

        def undo_previews() -> None:
            """A cancelled or failed run leaves no half-stylized preview for Composite to pick."""
            self.estimate.value = ""
            if name not in self.viewer.layers:
                return
            if kept is None:
                self.viewer.layers.remove(name)
            else:
                self.viewer.layers[name].data, self.viewer.layers[name].metadata = kept

        return (job, lambda result: self._show(layer, content, params, *result),
                lambda event: self._on_event(layer, content, event), undo_previews)

    def _on_event(self, layer, content, event) -> None:
        from napari_partial_style.core.images import from_float_rgb, resize_rgb

        if event.stage == "load" and event.step == event.total:
            self._estimator = Estimator()
            self._estimator.started = time.perf_counter()
        if event.stage == "style" and (estimate := self._estimator.update(event, time.perf_counter())):
            self.estimate.value = f"estimated {estimate[0]:.0f} s for {event.total} steps"
        if event.preview is not None:
            preview = from_float_rgb(resize_rgb(event.preview, content.shape), content.dtype)
            put_image(self.viewer, f"{layer.name} stylized", preview, layer, {"preview_step": event.step}, rgb=True)

    def _show(self, layer, content, params, stylized, size, device) -> None:
        from dataclasses import asdict

        from napari_partial_style.core.images import from_float_rgb

        meta = {"stage": "stylize", "parameters": asdict(params), "size": size, "device": device, "style_layer": self.style.value.name
                if self.style.value is not None else None}
        put_image(self.viewer, f"{layer.name} stylized", from_float_rgb(stylized, content.dtype), layer, meta, rgb=True)
        self.estimate.value = ""
        self.status.value = f"Stylize: done ({size} px on {device})"
