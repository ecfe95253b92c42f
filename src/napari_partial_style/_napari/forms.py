"""magicgui widgets made from the parameter tree (core/params.py): the same options, defaults,
bounds and help as the CLI, basic options first and the rest in a collapsed "Advanced" section."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FloatSlider,
    FloatSpinBox,
    Label,
    LineEdit,
    PushButton,
    SpinBox,
    Widget,
)

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.options import Leaf, build, help_text, leaves, shown

# A command-line flag inside a message: "--style-weight", not the dashes of "1--2" or "x--y".
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# Floats this large are typed as text in scientific notation: a spin box shows "3321216.90".
TEXT_FLOAT_ABOVE = 1e5
ADVANCED = "Advanced"


def tooltip(leaf: Leaf) -> str:
    return f"{help_text(leaf)}\n(command line: {leaf.flag})"


def in_widget_words(message: str) -> str:
    """A core message as a napari user reads it: the core names a fix by its command-line flag
    ("lower --threshold"), and each flag of the parameter tree becomes the label of the widget made
    from it ("lower 'threshold'"), marked where that widget is in the Advanced section."""
    labels = _flag_labels()
    return FLAG.sub(lambda match: labels.get(match.group(), match.group()), message)


@functools.cache
def _flag_labels() -> dict[str, str]:
    from napari_partial_style.core.params import JobParams

    return {
        leaf.flag: f"'{leaf.label}'" + (f" ({ADVANCED})" if leaf.option.advanced else "") for leaf in leaves(JobParams)
    }


class TextNumbers(LineEdit):
    """Numbers as text: one float in scientific notation, or a list (space or comma separated);
    an empty list shows what it means as a placeholder. A value shown rounded is kept exact until
    the text is edited, so napari's defaults are the CLI's to the last bit."""

    def __init__(self, leaf: Leaf, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.leaf = leaf
        self.native.setPlaceholderText(leaf.option.none_text)
        self.set(leaf.default)

    def set(self, value: Any) -> None:
        if value is None:
            self.value = ""
        elif self.leaf.item is not None:
            self.value = ", ".join(shown(v) for v in value)
        else:
            self.value = f"{value:.6g}"
        self._exact = (self.value, value)

    def get(self) -> Any:
        text = (self.value or "").strip()
        if text == self._exact[0]:
            return self._exact[1]
        kind = self.leaf.item or self.leaf.base
        items = [item for item in text.replace(",", " ").split() if item]
        try:
            numbers = tuple(kind(float(item)) if kind is int else kind(item) for item in items)
        except ValueError:
            raise InputError(f"{self.leaf.label}: {text!r} is not a number or a list of numbers.") from None
        if self.leaf.item is not None:
            return numbers
        if not numbers and self.leaf.optional:
            return None
        if len(numbers) != 1:
            raise InputError(f"{self.leaf.label}: give one number, not {text!r}.")
        return numbers[0]


class TextList(LineEdit):
    """Names, comma separated (class names may contain spaces); empty shows what it means."""

    def __init__(self, leaf: Leaf, **kwargs: Any) -> None:
        super().__init__(value=", ".join(leaf.default), **kwargs)
        self.native.setPlaceholderText(leaf.option.none_text)

    def get(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.strip() for s in (self.value or "").split(",") if s.strip()))

    def set(self, value: Iterable[str]) -> None:
        self.value = ", ".join(value)


class OptionalText(LineEdit):
    def __init__(self, leaf: Leaf, **kwargs: Any) -> None:
        super().__init__(value=leaf.default or "", **kwargs)
        self.native.setPlaceholderText(leaf.option.none_text)

    def get(self) -> str | None:
        return (self.value or "").strip() or None

    def set(self, value: str | None) -> None:
        self.value = value or ""


class Strength(Container):
    """A strength where 0 is off (`Option.slider`): a tick box, a slider over the value's powers of
    ten and the value it gives, in one row. A value set from outside (a bundle's, a CLI default) is
    kept exact until the slider moves."""

    def __init__(self, leaf: Leaf, **kwargs: Any) -> None:
        low, first, high = leaf.option.slider
        self.first = first
        self.on = CheckBox(value=False, tooltip=kwargs["tooltip"])
        self.slider = FloatSlider(
            min=math.log10(low), max=math.log10(high), step=0.01, readout=False, tooltip=kwargs["tooltip"]
        )
        self.readout = Label(value="")
        super().__init__(widgets=[self.on, self.slider, self.readout], layout="horizontal", labels=False, **kwargs)
        self.margins = (0, 0, 0, 0)
        self.slider.changed.connect(self._moved)
        self.on.changed.connect(self._ticked)
        self.set(leaf.default)

    def _moved(self, power: float) -> None:
        self._exact = float(f"{10**power:.2g}")  # what the readout shows is what runs
        self.readout.value = shown(self._exact)

    def _ticked(self, on: bool) -> None:
        self.slider.enabled = on
        self.readout.value = shown(self._exact) if on else "off"

    def set(self, value: float) -> None:
        self.slider.value = min(max(math.log10(value or self.first), self.slider.min), self.slider.max)
        self._exact = float(value or self.first)
        self.on.value = bool(value)
        self._ticked(self.on.value)

    def get(self) -> float:
        return self._exact if self.on.value else 0.0


def _spin(leaf: Leaf, kwargs: dict[str, Any]) -> Widget:
    opt = leaf.option
    cls = SpinBox if leaf.base is int else FloatSpinBox
    return cls(
        min=opt.min, max=opt.max, step=opt.step or (1 if leaf.base is int else 0.1), value=leaf.default, **kwargs
    )


def make_widget(leaf: Leaf, custom: dict[str, Callable[[Leaf], Widget]]) -> Widget:
    """The widget of one option: a custom one by key, else one chosen by its type."""
    kwargs = {"label": leaf.label, "tooltip": tooltip(leaf), "name": leaf.dest}
    if leaf.option.widget in custom:
        return custom[leaf.option.widget](leaf)
    if leaf.option.slider is not None:
        return Strength(leaf, **kwargs)
    if leaf.base is bool:
        return CheckBox(text=leaf.label, value=leaf.default, tooltip=kwargs["tooltip"], name=leaf.dest)
    choices = leaf.option.choice_list()
    if choices is not None:
        return ComboBox(choices=choices, value=leaf.default, **kwargs)
    if leaf.item is str:
        return TextList(leaf, **kwargs)
    if leaf.item is not None or leaf.optional or (leaf.base is float and (leaf.option.max or 0) > TEXT_FLOAT_ABOVE):
        return TextNumbers(leaf, **kwargs)
    if leaf.base in (int, float):
        return _spin(leaf, kwargs)
    return OptionalText(leaf, **kwargs)


def read(widget: Widget) -> Any:
    """The option's value from its widget (text fields parse theirs, with errors naming the option)."""
    return widget.get() if hasattr(widget, "get") else widget.value


def write(widget: Widget, value: Any) -> None:
    if hasattr(widget, "set"):
        widget.set(value)
    else:
        widget.value = value


class ParamForm(Container):
    """The options of `root` under the paths in `parts` (("session",), ("segment", "crf"), ...).
    `form["segment.crf.method"]` is the widget of one option; `params()` builds the tree."""

    def __init__(
        self,
        root: type,
        parts: Iterable[tuple[str, ...]],
        custom: dict[str, Callable[[Leaf], Widget]] | None = None,
        exclude: Iterable[tuple[str, ...]] = (),
    ) -> None:
        parts, exclude = list(parts), set(exclude)
        self.root = root
        self.leaves = [
            leaf for leaf in leaves(root) if any(leaf.path[: len(p)] == p for p in parts) and leaf.path not in exclude
        ]
        self.fields = {".".join(leaf.path): make_widget(leaf, custom or {}) for leaf in self.leaves}
        basic = [self.fields[".".join(leaf.path)] for leaf in self.leaves if not leaf.option.advanced]
        advanced = [self.fields[".".join(leaf.path)] for leaf in self.leaves if leaf.option.advanced]
        self.advanced = Container(widgets=advanced, visible=False)
        self.toggle = PushButton(
            text=f"▸ {ADVANCED} ({len(advanced)})",
            visible=bool(advanced),
            tooltip="settings most jobs leave at their defaults",
        )
        self.toggle.clicked.connect(self._toggle)
        super().__init__(widgets=[*basic, self.toggle, self.advanced], labels=True)
        self.margins = (0, 0, 0, 0)

    def __getitem__(self, key: str) -> Widget:  # type: ignore[override]
        return self.fields[key] if key in self.fields else super().__getitem__(key)

    @property
    def advanced_open(self) -> bool:
        """Whether the Advanced section is expanded (`visible` reads False while the dock is hidden)."""
        return not self.advanced.native.isHidden()  # `visible` reads False while the dock is hidden

    def _toggle(self) -> None:
        self.advanced.visible = not self.advanced_open
        arrow = "▾" if self.advanced_open else "▸"
        self.toggle.text = f"{arrow} {ADVANCED} ({len(self.advanced)})"

    def values(self, skip=()) -> dict[tuple[str, ...], Any]:
        """The options' values, but those in `skip` (not read: a picker with nothing picked raises)."""
        return {leaf.path: read(self.fields[".".join(leaf.path)]) for leaf in self.leaves if leaf.path not in skip}

    def set_values(self, values: dict[tuple[str, ...], Any]) -> None:
        for leaf in self.leaves:
            if leaf.path in values:
                write(self.fields[".".join(leaf.path)], values[leaf.path])

    def params(self, fixed: dict[tuple[str, ...], Any] | None = None) -> Any:
        """The whole tree: the form's values over the defaults (and `fixed` over both); bad values
        raise InputError naming the option."""
        fixed = fixed or {}
        return build(self.root, {**self.values(skip=fixed), **fixed})
