"""Pieces shared by the dock widgets: layer lists, the custom option widgets, the session."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, Label, LineEdit, Select
from qtpy.QtCore import Qt

from napari_partial_style._napari.settings import default_device, prefer_our_reader, weights_folder
from napari_partial_style.core.errors import InputError
from napari_partial_style.core.options import Leaf

MAX_LISTED = 200
LISTED_ROWS = 8
CHECKPOINT = "checkpoint file"


def layer_kind(kind: str) -> type:
    """napari's layer class for "image" or "labels" (public API, unlike `layer._type_string`)."""
    from napari.layers import Image, Labels

    return {"image": Image, "labels": Labels}[kind]


def layer_choices(viewer, kind: str):
    """A `choices` callable listing the viewer's layers of one kind (image, labels)."""
    cls = layer_kind(kind)

    def choices(_widget=None):
        return [(layer.name, layer) for layer in viewer.layers if isinstance(layer, cls)]

    return choices


# Layer metadata: a sample says what it is ("photo" or "texture"); a job records, per role, when it
# last took the layer as its content or style, so a dock opened later starts on the same pair.
KIND_KEY, TEXTURE = "partial_style_sample", "texture"
USED_KEY = "partial_style_used_as"
_uses = itertools.count(1)


def mark_used(**layers: Any) -> None:
    """Record that a job starts on these layers (`content=..., style=...`)."""
    for role, layer in layers.items():
        if layer is not None:
            layer.metadata[USED_KEY] = {**layer.metadata.get(USED_KEY, {}), role: next(_uses)}


def _inputs(viewer) -> list[Any]:
    """Image layers a job can start from (not its own stylized, composite, saliency, ... layers)."""
    from napari_partial_style._napari.layer_names import is_derived

    return [layer for layer in viewer.layers if isinstance(layer, layer_kind("image")) and not is_derived(layer.name)]


def _last_used(layers: list[Any], role: str) -> Any:
    used = [layer for layer in layers if role in layer.metadata.get(USED_KEY, {})]
    return max(used, key=lambda layer: layer.metadata[USED_KEY][role], default=None)


def is_texture(layer: Any) -> bool:
    return layer.metadata.get(KIND_KEY) == TEXTURE


def preferred_content(viewer) -> Any:
    """The image a job last took as its content; else the selected image unless it is a texture
    sample; else the newest image that is not a texture; else None."""
    images = _inputs(viewer)
    active = viewer.layers.selection.active
    photos = [layer for layer in images if not is_texture(layer)]
    return _last_used(images, "content") or (active if active in photos else None) or (photos[-1] if photos else None)


def preferred_style(viewer, content: Any) -> Any:
    """The image a job last took as its style; else the newest texture sample; else the one other
    image there is; else None (the user chooses)."""
    others = [layer for layer in _inputs(viewer) if layer is not content]
    textures = [layer for layer in others if is_texture(layer)]
    return (
        _last_used(others, "style") or (textures[-1] if textures else None) or (others[0] if len(others) == 1 else None)
    )


def pick_content(viewer, box: ComboBox, keep: bool = False) -> None:
    """Set the content box to `preferred_content` (when there is one); with `keep`, only when it
    shows nothing or a texture sample no job took as content (a photo opened after a texture)."""
    current = box.value
    if (
        keep
        and current is not None
        and not (is_texture(current) and "content" not in current.metadata.get(USED_KEY, {}))
    ):
        return
    chosen = preferred_content(viewer)
    if chosen is not None:
        box.reset_choices()
        box.value = chosen


def pick_style(viewer, box: ComboBox, content: Any) -> None:
    """Fill an empty style box with `preferred_style`; a style the user chose is kept."""
    if box.value is None or box.value is content:
        box.reset_choices()
        box.value = preferred_style(viewer, content)


def watch_layers(viewer, *widgets) -> None:
    """Refresh layer drop-downs when layers come, go or are renamed (every widget calls this
    once, so it is also where the plugin makes napari open bundles with its reader)."""
    prefer_our_reader()

    def refresh(_event=None):
        for widget in widgets:
            widget.reset_choices()

    viewer.layers.events.inserted.connect(refresh)
    viewer.layers.events.inserted.connect(lambda event: texture_under_photo(viewer, event.value))
    viewer.layers.events.removed.connect(refresh)
    viewer.layers.events.moved.connect(refresh)
    if len(viewer.layers):  # samples opened before the dock: the last texture may lie over the photo
        texture_under_photo(viewer, viewer.layers[-1])


def texture_under_photo(viewer, layer) -> None:
    """A texture sample opened after a photo sat on top of everything, the photo and its labels
    hidden under it: it opens hidden instead (it is a style to pick, not a view)."""
    from napari.utils.notifications import show_info

    if not (is_texture(layer) and layer.visible):
        return
    if any(other is not layer and not is_texture(other) for other in _inputs(viewer)):
        layer.visible = False
        show_info(f"{layer.name} opened hidden, so the photo stays in view; tick its eye to look at it.")


def device_box(leaf: Leaf) -> ComboBox:
    """Only the devices this machine has, best first; the default comes from the plugin settings.

    Listing them needs torch, whose import takes seconds: the dock opens at once with "auto",
    "cpu" and the preferred device, and the list is filled from a thread (at once if a job has
    imported torch already)."""
    import sys

    from napari_partial_style._napari.forms import tooltip
    from napari_partial_style.core.runtime.device import available_devices

    preferred = default_device()
    box = ComboBox(label=leaf.label, name=leaf.dest, tooltip=tooltip(leaf), choices=["auto", "cpu"])

    def fill(devices: list[str]) -> None:
        try:
            current = box.value
            box.choices = ["auto", *devices]
            box.value = current if current in box.choices else leaf.default
            box.changed.emit(box.value)  # what "auto" means may have changed: the placeholders follow
        except RuntimeError:  # the dock was closed before torch was ready
            pass

    if "torch" in sys.modules:
        fill(available_devices())
    else:  # a daemon thread, not a QThread: closing napari while torch loads must not abort the process
        import threading

        from qtpy.QtCore import QTimer

        if preferred not in box.choices:
            box.choices = [*box.choices, preferred]
        found: list[list[str]] = []
        threading.Thread(target=lambda: found.append(available_devices()), daemon=True, name="list devices").start()
        timer = QTimer(box.native)
        timer.setInterval(200)

        def apply() -> None:
            if found:
                timer.stop()
                fill(found[0])

        timer.timeout.connect(apply)
        timer.start()
    box.value = preferred if preferred in box.choices else leaf.default
    return box


class ClassifierPicker(Container):
    """A named classifier source, or a checkpoint file (its file box shown only when chosen)."""

    def __init__(self, leaf: Leaf) -> None:
        from napari_partial_style._napari.forms import tooltip
        from napari_partial_style.core.segment.sources import names

        self.source = ComboBox(choices=[*names(), CHECKPOINT], value=leaf.default, tooltip=tooltip(leaf))
        self.checkpoint = FileEdit(mode="r", filter="*.pt *.pth", visible=False)
        self.source.changed.connect(lambda: setattr(self.checkpoint, "visible", self.source.value == CHECKPOINT))
        super().__init__(widgets=[self.source, self.checkpoint], label=leaf.label, name=leaf.dest, labels=False)
        self.margins = (0, 0, 0, 0)

    def get(self) -> str:
        """The source's name or the checkpoint's path, with a clear error when no file is chosen."""
        if self.source.value != CHECKPOINT:
            return self.source.value
        if not self.checkpoint.value or not self.checkpoint.value.is_file():
            raise InputError("choose a classifier checkpoint file, or a named classifier such as imagenet.")
        return str(self.checkpoint.value)

    def set(self, value: str) -> None:
        if value in self.source.choices:
            self.source.value = value
        else:
            self.source.value = CHECKPOINT
            self.checkpoint.value = value

    def class_names(self) -> list[str]:
        """The classes of the chosen source ([] while no checkpoint is chosen)."""
        from napari_partial_style.core.segment.classifier import class_names

        if self.source.value == CHECKPOINT and not (self.checkpoint.value and self.checkpoint.value.is_file()):
            return []
        return class_names(self.get())


def ranked_matches(classes: list[str], text: str) -> list[str]:
    """Classes containing `text` (any case): the class itself first, then names that start with
    it, then names with a word that starts with it ("coffee mug" for "mug"), then the rest
    ("porcupine" for "cup")."""
    text = text.strip().lower()

    def rank(name: str) -> int:
        lower = name.lower()
        words = lower.replace("-", " ").replace(",", " ").split()
        return (
            0 if lower == text else 1 if lower.startswith(text) else 2 if any(w.startswith(text) for w in words) else 3
        )

    return sorted(
        (c for c in classes if text in c.lower()), key=rank
    )  # sorted is stable: the list's order within a rank


class TargetPicker(Container):
    """Every class above the threshold, or classes picked from a searchable list."""

    def __init__(self, leaf: Leaf) -> None:
        from napari_partial_style._napari.forms import tooltip

        self.above = CheckBox(text="every class above the threshold", value=not leaf.default)
        self.search = LineEdit(label="find class", tooltip="type to filter the class list", visible=False)
        self._classes: list[str] = []
        self._listed: list[str] = list(leaf.default)
        # Choices come from a callable: napari calls reset_choices() on docked widgets whenever
        # layers change, which would empty a list given once.
        self.targets = Select(choices=lambda _widget: self._listed, visible=False, tooltip=tooltip(leaf))
        self._fixed_width(self.targets)
        self.picked = Label(value="", visible=False)
        self.picked.native.setWordWrap(True)
        super().__init__(widgets=[self.above, self.search, self.targets, self.picked], label=leaf.label, name=leaf.dest)
        self.margins = (0, 0, 0, 0)
        self.search.changed.connect(self.filter)
        self.above.changed.connect(self._mode_changed)
        self.targets.changed.connect(self._show_picked)

    @staticmethod
    def _fixed_width(select: Select) -> None:
        """The class list keeps the dock's width (ImageNet's longest names would widen the dock)
        and shows LISTED_ROWS rows however many docks share the window (the docks scroll)."""
        from qtpy.QtWidgets import QAbstractScrollArea, QSizePolicy

        select.native.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustIgnored)
        select.native.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        select.native.setMinimumWidth(160)
        row = select.native.fontMetrics().height() + 4  # Qt's item padding
        select.native.setMinimumHeight(LISTED_ROWS * row + 2 * select.native.frameWidth())

    def _mode_changed(self) -> None:
        self.search.visible = self.targets.visible = not self.above.value
        self._show_picked()

    def _show_picked(self, _value=None) -> None:
        """The chosen classes in words under the list (a long list may hide them), and the one
        chosen last (a click's) scrolled into view."""
        chosen = list(self.targets.value)
        self.picked.value = f"chosen: {', '.join(chosen)}" if chosen else "chosen: none yet"
        self.picked.visible = not self.above.value
        items = self.targets.native.findItems(chosen[-1], Qt.MatchFlag.MatchExactly) if chosen else []
        if items:
            self.targets.native.scrollToItem(items[0])

    def set_classes(self, classes: list[str]) -> None:
        self._classes = list(classes)
        self.filter()

    def filter(self) -> None:
        chosen = list(self.targets.value)
        matches = ranked_matches(self._classes, self.search.value or "")[:MAX_LISTED]
        self._listed = list(dict.fromkeys([*chosen, *matches]))
        self.targets.reset_choices()
        self.targets.value = chosen

    def add(self, name: str) -> None:
        """`name` joins the chosen classes (a click picked it)."""
        self.above.value = False
        chosen = list(dict.fromkeys([*self.targets.value, name]))
        self._listed = list(dict.fromkeys([*chosen, *self._listed]))
        self.targets.reset_choices()
        self.targets.value = chosen

    def get(self) -> tuple[str, ...]:
        if self.above.value:
            return ()
        if not self.targets.value:
            raise InputError("pick at least one target class, or tick 'every class above the threshold'.")
        return tuple(self.targets.value)

    def set(self, value: tuple[str, ...]) -> None:
        self.above.value = not value
        self._listed = list(dict.fromkeys([*value, *self._listed]))
        self.targets.reset_choices()
        self.targets.value = list(value)


def show_defaults(form) -> None:
    """Boxes left empty say the value a job will use, which depends on other boxes: the working
    and result sizes on the device, the threshold on the classifier (its score kind)."""
    fields = form.fields

    def on_device(_value=None) -> None:
        from napari_partial_style.core.runtime.device import DEFAULT_RESULT_SIZE, DEFAULT_SIZE

        box = fields["session.device"]
        listed = [c for c in box.choices if c != "auto"]  # the device box's list: torch is not asked here
        kind = (listed[0] if box.value == "auto" else str(box.value)).split(":")[0]
        if "session.size" in fields:
            fields["session.size"].native.setPlaceholderText(f"auto: {DEFAULT_SIZE.get(kind, 256)} px on {kind}")
        if "style.max_size" in fields:
            most = DEFAULT_RESULT_SIZE.get(kind, DEFAULT_RESULT_SIZE["cpu"])
            fields["style.max_size"].native.setPlaceholderText(f"the content's, at most {most} px on {kind}")

    def on_classifier(_value=None) -> None:
        from napari_partial_style.core.segment.thresholds import source_default_threshold

        picker = fields["segment.classifier"]
        try:
            value = source_default_threshold(picker.get())
        except Exception:  # no checkpoint chosen yet, or an unreadable one: the Segment status says so
            return
        fields["segment.saliency.threshold"].native.setPlaceholderText(f"{value:g} (default for {picker.source.value})")

    if "session.device" in fields:
        fields["session.device"].changed.connect(on_device)
        on_device()
    if "segment.classifier" in fields and "segment.saliency.threshold" in fields:
        fields["segment.classifier"].source.changed.connect(on_classifier)
        fields["segment.classifier"].checkpoint.changed.connect(on_classifier)
        on_classifier()


CUSTOM = {"device": device_box, "classifier": ClassifierPicker, "targets": TargetPicker}


def session(params) -> Any:
    """The API session for a job's session options, with the plugin settings' weights folder."""
    from napari_partial_style.api import Session

    return Session(params, weights_folder=weights_folder())


def source_image(viewer, layer, what: str) -> Any:
    """The layer's current 2D slice as a SourceImage (with a note when it is a slice of a stack)."""
    from napari_partial_style._napari.layers import current_slice
    from napari_partial_style.core.images import as_source_image

    if layer is None:
        raise InputError(f"open or choose {what} first.")
    refuse_small_rgb_read_as_stack(layer)
    data, sliced = current_slice(viewer, layer)
    if sliced:
        from napari.utils.notifications import show_info

        show_info(f"{layer.name} is a stack: using the current 2D slice.")
    return as_source_image(data, name=layer.name)


THIS_SLICE, ALL_SLICES = "this slice", "all slices"
TIME_AXES = {"t", "time", "frame", "frames"}  # napari axis labels that make a stack a clip


class SlicesBox(ComboBox):
    """For a stack (3D or a time series): work on the slice shown, or on every slice, each slice's
    outputs stacked into one layer with the input's axes. Shown only when the input is a stack; its
    words follow the stack ("frame" for a clip: `name_for`), its values are THIS_SLICE and ALL_SLICES.
    The choices come from a callable: napari resets docked widgets' choices whenever layers change,
    which would bring a fixed list's words back."""

    def __init__(self) -> None:
        self.word = "slice"
        super().__init__(label="slices", choices=self._choices, value=THIS_SLICE, visible=False)
        self._describe()

    def _choices(self, _widget=None) -> list[tuple[str, str]]:
        return [(f"this {self.word}", THIS_SLICE), (f"all {self.word}s", ALL_SLICES)]

    def every_slice(self, layer) -> bool:
        """Whether a job on `layer` runs on all its slices: it is a stack and all were chosen."""
        return is_stack(layer) and self.value == ALL_SLICES

    def _describe(self) -> None:
        self.label = f"{self.word}s"
        self.tooltip = (
            f"the {self.word} shown, or every {self.word} of the stack, one after the other "
            "(outputs keep the stack's axes)"
        )

    def name_for(self, viewer, layer) -> None:
        """Shown only for a stack, its choices saying "frame" for a clip, "slice" otherwise."""
        word = frame_word(viewer, layer)
        if word != self.word:
            value, self.word = self.value, word
            self.reset_choices()
            self.value = value
            self._describe()
        self.visible = is_stack(layer)


def slices_box() -> SlicesBox:
    return SlicesBox()


def frame_word(viewer, layer) -> str:
    """ "frame" when the layer's first stack axis is time (its slider is labelled t, time or frame),
    else "slice"."""
    if not is_stack(layer):
        return "slice"
    labels = viewer.dims.axis_labels
    first = len(labels) - layer.ndim
    return "frame" if 0 <= first < len(labels) and str(labels[first]).lower() in TIME_AXES else "slice"


def shown(widget) -> bool:
    """Whether a widget is set to be shown (magicgui's `visible` reads False while the dock is hidden)."""
    return not widget.native.isHidden()


NAPARI_RGB_MIN_SIDE = 30  # napari's guess_rgb: an H×W×3 image with a side up to this is a stack


def refuse_small_rgb_read_as_stack(layer) -> None:
    """napari opens an RGB image with a side of 30 px or less as a stack of H slices of W×3, so a
    20×20 photo would be called "3×20 px": name what it really is instead."""
    from napari_partial_style.core.images import MIN_SIDE

    shape = layer.data.shape
    if (
        getattr(layer, "rgb", True)
        or len(shape) != 3
        or shape[-1] not in (3, 4)
        or min(shape[:2]) > NAPARI_RGB_MIN_SIDE
    ):
        return
    raise InputError(
        f"{layer.name} is a {shape[1]}×{shape[0]} px RGB image (napari shows it as a stack of "
        f"{shape[0]} slices, as it does when a side is {NAPARI_RGB_MIN_SIDE} px or less); it is too "
        f"small: both sides need at least {MIN_SIDE} px."
    )


def is_stack(layer) -> bool:
    if layer is None:
        return False
    return layer.ndim > 2


def stack_sources(layer) -> tuple[tuple[int, ...], list[Any]]:
    """The stack's leading shape and each of its planes as a SourceImage."""
    from napari_partial_style._napari.layers import planes
    from napari_partial_style.core.images import as_source_image

    refuse_small_rgb_read_as_stack(layer)
    leading, found = planes(layer)
    return leading, [as_source_image(p, name=f"{layer.name} [{i}]") for i, p in enumerate(found)]


def over_slices(sources: list[Any], stage_of, results: list[Any] | None = None, word: str = "slice") -> Any:
    """Run `stage_of(i, source, results so far)` for each slice, its events named "slice i/n ...",
    so each slice gets its own progress bar and Cancel stops between any two steps of any slice.
    Each finished slice's result is appended to `results` at once: a cancelled run keeps them."""
    from napari_partial_style.core.progress import relabel

    results = [] if results is None else results
    for i, source in enumerate(sources):
        results.append((yield from relabel(iter(stage_of(i, source, results)), f"{word} {i + 1}/{len(sources)}")))
    return results


def keep_finished(runner, show: Callable[[], str | None]) -> Callable[[], None]:
    """An `on_abort` for a stack job: `show()` puts the finished slices into their layers (it returns
    the status line to give, or None when no slice was finished), so Cancel loses no finished work."""

    def on_abort() -> None:
        line = runner.status.value  # the failure's, which showing the finished slices would overwrite
        try:
            said = show()
            runner.status.value = line
        except Exception as exc:  # the input layer was deleted meanwhile: say so, the run is over anyway
            runner.report_error(exc)
            return
        if said is None:
            return

        def tell(_ok: bool) -> None:
            runner.on_done.remove(tell)
            line = runner.status.value
            runner.status.value = f"{runner.name}: {said}" if runner.cancelled else f"{line}; {said}"

        runner.on_done.append(tell)  # after the runner's own "cancelled" or "failed" line

    return on_abort
