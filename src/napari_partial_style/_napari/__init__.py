"""napari widgets: views of the core's job documents and stages (collect parameters, run, show layers).

Importing the package imports no widget: napari reads the manifest first, and the widget modules
import this package for their siblings (`layer_names`, `layers`), so an eager import here would be
a circle. The widgets are looked up when first asked for."""

__all__ = ["CompositeWidget", "SegmentWidget", "StylizeWidget", "WorkflowDock", "WorkflowWidget"]

_WHERE = {
    "CompositeWidget": "composite_widget",
    "SegmentWidget": "segment_widget",
    "StylizeWidget": "stylize_widget",
    "WorkflowDock": "docks",
    "WorkflowWidget": "workflow_widget",
}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
