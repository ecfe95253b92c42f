"""One dock for the whole job: Segment → Stylize → Composite and score as tabs, "Quick look" and "Run all".

The three step widgets are the same ones the separate docks show, so every option, default and
check is theirs; this dock only chains them (each step starts when the one before ended with a
result, and a failure or Cancel stops the chain where it is) and adds the shortcuts and a help
link. Tabs keep the dock short, and each tab scrolls. Quick look runs the tabs' job through
`Session.run` at a low resolution (core/quick_look.py) into one `<image> quick look` layer, and
says from its timings how long Run all will take.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import napari
from magicgui.widgets import Label, PushButton
from qtpy.QtCore import Qt, QUrl
from qtpy.QtGui import QDesktopServices, QKeySequence
from qtpy.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QShortcut,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from napari_partial_style._napari import layer_names as names
from napari_partial_style._napari.common import layer_kind, mark_used, session, source_image
from napari_partial_style._napari.composite_widget import CompositeWidget
from napari_partial_style._napari.docks import ScrollingStep
from napari_partial_style._napari.jobs import JobProgress, JobRunner, duration
from napari_partial_style._napari.segment_widget import SegmentWidget
from napari_partial_style._napari.stylize_widget import StylizeWidget
from napari_partial_style.core.errors import InputError

HELP_URL = "https://github.com/napari-partial-style/napari-partial-style/blob/main/docs/napari.md"
RUN_KEYS, CANCEL_KEYS = "Ctrl+Return", "Escape"
RUN_ALL, CANCEL_ALL = "Run all", "Cancel all"
QUICK = "Quick look"


class WorkflowWidget(QWidget):
    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        super().__init__()
        self.viewer = viewer
        self.segment, self.stylize, self.composite = (
            SegmentWidget(viewer),
            StylizeWidget(viewer),
            CompositeWidget(viewer),
        )
        self.tabs = QTabWidget()
        for number, (widget, title) in enumerate(
            ((self.segment, "Segment"), (self.stylize, "Stylize"), (self.composite, "Composite && score")), start=1
        ):
            self.tabs.addTab(ScrollingStep(widget), f"{number} {title}")
        self.run_all = QPushButton(RUN_ALL)
        self.run_all.setToolTip(
            "segment the content (unless it has labels already), stylize its labels, composite "
            "and score, one after the other "
            f"({RUN_KEYS} runs the open tab's step, {CANCEL_KEYS} cancels)"
        )
        self.help = QPushButton("Help")
        self.help.setToolTip(f"the napari workflow, step by step, in the browser: {HELP_URL}")
        self.help.clicked.connect(lambda: QDesktopServices.openUrl(QUrl(HELP_URL)))
        self.resegment = QCheckBox("segment again")
        self.resegment.setToolTip(
            "Run all segments the content even when it has labels already (a sample's, "
            "yours or an earlier run's); unticked, it stylizes those"
        )
        self.quick = PushButton(
            text=QUICK,
            tooltip="the whole job at low resolution (one saliency scale, the style "
            "at 128 px, 30 steps, no score) into '<image> quick look', in seconds; it says how "
            "long Run all will take",
        )
        self.quick_status = Label(value="")
        self.quick_progress = JobProgress()
        self.quick_runner = JobRunner(self.quick, self.quick_status, QUICK, self.quick_progress)
        self.quick.clicked.connect(lambda: self.quick_runner.toggle(self._quick_job))
        self._estimate: tuple[str, float] | None = None  # (content layer name, seconds Run all takes)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.quick.native)
        top.addWidget(self.run_all, 1)
        top.addWidget(self.resegment)
        top.addWidget(self.help)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.quick_status.native)
        layout.addWidget(self.quick_progress.native)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs)
        self.run_all.clicked.connect(self.toggle_all)
        self._steps: list[Callable[[], object]] = []
        self._waiting = None
        self._cancelled = False
        for runner in self._runners():
            runner.on_done.append(lambda ok, runner=runner: self._step_done(runner, ok))
        self._link(self.stylize.form["composite.crf_edge"], self.composite.composite_form["composite.crf_edge"])
        self.shortcuts = {
            RUN_KEYS: self._shortcut(RUN_KEYS, self.run_tab),
            CANCEL_KEYS: self._shortcut(CANCEL_KEYS, self.cancel),
        }

    @staticmethod
    def _link(*boxes) -> None:
        """Boxes of one option in several tabs (the CRF soft edge shapes Stylize's guides and
        Composite's alpha, as --crf-edge does both): changing one changes the others."""
        for box in boxes:
            box.changed.connect(
                lambda value, box=box: [
                    other.set_value(value) for other in boxes if other is not box and other.value != value
                ]
            )

    def _shortcut(self, keys: str, action: Callable[[], None]) -> QShortcut:
        shortcut = QShortcut(QKeySequence(keys), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # only while the dock has focus
        shortcut.activated.connect(action)
        return shortcut

    def _runners(self):
        return (
            self.segment.runner,
            self.segment.crf_runner,
            self.stylize.runner,
            self.composite.runner,
            self.segment.point_runner,
            self.stylize.sweep_runner,
            self.quick_runner,
        )

    @property
    def running_all(self) -> bool:
        return bool(self._steps) or self._waiting is not None

    def run_tab(self) -> None:
        """The open tab's main button (Segment, Stylize, Composite)."""
        button = (self.segment.run, self.stylize.run, self.composite.composite_button)[self.tabs.currentIndex()]
        button.native.click()

    def cancel(self) -> None:
        self._steps, self._cancelled = [], True
        for runner in self._runners():
            if runner.running:
                runner.cancel()

    def _inputs(self):
        """The content and style layers the tabs hold; InputError names the one missing."""
        content, style = self.segment.image.value, self.stylize.style.value
        if content is None:
            raise InputError("open an image and choose it in the Segment tab first.")
        if style is None or style is content:
            self.tabs.setCurrentIndex(1)
            raise InputError("choose the style image in the Stylize tab first (open one, e.g. File › Open Sample).")
        return content, style

    def toggle_all(self) -> None:
        if self.running_all:
            self.cancel()
            return
        try:
            content, _ = self._inputs()
        except InputError as exc:
            self._say(str(exc))
            return
        labels = self._labels_of(content)
        segment = [self._segment] if labels is None or self.resegment.isChecked() else []
        self._steps, self._cancelled = [*segment, self._stylize, self._composite_and_score], False
        self.run_all.setText(CANCEL_ALL)
        self._next()
        if self._estimate is not None and self._estimate[0] == content.name and self._waiting is not None:
            self.status.setText(
                f"{self.status.text()} · about {duration(self._estimate[1])} in all (from the quick look)"
            )
        if not segment and self._waiting is not None:
            self._say(f"stylizing the labels '{labels.name}' ('segment again' to replace them)")

    def params(self):
        """The job the tabs describe: Segment's, Stylize's (and its session), Composite's and Score's options."""
        from napari_partial_style.core.options import build
        from napari_partial_style.core.params import JobParams

        composite = self.composite
        return build(
            JobParams,
            {
                **composite.score_form.values(),
                **composite.composite_form.values(),
                **self.segment.form.values(),
                **self.stylize.form.values(),
            },
        )

    def _quick_job(self):
        """Quick look: the tabs' job at low resolution (bad input raises here, as for any job)."""
        import numpy as np

        from napari_partial_style._napari.layers import put_image
        from napari_partial_style.core.job.quick_look import full_job_seconds, quick_params

        layer, style_layer = self._inputs()
        self.stylize.content.value = layer  # the tabs show the job that ran, as Run all's do
        labels_layer = None if self.resegment.isChecked() else self._labels_of(layer)
        params = self.params()
        quick = quick_params(params)
        content = source_image(self.viewer, layer, "a content image")
        style = source_image(self.viewer, style_layer, "a style image")
        labels = None if labels_layer is None else np.asarray(labels_layer.data)
        mark_used(content=layer, style=style_layer)
        job_session = session(quick.session)
        sizes = (
            session(self.segment.params().session).size_for(content.shape),
            session(self.stylize.params().session).size_for(content.shape),
        )

        def job():
            started = time.perf_counter()
            if labels is None:  # networks first, so the stages' timings hold only their own work
                yield from job_session.classifier(params.segment.classifier)
            yield from job_session.style_network(params.style)
            result = yield from job_session.run(content, style, quick, labels)
            return result, time.perf_counter() - started, str(job_session.device)

        def show(out) -> None:
            result, seconds, device = out
            put_image(
                self.viewer,
                names.role(names.base_name(layer.name), names.QUICK_LOOK),
                result.composite,
                layer,
                {"quick_look": result.record},
                rgb=result.composite.ndim == 3,
            )
            estimate = full_job_seconds(
                result.record["timings_s"], params, max(content.shape), *sizes, segments=labels is None
            )
            self._estimate = (layer.name, estimate)
            self.quick_status.value = (
                f"{QUICK}: done in {duration(seconds)}. {RUN_ALL} will take about {duration(estimate)} on {device}."
            )

        return job, show

    def _labels_of(self, content):
        """The newest labels layer of `content` (`<content> labels [n]`), else None."""
        base = names.base_name(content.name)
        found = [
            lyr
            for lyr in self.viewer.layers
            if isinstance(lyr, layer_kind("labels")) and names.is_labels(base, lyr.name)
        ]
        return found[-1] if found else None

    def _say(self, text: str) -> None:
        self.status.setText(f"Run all: {text}")

    def _next(self) -> None:
        if not self._steps:
            self._finish("done")
            return
        step = self._steps.pop(0)
        self._waiting = step()
        if self._waiting is None:  # the step did not start (bad input): its tab says why
            self._finish("stopped; see the open tab")

    def _step_done(self, runner, ok: bool) -> None:
        if runner is not self._waiting:  # another job the user ran meanwhile (e.g. Re-run CRF only)
            return
        self._waiting = None
        if ok and self._steps:
            self._next()
        else:
            self._finish("done" if ok else "cancelled" if self._cancelled else "stopped; see the open tab")

    def _finish(self, how: str) -> None:
        self._steps, self._waiting = [], None
        self.run_all.setText(RUN_ALL)
        self._say(how)

    def _start(self, tab: int, runner, button) -> object:
        self.tabs.setCurrentIndex(tab)
        self._say(f"step {tab + 1} of 3, {self.tabs.tabText(tab)[2:].replace('&&', '&')}")
        button.native.click()
        return runner if runner.running else None

    def _segment(self):
        return self._start(0, self.segment.runner, self.segment.run)

    def _stylize(self):
        self.stylize.content.value = self.segment.image.value
        self.stylize._pick_labels()
        return self._start(1, self.stylize.runner, self.stylize.run)

    def _composite_and_score(self):
        composite = self.composite
        composite.content.value = self.segment.image.value
        composite._pick_companions()
        composite.runner.last_error = None
        self.tabs.setCurrentIndex(2)
        composite.composite_button.native.click()  # instant, on this thread
        if composite.runner.last_error is not None:
            return None
        return self._start(2, composite.runner, composite.score_button)
