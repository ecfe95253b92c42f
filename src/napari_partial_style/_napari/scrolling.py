"""A step widget in a scroll area, so a dock taller than the screen scrolls instead of pushing the
window (and the step's button) off a 768 px screen. Docks opened one under another share the height
by what each holds: Qt would leave the first one its whole height and squeeze the next ones to two
rows."""

from __future__ import annotations

from magicgui.widgets import Container
from qtpy.QtCore import QSize, Qt, QTimer
from qtpy.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea

SCROLLBAR_ALLOWANCE = 48  # napari's stylesheet widens scroll bars after the dock is built


class ScrollingStep(QScrollArea):
    """One step widget (`.step`), its rows at the top, scrolling up and down, never sideways
    while it starts: wide enough for its rows (longer class names later scroll sideways)."""

    def __init__(self, step: Container) -> None:
        super().__init__()
        self.step = step
        step.native.layout().addStretch(1)  # rows at the top, not spread over the dock's height
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(step.native)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._shared = False

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """As wide as the step's rows need now (a class list filled later widens them) plus a vertical
        scroll bar, so that scrolling up and down never also needs a sideways scroll bar."""
        hint = super().minimumSizeHint()
        return QSize(self.step.native.minimumSizeHint().width() + SCROLLBAR_ALLOWANCE, hint.height())

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._shared:  # once, when napari has docked it (the next turn)
            self._shared = True
            QTimer.singleShot(0, self.share_height)

    def share_height(self) -> None:
        """Size the step docks stacked in this dock's area by their rows' heights."""
        window = self.window()
        own = self.parent()
        while own is not None and not isinstance(own, QDockWidget):
            own = own.parent()
        if not isinstance(window, QMainWindow) or own is None or own.isFloating():
            return
        area = window.dockWidgetArea(own)
        docks = [
            dock
            for dock in window.findChildren(QDockWidget)
            if dock.isVisible()
            and not dock.isFloating()
            and window.dockWidgetArea(dock) == area
            and dock.findChild(ScrollingStep) is not None
        ]
        if len(docks) > 1:
            heights = [dock.findChild(ScrollingStep).step.native.sizeHint().height() for dock in docks]
            window.resizeDocks(docks, heights, Qt.Orientation.Vertical)
