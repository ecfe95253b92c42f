"""Correct a segmentation with clicks and strokes: each one a prompt the CRF obeys.

Two layers per content image: `<image> prompts` (napari Points: a click in add mode, green for
"this region", magenta for "not this region") and `<image> prompt strokes` (a Labels layer: paint
1 for this region, 2 for not this region). Each new click or finished stroke is one prompt of the
content's job document (core/job): a worker reruns the CRF alone from the saliency the document
holds, and the labels layer is updated in place: only the pixels that changed, a band of rows per
event-loop turn, each redrawn alone (`write_changes`). "Undo prompt" takes the last one back (its
point, or its stroke's pixels, leave the layers too). The brush on the labels stays for pixel-exact
fixes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from magicgui.widgets import ComboBox, Container, Label, PushButton

from napari_partial_style._napari.jobs import JobRunner
from napari_partial_style.core.errors import InputError

PROMPTS, STROKES = "prompts", "prompt strokes"
THIS, NOT_THIS = "this region (+)", "not this region (−)"
COLORS = {True: "lime", False: "magenta"}
STROKE_DELAY_MS = 150
POINT_RADIUS_FRACTION = 1 / 150  # a click covers a disc this share of the image's long side
# Pixels a labels update redraws per event-loop turn: napari recomputes a box's contours on the GUI
# thread (a whole 1 Mpx layer: 85 ms and more on software OpenGL under load), a quarter of that a turn.
BAND_PIXELS = 1 << 18


def changed_bands(old: np.ndarray, new: np.ndarray, band_pixels: int = BAND_PIXELS) -> list[slice]:
    """The bands of rows (about `band_pixels` each) in which `new` differs from `old`."""
    rows = np.flatnonzero((old != new).any(axis=1))
    step = max(1, band_pixels // old.shape[1])
    return [slice(int(top), int(top) + step) for top in np.unique(rows // step) * step]


def write_changes(layer, labels: np.ndarray) -> Iterator[None]:
    """`labels` into a Labels layer's own array where they differ, a band per step, each redrawn as
    napari's brush redraws (the changed box and its contours' halo, not the whole layer). As a brush
    stroke, the update is one item of napari's undo and ends with one paint event, which the docks
    that follow the labels (Composite's auto re-composite, the label styles) react to."""
    with layer.block_history():
        for rows in changed_bands(layer.data, labels):
            where = np.nonzero(layer.data[rows] != labels[rows])
            indices = (where[0] + rows.start, where[1])
            layer.data_setitem(indices, labels[indices])
            yield


class PromptTool(Container):
    """The Segment dock's prompt section; `content()` gives the content layer it corrects."""

    def __init__(self, viewer, content, status: Label, progress) -> None:
        self.viewer, self.content = viewer, content
        self.region = ComboBox(label="prompts for", choices=[], tooltip="the region your clicks and strokes correct")
        self.sign = ComboBox(
            label="a click is",
            choices=[THIS, NOT_THIS],
            value=THIS,
            tooltip="a click in the region (+) pulls it in up to its edges; outside it (−) takes it out",
        )
        self.start = PushButton(
            text="Click or paint prompts",
            tooltip=f"adds '<image> {PROMPTS}' (click in add mode) and '<image> {STROKES}' (paint 1 = this "
            "region, 2 = not this region); each one reruns the CRF in seconds",
        )
        self.undo = PushButton(text="Undo prompt", tooltip="take the last click or stroke back")
        self.status = status
        super().__init__(widgets=[self.region, self.sign, self.start, self.undo], labels=True)
        self.margins = (0, 0, 0, 0)
        self.runner = JobRunner(self.start, status, "Prompt", progress)
        self.start.clicked.connect(self._layers)
        self.undo.clicked.connect(self._undo)
        self.sign.changed.connect(self._sign_changed)
        self.runner.on_done.append(self._done)
        self._seen: dict[int, np.ndarray] = {}  # each strokes layer's pixels already made prompts
        self._owned: np.ndarray | None = None  # the labels array given to a labels layer, which prompts write into
        self._timer = None
        self._pending = None
        self._again = False  # prompts came while the CRF ran: run it once more when it ends

    # the layers ------------------------------------------------------------------------------
    def _document(self):
        """The content's document with a segmentation to correct; InputError says what to do first."""
        from napari_partial_style._napari.job_view import view_of

        layer = self.content()
        view = None if layer is None else view_of(layer)
        if view is None or view.document.segmentation is None:
            raise InputError("prompts correct a segmentation: press Segment first.")
        return layer, view

    def _layers(self) -> None:
        """Both prompt layers on the content (made once), the points in add mode, the regions listed."""
        from napari_partial_style._napari.layers import geometry

        if self.runner.running:
            self.runner.cancel()
            return
        try:
            layer, view = self._document()
        except InputError as exc:
            self.status.value = f"Prompts: {exc}"
            return
        self.region.choices = list(view.document.segmentation.targets)
        name, strokes = f"{layer.name} {PROMPTS}", f"{layer.name} {STROKES}"
        if strokes not in self.viewer.layers:
            shape = view.document.content.shape
            painted = self.viewer.add_labels(np.zeros(shape, np.uint8), name=strokes, **geometry(layer))
            painted.events.paint.connect(lambda _e, painted=painted: self._schedule(painted))
        if name not in self.viewer.layers:
            points = self.viewer.add_points(
                name=name, size=max(view.document.content.shape) / 60, face_color=COLORS[True], **geometry(layer)
            )
            points.events.data.connect(lambda event, points=points: self._clicked(points, event))
        points = self.viewer.layers[name]
        self.viewer.layers.selection.active = points
        points.mode = "add"
        self._sign_changed()
        self.status.value = f"Prompts: click on '{layer.name}' or paint on '{strokes}' (1 = this region, 2 = not)"

    def _sign_changed(self, _value=None) -> None:
        layer = self.content()
        name = None if layer is None else f"{layer.name} {PROMPTS}"
        if name in self.viewer.layers:
            self.viewer.layers[name].current_face_color = COLORS[self.sign.value == THIS]

    # prompts ---------------------------------------------------------------------------------
    def _clicked(self, points, event) -> None:
        from napari_partial_style.core.segment.prompts import Prompt

        if getattr(event, "action", "added") != "added" or not len(points.data):
            return
        row, col = (float(v) for v in points.data[-1][-2:])
        self._add(
            lambda shape: Prompt(
                self.sign.value == THIS,
                self._region(),
                np.array([row]),
                np.array([col]),
                max(shape) * POINT_RADIUS_FRACTION,
            )
        )

    def _schedule(self, painted) -> None:
        """A stroke's many paint events become one prompt when it has ended."""
        from qtpy.QtCore import QTimer

        if self._timer is None:
            self._timer = QTimer()
            self._timer.setSingleShot(True)
            self._timer.timeout.connect(lambda: self._stroke(self._pending))
        self._pending = painted
        self._timer.start(STROKE_DELAY_MS)

    def _stroke(self, painted) -> None:
        """The pixels painted since the last stroke, as one prompt per label painted (1: +, 2: −)."""
        from napari_partial_style.core.segment.prompts import Prompt

        data = np.asarray(painted.data)
        seen = self._seen.get(id(painted), np.zeros(data.shape, np.uint8))
        new = (data != seen) & (data > 0)
        self._seen[id(painted)] = data.copy()
        for value, positive in ((1, True), (2, False)):
            rows, cols = np.nonzero(new & (data == value))
            if rows.size:
                self._add(lambda _shape, p=positive, r=rows, c=cols: Prompt(p, self._region(), r, c))

    def _region(self) -> str:
        if self.region.value is None:
            raise InputError("choose the region the prompts are for ('prompts for').")
        return str(self.region.value)

    def _add(self, make) -> None:
        """`make(shape)`'s prompt into the document and the CRF rerun; bad input one line in the dock."""
        try:
            _, view = self._document()
            view.document.add_prompt(make(view.document.content.shape))
        except InputError as exc:
            self.status.value = f"Prompts: {exc}"
            return
        self._update()

    def _undo(self) -> None:
        """The last prompt taken back from the document and from its layer; the CRF reruns."""
        try:
            layer, view = self._document()
        except InputError as exc:
            self.status.value = f"Prompts: {exc}"
            return
        doc = view.document
        if not doc.prompts:
            self.status.value = "Prompts: no prompt to undo"
            return
        last = doc.prompts.items[-1]
        doc.edit_prompts(doc.prompts.without_last(), "undo prompt")
        self._forget(layer, last)
        self._update()

    def _forget(self, layer, prompt) -> None:
        """The prompt's point, or its stroke's pixels, out of the prompt layers."""
        points, strokes = f"{layer.name} {PROMPTS}", f"{layer.name} {STROKES}"
        if prompt.rows.size == 1 and points in self.viewer.layers:
            data = np.asarray(self.viewer.layers[points].data)
            at = np.nonzero((np.round(data[:, -2:]) == [prompt.rows[0], prompt.cols[0]]).all(axis=1))[0]
            if at.size:
                self.viewer.layers[points].selected_data = {int(at[-1])}
                self.viewer.layers[points].remove_selected()
        if prompt.rows.size > 1 and strokes in self.viewer.layers:
            painted = self.viewer.layers[strokes]
            data = np.asarray(painted.data).copy()
            data[prompt.rows, prompt.cols] = 0
            painted.data = data
            self._seen[id(painted)] = data.copy()

    def _update(self) -> None:
        """The CRF rerun in a worker (once more after a running one, for prompts that came
        meanwhile), the labels layer updated in place."""
        from napari_partial_style._napari.common import session
        from napari_partial_style._napari.job_view import computed

        if self.runner.running:
            self._again = True
            return
        layer, view = self._document()
        doc = view.document
        job_session = session(doc.params.session)

        def written_labels(doc):
            from napari_partial_style._napari.layers import checksum

            return doc.labels, checksum(doc.labels)

        compute = computed(doc, job_session, "segment", compact=False, then=written_labels)

        def job():
            return (yield from compute)

        def show(result) -> Iterator[None]:
            from napari_partial_style._napari import layer_names as names
            from napari_partial_style._napari.layers import META_KEY, put_labels

            labels, written = result
            if view.labels is not None and view.labels in self.viewer.layers:
                yield from self._write(view.labels, labels)
                # the plugin's labels, not the user's painting: a later Segment replaces them in place
                view.labels.metadata.setdefault(META_KEY, {})["written_checksum"] = written
            else:
                seg = doc.segmentation
                name = names.role(layer.name, names.LABELS)
                view.labels, _ = put_labels(self.viewer, name, labels.copy(), seg.targets, layer, {"stage": "segment"})
                self._owned = view.labels.data
                yield  # a new labels layer comes hidden: shown in the next event-loop turn (see `put_labels`)
                view.labels.visible = True
            self.status.value = f"Prompts: {len(doc.prompts)} in use; labels updated"

        self.runner.start(job, show)

    def _write(self, layer, labels: np.ndarray) -> Iterator[None]:
        """The new labels into the labels layer: only where they changed once the layer holds an
        array of its own (`_owned`). The first time it gets a copy, redrawn whole: the array it shows
        may be the document's, or one its history keeps for undo, which a write in place would change."""
        if self._owned is None or layer.data is not self._owned or layer.data.shape != labels.shape:
            layer.data = labels.copy()
            self._owned = layer.data
            return
        yield from write_changes(layer, labels)

    def _done(self, _ok: bool) -> None:
        if self._again:
            self._again = False
            self._update()
