"""One dock for the whole job: Segment → Stylize → Composite and score as tabs, and "Run all".

The three step widgets are the same ones the separate docks show, so every option, default and
check is theirs; this dock only chains them (each step starts when the one before ended with a
result, and a failure or Cancel stops the chain where it is) and adds the shortcuts and a help
link. Tabs keep the dock short, and each tab scrolls.
"""

from __future__ import annotations

from collections.abc import Callable

import napari
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
from napari_partial_style._napari.common import layer_kind
from napari_partial_style._napari.composite_widget import CompositeWidget
from napari_partial_style._napari.docks import ScrollingStep
from napari_partial_style._napari.segment_widget import SegmentWidget
from napari_partial_style._napari.stylize_widget import StylizeWidget

HELP_URL = "https://github.com/napari-partial-style/napari-partial-style/blob/main/docs/napari.md"
RUN_KEYS, CANCEL_KEYS = "Ctrl+Return", "Escape"
RUN_ALL, CANCEL_ALL = "Run all", "Cancel all"


class WorkflowWidget(QWidget):
    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        super().__init__()
        self.viewer = viewer
        self.segment, self.stylize, self.composite = SegmentWidget(viewer), StylizeWidget(viewer), CompositeWidget(viewer)
        self.tabs = QTabWidget()
        for number, (widget, title) in enumerate(((self.segment, "Segment"), (self.stylize, "Stylize"),
                                                  (self.composite, "Composite && score")), start=1):
            self.tabs.addTab(ScrollingStep(widget), f"{number} {title}")
        self.run_all = QPushButton(RUN_ALL)
        self.run_all.setToolTip("segment the content (unless it has labels already), stylize its labels, composite "
                                "and score, one after the other "
                                f"({RUN_KEYS} runs the open tab's step, {CANCEL_KEYS} cancels)")
        self.help = QPushButton("Help")
        self.help.setToolTip(f"the napari workflow, step by step, in the browser: {HELP_URL}")
        self.help.clicked.connect(lambda: QDesktopServices.openUrl(QUrl(HELP_URL)))
        self.resegment = QCheckBox("segment again")
        self.resegment.setToolTip("Run all segments the content even when it has labels already (a sample's, "
                                  "yours or an earlier run's); unticked, it stylizes those")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.run_all, 1)
        top.addWidget(self.resegment)
        top.addWidget(self.help)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs)
        self.run_all.clicked.connect(self.toggle_all)
        self._steps: list[Callable[[], object]] = []
        self._waiting = None
        self._cancelled = False
        for runner in self._runners():
            runner.on_done.append(lambda ok, runner=runner: self._step_done(runner, ok))
        self.shortcuts = {RUN_KEYS: self._shortcut(RUN_KEYS, self.run_tab),
                          CANCEL_KEYS: self._shortcut(CANCEL_KEYS, self.cancel)}

    def _shortcut(self, keys: str, action: Callable[[], None]) -> QShortcut:
        shortcut = QShortcut(QKeySequence(keys), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # only while the dock has focus
        shortcut.activated.connect(action)
        return shortcut

    def _runners(self):
        return (self.segment.runner, self.segment.crf_runner, self.stylize.runner, self.composite.runner,
                self.segment.point_runner, self.stylize.sweep_runner)

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

    def toggle_all(self) -> None:
        if self.running_all:
            self.cancel()
            return
        content, style = self.segment.image.value, self.stylize.style.value
        if content is None:
            self._say("open an image and choose it in the Segment tab first.")
            return
        if style is None or style is content:
            self._say("choose the style image in the Stylize tab first (open one, e.g. File › Open Sample).")
            self.tabs.setCurrentIndex(1)
            return
        labels = self._labels_of(content)
        segment = [self._segment] if labels is None or self.resegment.isChecked() else []
        self._steps, self._cancelled = [*segment, self._stylize, self._composite_and_score], False
        self.run_all.setText(CANCEL_ALL)
        self._next()
        if not segment and self._waiting is not None:
            self._say(f"stylizing the labels '{labels.name}' ('segment again' to replace them)")

    def _labels_of(self, content):
        """The newest labels layer of `content` (`<content> labels [n]`), else None."""
        base = names.base_name(content.name)
        found = [lyr for lyr in self.viewer.layers
                 if isinstance(lyr, layer_kind("labels")) and names.is_labels(base, lyr.name)]
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
