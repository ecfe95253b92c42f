"""Stylize: style transfer of a content layer with a style layer, previewed as it runs."""

from __future__ import annotations

from dataclasses import asdict

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
    SpinBox,
)

from napari_partial_style._napari import layer_names as names
from napari_partial_style._napari.common import (
    ALL_SLICES,
    CUSTOM,
    frame_word,
    keep_finished,
    layer_choices,
    layer_kind,
    mark_used,
    over_slices,
    pick_content,
    pick_style,
    session,
    show_defaults,
    shown,
    slices_box,
    source_image,
    stack_sources,
    watch_layers,
)
from napari_partial_style._napari.forms import ParamForm
from napari_partial_style._napari.jobs import JobProgress, JobRunner
from napari_partial_style._napari.label_styles import LabelStyles
from napari_partial_style._napari.layers import (
    COVERED_KEY,
    PREVIEW_KEY,
    STYLE_IMAGE_KEY,
    current_slice,
    into_stack,
    over,
    put_image,
    recorded_segment_params,
    release,
    reserve_version,
    slice_index,
    slice_text,
)
from napari_partial_style._napari.preview_pacer import previews_for
from napari_partial_style.core.errors import InputError
from napari_partial_style.core.job.contact_sheet import SWEEP_SIZE
from napari_partial_style.core.params import JobParams
from napari_partial_style.core.progress import map_events

PARTS = (("session",), ("style",), ("composite", "crf_edge"))  # the soft edge shapes masked's guides too
DEFAULT_SWEEP = "1e5, 1e6, 1e7"


def _rgb_like(source, like: np.ndarray) -> np.ndarray:
    """A slice's own pixels in the stylized slices' form (RGB, their dtype): one not reached yet."""
    native = source.native
    if native.ndim == 2:
        native = np.repeat(native[..., None], like.shape[-1], axis=-1)
    return native.astype(like.dtype, copy=False)


def _as_is(source):
    """A stage with no steps whose result is the slice unchanged."""
    yield from ()
    return source.native.copy()


class StylizeWidget(Container):
    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        self.viewer = viewer
        self._make_inputs(viewer)
        self._make_controls()
        super().__init__(
            widgets=[
                self.content,
                self.style,
                self.style_mask,
                self.pair_labels,
                self.blend,
                self.blend_share,
                self.labels_layer,
                self.label_styles,
                self.slices,
                self.chain,
                self.form,
                self.preview_every,
                self.run,
                self.sweep_weights,
                self.sweep,
                self.progress,
                self.status,
            ]
        )
        self._connect(viewer)

    def _make_inputs(self, viewer) -> None:
        """The layer boxes: content, style (its mask, pairing, blend) and region."""
        self.content = ComboBox(label="content", choices=layer_choices(viewer, "image"))
        self.style = ComboBox(
            label="style",
            choices=layer_choices(viewer, "image"),
            nullable=True,
            value=None,
            tooltip="the image whose texture the content takes on (open one, e.g. File › Open Sample)",
        )
        self.labels_layer = ComboBox(
            label="region",
            choices=layer_choices(viewer, "labels"),
            nullable=True,
            value=None,
            tooltip="the labels whose nonzero pixels take the style (`<content> labels`, "
            "picked by name); empty: the whole frame",
        )
        self.style_mask = ComboBox(
            label="style mask",
            choices=layer_choices(viewer, "labels"),
            nullable=True,
            value=None,
            tooltip="labels painted over the style image: its statistics come "
            "from their nonzero pixels only (the metal, not the hands "
            "holding it); `<style> labels` is picked by name; empty: the "
            "whole style image, or the `style region` option",
        )
        self.pair_labels = CheckBox(
            text="pair its label values with the region's",
            value=False,
            visible=False,
            tooltip="each value N of the region's labels takes its style from the style mask's pixels "
            "labelled N (the cup's body from the stone, its handle from the metal of one photo; "
            "command line: --style-labels MASK)",
        )
        self.blend = ComboBox(
            label="blend with",
            choices=layer_choices(viewer, "image"),
            nullable=True,
            value=None,
            tooltip="a second style image: the region's Gram targets are the two styles' mixed "
            "by the share below (command line: --style a --style b --style-blend W W)",
        )
        self.blend_share = FloatSpinBox(
            label="its share",
            value=0.3,
            min=0.05,
            max=0.95,
            step=0.05,
            tooltip="the second style's share of the blend; the first takes the rest",
        )
        self.label_styles = LabelStyles(viewer, self.style)
        self.slices = slices_box()
        self.chain = CheckBox(
            text="start each slice from the previous result",
            value=True,
            visible=False,
            tooltip="for a clip: each frame starts from the previous result carried along the optical flow and "
            "is held to it by the temporal weight, so the texture moves with the object instead of flickering; "
            "unticked: each slice stylized on its own",
        )

    def _make_controls(self) -> None:
        """The settings, the buttons and where progress shows."""
        self.form = ParamForm(JobParams, PARTS, CUSTOM)
        show_defaults(self.form)
        self.preview_every = SpinBox(
            label="preview every",
            value=10,
            min=0,
            max=1000,
            tooltip="steps between previews in the stylized layer; 0: none (display only, not a job parameter)",
        )
        self.run = PushButton(text="Stylize")
        self.sweep_weights = LineEdit(
            label="sweep weights",
            value=DEFAULT_SWEEP,
            tooltip="style weights to compare (space or comma separated); Preview sweep "
            f"stylizes the region at each, at most {SWEEP_SIZE} px, side by side "
            "(command line: sweep CONTENT STYLE --style-weight W...)",
        )
        self.sweep = PushButton(text="Preview sweep")
        self.status = Label(value="")
        self.progress = JobProgress()

    def _connect(self, viewer) -> None:
        """Buttons to jobs, boxes to each other, and the viewer's layer events to the picks."""
        self.runner = JobRunner(self.run, self.status, "Stylize", self.progress)
        self.run.clicked.connect(lambda: self.runner.toggle(self._stylize_job))
        self.blend_share.visible = False  # only with a second style
        self.blend.changed.connect(lambda value: setattr(self.blend_share, "visible", value is not None))
        self.style_mask.changed.connect(lambda value: setattr(self.pair_labels, "visible", value is not None))
        self.sweep_runner = JobRunner(self.sweep, self.status, "Sweep", self.progress)
        self.sweep.clicked.connect(lambda: self.sweep_runner.toggle(self._sweep_job))
        watch_layers(
            viewer, self.content, self.style, self.style_mask, self.blend, self.labels_layer, self.label_styles
        )
        self.style.changed.connect(lambda: self._pick_labels_of(self.style.value, self.style_mask, changed=True))
        self.labels_layer.changed.connect(self.label_styles.follow)
        pick_content(viewer, self.content)
        pick_style(viewer, self.style, self.content.value)
        viewer.layers.events.inserted.connect(self._pick_inputs)
        self.content.changed.connect(self._content_changed)
        viewer.layers.events.inserted.connect(self._pick_labels)
        viewer.layers.events.inserted.connect(self._pick_style_mask)
        self.slices.changed.connect(self._slices_shown)
        viewer.dims.events.axis_labels.connect(self._slices_shown)
        self._content_changed()
        self.label_styles.follow(self.labels_layer.value)
        self._pick_style_mask()
        self._label_style_names: dict[str, str] = {}

    def _pick_inputs(self, _event=None) -> None:
        """A photo opened after a texture becomes the content; an empty style box takes a texture."""
        pick_content(self.viewer, self.content, keep=True)
        pick_style(self.viewer, self.style, self.content.value)

    def _pick_labels(self, _event=None) -> None:
        """The newest `<content> labels`, when there is one."""
        self._pick_labels_of(self.content.value, self.labels_layer)

    def _pick_style_mask(self, _event=None) -> None:
        """The newest `<style> labels` (painted on the style, or Segment run on it), when there is one."""
        self._pick_labels_of(self.style.value, self.style_mask)

    def _pick_labels_of(self, layer, box: ComboBox, changed: bool = False) -> None:
        """The newest `<layer> labels` in `box`; when `layer` itself `changed`, an earlier pick
        that is not its labels is dropped (another image's labels would not fit it)."""
        box.reset_choices()
        base = None if layer is None else names.base_name(layer.name)
        found = [
            lyr
            for lyr in self.viewer.layers
            if base is not None and isinstance(lyr, layer_kind("labels")) and names.is_labels(base, lyr.name)
        ]
        if found:
            box.value = found[-1]
        elif changed and box.value is not None:
            box.value = None

    def _style_source(self, layer, what: str):
        """The style layer's image; the style box's layer with the style mask's region, if one is chosen."""
        from napari_partial_style.core.style.regions import with_style_region

        image = source_image(self.viewer, layer, what)
        mask = self.style_mask.value
        if mask is None or layer is not self.style.value:
            return image
        return with_style_region(image, current_slice(self.viewer, mask)[0], f"style mask {mask.name}")

    def _style_input(self, shape, params: JobParams, style, styles, plane=None):
        """What Session.stylize takes for this slice: the style and the labels' region (None: the
        whole frame), or with a style per label value a list of regions and no mask."""
        from napari_partial_style.api import Session
        from napari_partial_style.core.job.stages import regions_by_label

        labels = self.labels_layer.value
        if labels is None:
            return self._blended(style, None), None
        data = np.asarray(current_slice(self.viewer, labels)[0] if plane is None else plane)
        if styles is None:
            mask = Session.target_mask(data, shape, params.composite, labels.name, allow_empty=plane is not None)
            return self._blended(style, mask), mask
        regions = regions_by_label(styles, data, shape, labels.name)
        if not regions and plane is None:
            raise InputError(f"no pixel of {labels.name} has a value that a style is chosen for; paint one.")
        return regions, None

    def _blended(self, style, mask):
        """The style, or with `blend with` chosen, one region whose targets mix the two styles."""
        from napari_partial_style.api import StyleRegion

        if self.blend.value is None:
            return style
        second = source_image(self.viewer, self.blend.value, "the style to blend with")
        share = self.blend_share.value
        return [StyleRegion(style, mask, weight=1.0 - share, blend=((second, share),))]

    def _label_styles(self) -> dict[int | str, object] | None:
        """{label value: style image} when each value has its own style (or its own part of the
        style image, paired through the style mask), else None."""
        if shown(self.pair_labels) and self.pair_labels.value:
            return self._paired_styles()
        chosen = self.label_styles.choices()
        self._label_style_names = {str(v): s.name for v, s in (chosen or {}).items() if s is not None}
        if chosen is None:
            return None
        return {
            value: self._style_source(layer, f"the style for label {value}")
            for value, layer in chosen.items()
            if layer is not None
        }

    def _paired_styles(self) -> dict[str, object]:
        """Each value of the region's labels with the style mask's pixels of the same value."""
        from napari_partial_style.core.style.regions import styles_by_label

        labels, mask = self.labels_layer.value, self.style_mask.value
        if labels is None:
            raise InputError("pairing label values needs the region's labels: choose them in 'region'.")
        if self.label_styles.choices() is not None or self.blend.value is not None:
            raise InputError(
                "pairing label values gives each value its part of one style image: untick 'a style "
                "per label value' and empty 'blend with'."
            )
        style = source_image(self.viewer, self.style.value, "a style layer")
        values = self.params().composite.label_values  # only the values being changed need style pixels
        paired = styles_by_label(
            style, current_slice(self.viewer, mask)[0], np.asarray(labels.data), mask.name, values, labels.name
        )
        self._label_style_names = {value: f"{self.style.value.name} ({mask.name} {value})" for value in paired}
        return paired

    def _segment_params(self):
        """How `style region` segments the style image: as the region's labels were made (their
        recorded settings and classifier), else the defaults."""
        from napari_partial_style.core.params import SegmentParams

        labels = self.labels_layer.value
        return SegmentParams() if labels is None else recorded_segment_params(labels)

    def _content_changed(self) -> None:
        self._pick_labels_of(self.content.value, self.labels_layer, changed=True)
        pick_style(self.viewer, self.style, self.content.value)
        self._slices_shown()

    def _slices_shown(self, _event=None) -> None:
        self.slices.name_for(self.viewer, self.content.value)
        self.chain.text = (
            f"start each {frame_word(self.viewer, self.content.value)} from the previous result (no flicker)"
        )
        self.chain.visible = shown(self.slices) and self.slices.value == ALL_SLICES

    def params(self) -> JobParams:
        return self.form.params()

    def _inputs(self):
        content, style = self.content.value, self.style.value
        per_value = self.label_styles.choices()
        styles = [style] if per_value is None else [s for s in per_value.values() if s is not None]
        if content is None or not styles or None in styles:
            raise InputError("choose a content layer and a style layer (open a style image first).")
        if content in styles:
            raise InputError(f"content and style are the same layer ({content.name}); choose a style image.")
        if self.blend.value is not None and per_value is not None:
            raise InputError("blend with is for one style; untick 'a style per label value' or empty 'blend with'.")
        every_slice = self.slices.every_slice(content)  # its job reads the slices itself
        return (
            content,
            None if every_slice else source_image(self.viewer, content, "a content layer"),
            None if style is None else self._style_source(style, "a style layer"),
        )

    def _stylize_job(self):
        """The job the Run button starts, and what shows its result; bad input raises here. The
        content's document (shared with the other docks and Run all) stylizes its labels' region
        with the style chosen here; the same settings again give the current result at once."""
        from napari_partial_style._napari.job_view import computed, edit

        layer, content, style = self._inputs()
        mark_used(content=layer, style=self.style.value)
        styles = self._label_styles()
        params = self.params()
        job_session = session(params.session)
        preview_every = self.preview_every.value
        if self.slices.every_slice(layer):
            return self._stack_job(layer, style, styles, params, job_session)

        doc = edit(
            self.viewer,
            layer,
            self.form.values(),
            style=self._style_spec(style, styles),
            labels_layer=self.labels_layer.value,
        ).document
        index = slice_index(self.viewer, layer)
        earlier = names.newest_version(names.role(layer.name, names.STYLIZED), [lyr.name for lyr in self.viewer.layers])
        name = reserve_version(self.viewer, names.role(layer.name, names.STYLIZED))  # released by show or undo
        # the labels chosen here, as they are; the pipeline checks the input first thing in the worker
        # (its region, a pass over every pixel, stalled the viewer 0.1-1 s at 24 Mpx on the GUI thread)
        given = ("segment",) if "segment" in doc.results else ()

        compute = computed(
            doc,
            job_session,
            "stylize",
            given=given,
            preview_every=preview_every,
            then=lambda doc: doc.results["stylize"],
        )

        def job():
            stylized = (yield from map_events(compute, previews_for(content, full_size=index is not None))).value
            return stylized.image, job_session.size_for(content.shape), str(job_session.device), stylized.covered

        def undo_previews() -> None:
            """A cancelled or failed run leaves no half-stylized preview for Composite to pick."""
            release(self.viewer, name)
            if name in self.viewer.layers:
                self.viewer.layers.remove(name)

        single = style.native if styles is None and self.blend.value is None else None  # the bundle's style

        def show(result) -> None:
            release(self.viewer, name)
            stylized, size, device, covered = result
            covered = covered if index is None else None  # one slice of a stack: not the layer's area
            self._show(layer, name, params, stylized, size, device, index, earlier, single, covered)

        return (job, show, lambda event: self._on_event(layer, name, event, index, earlier), undo_previews)

    def _style_spec(self, style, styles):
        """The document's style: one image, the blend chosen, or a style per label value."""
        if styles is not None:
            return styles
        if self.blend.value is None:
            return style
        share = self.blend_share.value
        return [(style, 1.0 - share), (source_image(self.viewer, self.blend.value, "the style to blend with"), share)]

    def _sweep_job(self):
        """The job Preview sweep starts: the region at each weight, side by side in one layer."""
        layer, content, style = self._inputs()
        if self.label_styles.choices() is not None:
            raise InputError("the sweep takes one style; untick 'a style per label value'.")
        text = (self.sweep_weights.value or "").replace(",", " ").split()
        try:
            weights = [float(item) for item in text]
        except ValueError:
            raise InputError(
                f"sweep weights: {self.sweep_weights.value!r} is not a list of numbers (e.g. {DEFAULT_SWEEP})."
            ) from None
        from dataclasses import replace

        params = self.params()
        params = replace(params, score=replace(params.score, enabled=False))  # a quick look: no scores
        _, mask = self._style_input(content.shape, params, style, None)
        labels = np.ones(content.shape, np.uint8) if mask is None else mask.astype(np.uint8)  # no labels: the frame
        style = self._style_spec(style, None)
        job_session = session(params.session)
        name = names.role(layer.name, names.SWEEP)

        def job():
            return (yield from job_session.sweep(content, style, weights, params, labels)).sheet

        def show(sheet) -> None:
            put_image(self.viewer, name, sheet, None, {"stage": "sweep", "style_weights": weights}, rgb=True)
            self.status.value = (
                f"Sweep: done — {len(weights)} weights side by side in '{name}'; set the one you "
                "like as the style weight and Stylize"
            )

        return job, show

    def _stack_job(self, layer, style, styles, params: JobParams, job_session):
        """Every slice stylized in turn (no previews), stacked with the content's axes: with `chain`,
        as a clip (`stylize_clip`: each frame from the previous result carried along the motion),
        else each slice on its own."""
        from napari_partial_style._napari.layers import planes
        from napari_partial_style._napari.stylize_clip import clip_frames

        leading, sources = stack_sources(layer)
        word = frame_word(self.viewer, layer)
        labels = self.labels_layer.value
        label_planes = [None] * len(sources) if labels is None else planes(labels)[1]
        if len(label_planes) != len(sources):
            raise InputError(
                f"{layer.name} has {len(sources)} {word}s but {labels.name} has {len(label_planes)}; "
                f"choose labels with one plane per {word} (Segment on all {word}s)."
            )
        done: list[np.ndarray] = []
        if self.chain.value:
            if len(leading) != 1:
                raise InputError(
                    f"{layer.name} has {len(leading)} stack axes {tuple(leading)}; starting each {word} from the "
                    "previous result needs one frame axis: untick it to stylize each slice on its own."
                )
            run = clip_frames(sources, label_planes, self._style_spec(style, styles), params, job_session, word, done)
        else:
            inputs = [
                (self._blended(style, None), None)
                if plane is None
                else self._style_input(source.shape, params, style, styles, plane)
                for source, plane in zip(sources, label_planes)
            ]
            segment = self._segment_params()

            def stage_of(i, source, _done):
                style_input, mask = inputs[i]
                if (mask is not None and not mask.any()) or (isinstance(style_input, list) and not style_input):
                    return _as_is(source)  # nothing to change on this slice
                return job_session.stylize(source, style_input, params.style, mask, segment=segment)

            run = over_slices(sources, stage_of, done, word)
        size, device = job_session.size_for(sources[0].shape), str(job_session.device)

        def stacked() -> np.ndarray:
            """The slices stylized so far, then the content's own (a cancelled run's rest)."""
            whole = done + [_rgb_like(source, done[0]) for source in sources[len(done) :]]
            return np.stack(whole).reshape(*leading, *done[0].shape)

        def job():
            yield from run
            return stacked(), size, device

        name = reserve_version(self.viewer, names.role(layer.name, names.STYLIZED))  # released by show or abort

        def show(result) -> None:
            release(self.viewer, name)
            self._show(layer, name, params, *result)

        def partial() -> str | None:
            release(self.viewer, name)
            if not done:
                return None
            self._show(layer, name, params, stacked(), size, device)
            return f"{len(done)} of {len(sources)} {word}s stylized (the rest show the content as it is)"

        return (job, show, lambda event: self._on_event(layer, name, event), keep_finished(self.runner, partial))

    def _on_event(
        self, layer, name: str, event, index: tuple[int, ...] | None = None, earlier: str | None = None
    ) -> None:
        """A preview into the run's layer, at its working size over a 2D image (`previews_for`)."""
        if event.preview is not None:
            put_image(
                self.viewer,
                name,
                self._on_its_slice(layer, name, event.preview, index, earlier),
                layer,
                {PREVIEW_KEY: event.step},
                rgb=True,
                **(over(layer, event.preview.shape[:2]) if index is None else {}),
            )

    def _on_its_slice(self, layer, name: str, image: np.ndarray, index, earlier: str | None) -> np.ndarray:
        """One slice's result in a stack of the content's shape: the other slices as the run's
        previews or the previous result left them, else the content's own."""
        previous = name if name in self.viewer.layers else earlier
        return into_stack(self.viewer, layer, index, image, previous, content_elsewhere=True)

    def _show(
        self,
        layer,
        name: str,
        params: JobParams,
        stylized,
        size,
        device,
        index: tuple[int, ...] | None = None,
        earlier: str | None = None,
        style: np.ndarray | None = None,
        covered: np.ndarray | None = None,
    ) -> None:
        """The result as `name`; `style` (the one style image, when there is one) and the area it
        may differ from the content in (for Composite to tell labels painted beyond it) beside it."""
        meta = {
            "stage": "stylize",
            "parameters": {"session": asdict(params.session), "style": asdict(params.style)},
            "size": size,
            "device": device,
            "style_layer": self.style.value.name if self.style.value is not None else None,
            "style_mask": self.style_mask.value.name if self.style_mask.value is not None else None,
            "label_styles": self._label_style_names,
        }
        if index is not None:
            meta["slice"] = list(index)
        put_image(
            self.viewer,
            name,
            self._on_its_slice(layer, name, stylized, index, earlier),
            layer,
            meta,
            {STYLE_IMAGE_KEY: style, COVERED_KEY: covered},
            rgb=True,
        )
        h, w = stylized.shape[-3:-1]
        self.status.value = f"Stylize: done{slice_text(index)} ({w}×{h} px, from {size} px, on {device})"
