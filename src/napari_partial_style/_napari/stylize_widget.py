"""Stylize: style transfer of a content layer with a style layer, previewed as it runs."""

from __future__ import annotations

import time
from dataclasses import asdict

import napari
import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, Label, PushButton, SpinBox

from napari_partial_style._napari import layer_names as names
from napari_partial_style._napari.common import (
    ALL_SLICES,
    CUSTOM,
    is_stack,
    layer_choices,
    layer_kind,
    over_slices,
    pick_active,
    session,
    shown,
    slices_box,
    source_image,
    stack_sources,
    watch_layers,
)
from napari_partial_style._napari.forms import ParamForm
from napari_partial_style._napari.jobs import JobRunner
from napari_partial_style._napari.layers import current_slice, put_image
from napari_partial_style.core.errors import InputError
from napari_partial_style.core.params import JobParams
from napari_partial_style.core.progress import Estimator

PARTS = (("session",), ("style",))


def _as_is(source):
    """A stage with no steps whose result is the slice unchanged."""
    yield from ()
    return source.native.copy()


class StylizeWidget(Container):
    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        self.viewer = viewer
        self.content = ComboBox(label="content", choices=layer_choices(viewer, "image"))
        self.style = ComboBox(label="style", choices=layer_choices(viewer, "image"), nullable=True, value=None,
                              tooltip="the image whose texture the content takes on (open one, e.g. File › Open Sample)")
        self.labels_layer = ComboBox(label="region", choices=layer_choices(viewer, "labels"), nullable=True, value=None,
                                     tooltip="the labels whose nonzero pixels take the style (`<content> labels`, "
                                             "picked by name); empty: the whole frame")
        self.slices = slices_box()
        self.chain = CheckBox(text="start each slice from the previous result", value=False, visible=False,
                              tooltip="for a time series: frames change smoothly instead of flickering")
        self.form = ParamForm(JobParams, PARTS, CUSTOM)
        self.preview_every = SpinBox(label="preview every", value=10, min=0, max=1000,
                                     tooltip="steps between previews in the stylized layer; 0: none (display only, "
                                             "not a job parameter)")
        self.estimate = Label(value="")
        self.run = PushButton(text="Stylize")
        self.status = Label(value="")
        super().__init__(widgets=[self.content, self.style, self.labels_layer, self.slices, self.chain, self.form, self.preview_every,
                                  self.run, self.estimate, self.status])
        self.runner = JobRunner(self.run, self.status, "Stylize")
        self.run.clicked.connect(lambda: self.runner.toggle(self._stylize_job))
        watch_layers(viewer, self.content, self.style, self.labels_layer)
        pick_active(viewer, self.content)
        self.content.changed.connect(self._content_changed)
        viewer.layers.events.inserted.connect(self._pick_labels)
        self.slices.changed.connect(self._content_changed)
        self._content_changed()
        self._estimator = Estimator()

    def _pick_labels(self, _event=None) -> None:
        """The newest `<content> labels`, when there is one."""
        content = self.content.value
        if content is None:
            return
        self.labels_layer.reset_choices()
        base = names.base_name(content.name)
        found = [lyr for lyr in self.viewer.layers if isinstance(lyr, layer_kind("labels")) and names.is_labels(base, lyr.name)]
        if found:
            self.labels_layer.value = found[-1]

    def _mask(self, shape, params: JobParams, plane=None):
        """The region from the labels layer (this slice's plane), or None: the whole frame."""
        from napari_partial_style.api import Session

        labels = self.labels_layer.value
        if labels is None:
            return None
        data = np.asarray(current_slice(self.viewer, labels)[0] if plane is None else plane)
        return Session.target_mask(data, shape, params.composite, labels.name, allow_empty=plane is not None)

    def _content_changed(self) -> None:
        self._pick_labels()
        self.slices.visible = is_stack(self.content.value)
        self.chain.visible = shown(self.slices) and self.slices.value == ALL_SLICES

    def params(self) -> JobParams:
        return self.form.params()

    def _inputs(self):
        content, style = self.content.value, self.style.value
        if content is None or style is None:
            raise InputError("choose a content layer and a style layer (open a style image first).")
        if content is style:
            raise InputError(f"content and style are the same layer ({content.name}); choose a style image.")
        return content, source_image(self.viewer, content, "a content layer"), source_image(self.viewer, style, "a style layer")

    def _stylize_job(self):
        """The job the Run button starts, and what shows its result; bad input raises here."""
        layer, content, style = self._inputs()
        params = self.params()
        job_session = session(params.session)
        preview_every = self.preview_every.value
        self.estimate.value = ""
        if is_stack(layer) and self.slices.value == ALL_SLICES:
            return self._stack_job(layer, style, params, job_session)

        mask = self._mask(content.shape, params)

        def job():
            stylized = yield from job_session.stylize(content, style, params.style, mask, preview_every=preview_every)
            return stylized, job_session.size_for(content.shape), str(job_session.device)

        name = names.role(layer.name, names.STYLIZED)
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

    def _stack_job(self, layer, style, params: JobParams, job_session):
        """Every slice stylized in turn (no previews), stacked with the content's axes."""
        from napari_partial_style._napari.layers import planes

        leading, sources = stack_sources(layer)
        chain = self.chain.value
        labels = self.labels_layer.value
        label_planes = [None] * len(sources) if labels is None else planes(labels)[1]
        if len(label_planes) != len(sources):
            raise InputError(f"{layer.name} has {len(sources)} slices but {labels.name} has {len(label_planes)}; "
                             "choose labels with one plane per slice (Segment all slices).")
        masks = [None if plane is None else self._mask(source.shape, params, plane)
                 for source, plane in zip(sources, label_planes)]

        def stage_of(i, source, done):
            if masks[i] is not None and not masks[i].any():  # nothing to change on this slice
                return _as_is(source)
            return job_session.stylize(source, style, params.style, masks[i],
                                       start=done[-1] if chain and done else None)

        def job():
            done = yield from over_slices(sources, stage_of)
            stacked = np.stack(done).reshape(*leading, *done[0].shape)
            return stacked, job_session.size_for(sources[0].shape), str(job_session.device)

        return (job, lambda result: self._show(layer, sources[0], params, *result),
                lambda event: self._on_event(layer, sources[0], event))

    def _on_event(self, layer, content, event) -> None:
        from napari_partial_style.core.images import from_float_rgb, resize_rgb

        if event.stage.endswith("load") and event.step == event.total:
            self._estimator = Estimator()
            self._estimator.started = time.perf_counter()
        if event.stage.endswith("style") and (estimate := self._estimator.update(event, time.perf_counter())):
            self.estimate.value = f"estimated {estimate[0]:.0f} s for {event.total} steps"
        if event.preview is not None:
            preview = from_float_rgb(resize_rgb(event.preview, content.shape), content.dtype)
            put_image(self.viewer, names.role(layer.name, names.STYLIZED), preview, layer,
                      {"preview_step": event.step}, rgb=True)

    def _show(self, layer, content, params: JobParams, stylized, size, device) -> None:
        meta = {"stage": "stylize", "parameters": {"session": asdict(params.session), "style": asdict(params.style)},
                "size": size, "device": device,
                "style_layer": self.style.value.name if self.style.value is not None else None}
        put_image(self.viewer, names.role(layer.name, names.STYLIZED), stylized, layer, meta, rgb=True)
        self.estimate.value = ""
        self.status.value = f"Stylize: done ({size} px on {device})"

