"""A style per label value: one style drop-down per value of the region's labels layer.

The values are read when the labels layer is chosen, when the box is ticked or the data replaced;
a paint stroke adds the value it painted (napari sends the stroke before writing it, and reading
the whole layer again per stroke would stall a large image). A row left empty keeps that value's
pixels as they are; a row whose value was painted over has no pixels and is skipped.
"""

from __future__ import annotations

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, Label

from napari_partial_style._napari.common import layer_choices, shown
from napari_partial_style.core.errors import InputError

MAX_ROWS = 16  # beyond that a labels layer holds instances, not materials; the note says so


def label_values(labels_layer) -> list[int]:
    """The nonzero values the layer holds (every slice), smallest first."""
    values = np.unique(np.asarray(labels_layer.data))
    return [int(v) for v in values if v != 0]


def class_names(labels_layer) -> dict[int, str]:
    """Value → class name from the layer's features (Segment writes them), where there are any."""
    features = getattr(labels_layer, "features", None)
    if features is None or "class" not in features:
        return {}
    return {i: str(name) for i, name in enumerate(features["class"]) if i}


class LabelStyles(Container):
    """The tick box and its rows; `choices()` gives {value: style layer or None} when ticked."""

    def __init__(self, viewer, default_style: ComboBox) -> None:
        self.viewer = viewer
        self.default_style = default_style
        self.toggle = CheckBox(
            text="a style per label value",
            value=False,
            tooltip="each value of the region's labels takes the style chosen for it "
            "(e.g. the cup stone, the table wood); one job, one optimisation",
        )
        self.rows = Container(widgets=[], labels=True)
        self.note = Label(value="")
        super().__init__(widgets=[self.toggle, self.rows, self.note], labels=False)
        self._layer = None
        self._values: list[int] = []
        self.rows.visible = self.note.visible = False
        self.toggle.changed.connect(lambda _value: self.refresh())

    def follow(self, labels_layer) -> None:
        """Rows for this labels layer (None: no rows), refreshed after each paint stroke."""
        if self._layer is not None:
            self._layer.events.paint.disconnect(self._painted)
            self._layer.events.data.disconnect(self.refresh)
        self._layer = labels_layer
        if labels_layer is not None:
            labels_layer.events.paint.connect(self._painted)
            labels_layer.events.data.connect(self.refresh)
        self.visible = labels_layer is not None
        self.refresh()

    def _painted(self, event) -> None:
        new = {
            int(v) for atom in event.value for v in np.unique(np.asarray(atom[-1])) if v != 0
        }  # the painted value(s)
        if self.toggle.value and not new <= set(self._values):
            self._values = sorted(set(self._values) | new)
            self._rows()

    def refresh(self, _event=None) -> None:
        """Read the layer's values again and rebuild the rows, keeping each value's choice."""
        if self.toggle.value and self._layer is not None:
            self._values = label_values(self._layer)
        self._rows()

    def _rows(self) -> None:
        kept = {row.name: row.value for row in self.rows}
        del self.rows[:]
        on = self.toggle.value and self._layer is not None
        self.rows.visible = self.note.visible = on
        if not on:
            return
        values = self._values
        names = class_names(self._layer)
        for value in values[:MAX_ROWS]:
            name = f"label_{value}"
            title = f"{value} ({names[value]})" if value in names else str(value)
            box = ComboBox(
                name=name,
                label=title,
                choices=layer_choices(self.viewer, "image"),
                nullable=True,
                tooltip=f"the style for label {title}; empty: leave it as it is",
            )
            box.value = kept.get(name, self.default_style.value)
            self.rows.append(box)
        extra = len(values) - MAX_ROWS
        self.note.value = (
            f"{extra} more values take no style (only the first {MAX_ROWS} get rows)"
            if extra > 0
            else ""
            if values
            else "these labels have no nonzero value yet: paint a region"
        )

    def choices(self) -> dict[int, object] | None:
        """{label value: style layer or None}, or None when a single style is used."""
        if not self.toggle.value or self._layer is None or not shown(self):
            return None
        chosen = {int(row.name.split("_")[1]): row.value for row in self.rows}
        if not any(layer is not None for layer in chosen.values()):
            raise InputError(
                "no label value has a style: choose a style for at least one value, or untick "
                "'a style per label value'."
            )
        return chosen
