"""magicgui Container widgets: thin over the core generators (collect parameters, run, show layers)."""

from napari_partial_style._widgets.composite_widget import CompositeWidget
from napari_partial_style._widgets.segment_widget import SegmentWidget
from napari_partial_style._widgets.stylize_widget import StylizeWidget

__all__ = ["CompositeWidget", "SegmentWidget", "StylizeWidget"]
