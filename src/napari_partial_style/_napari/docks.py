"""What the Plugins menu opens (the manifest's widget commands): each step widget in a scrolling
dock, and the all-steps dock with the three step widgets as its tabs. This is the one module that
puts widgets together; no widget module imports another."""

from __future__ import annotations

import napari

from napari_partial_style._napari.composite_widget import CompositeWidget
from napari_partial_style._napari.scrolling import ScrollingStep
from napari_partial_style._napari.segment_widget import SegmentWidget
from napari_partial_style._napari.stylize_widget import StylizeWidget
from napari_partial_style._napari.workflow_widget import WorkflowWidget


class SegmentDock(ScrollingStep):
    def __init__(self, viewer: napari.viewer.Viewer) -> None:  # napari passes the viewer by this annotation
        super().__init__(SegmentWidget(viewer))


class StylizeDock(ScrollingStep):
    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        super().__init__(StylizeWidget(viewer))


class CompositeDock(ScrollingStep):
    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        super().__init__(CompositeWidget(viewer))


class WorkflowDock(WorkflowWidget):
    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        super().__init__(viewer, SegmentWidget(viewer), StylizeWidget(viewer), CompositeWidget(viewer))
