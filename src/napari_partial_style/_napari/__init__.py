"""napari widgets: thin over the core generators (collect parameters, run, show layers)."""

from napari_partial_style._napari.composite_widget import CompositeWidget
from napari_partial_style._napari.docks import WorkflowDock
from napari_partial_style._napari.segment_widget import SegmentWidget
from napari_partial_style._napari.stylize_widget import StylizeWidget
from napari_partial_style._napari.workflow_widget import WorkflowWidget

__all__ = ["CompositeWidget", "SegmentWidget", "StylizeWidget", "WorkflowDock", "WorkflowWidget"]
