"""Stylize's previews: made for napari in the worker, shown no more often than napari draws them.

Showing a preview costs the viewer a repaint of its canvas (0.1-0.3 s on software OpenGL under
load, whatever the preview's size), and a job that previews every step would keep the event loop
busy drawing frames nobody has time to see: each preview waits until the last one has been drawn,
and for about as long again, and only the newest waiting one is shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

SPACING = 2.0  # a preview and the time after it: at least this many times what showing it took


def previews_for(content, full_size: bool):
    """Each preview in the content's dtype, made in the worker: at its working size for a 2D image
    (laid over the photo by its layer's scale, `layers.over`: a 24 Mpx preview cost napari 0.3-0.6 s
    of texture upload), at the content's size only for a slice of a stack, which shows inside the
    stack's own layer."""
    from dataclasses import replace

    from napari_partial_style.core.images import from_float_rgb, resize_rgb
    from napari_partial_style.core.progress import Progress

    def converted(event: Progress) -> Progress:
        if event.preview is None:
            return event
        preview = resize_rgb(event.preview, content.shape) if full_size else event.preview
        return replace(event, preview=from_float_rgb(preview, content.dtype))

    return converted


class PreviewPacer:
    """Shows the newest offered preview once the one before it has been drawn and the event loop
    has had as long again for everything else (typing, panning, the Cancel button)."""

    def __init__(self, parent) -> None:
        from qtpy.QtCore import QTimer

        self._pending: tuple[Any, Callable[[Any], None]] | None = None
        self._ready_at = 0.0  # perf_counter time before which no preview is shown
        self._shown_at: float | None = None  # a preview being shown, until its event-loop turn ends
        self._next = QTimer(parent)
        self._next.setSingleShot(True)
        self._next.timeout.connect(self._show)
        self._drawn = QTimer(parent)  # fires after the turn that shows the preview, repaint included
        self._drawn.setSingleShot(True)
        self._drawn.timeout.connect(self._after_drawn)

    def offer(self, event: Any, show: Callable[[Any], None]) -> None:
        """`show(event)` now, or later in place of any preview offered before it."""
        self._pending = (event, show)
        if self._shown_at is None and not self._next.isActive():
            self._next.start(max(0, round((self._ready_at - time.perf_counter()) * 1000)))

    def drop(self) -> None:
        """The job ended: its result, or the undoing of its previews, comes instead."""
        self._pending = None
        self._next.stop()

    def _show(self) -> None:
        if self._pending is None:
            return
        (event, show), self._pending = self._pending, None
        self._shown_at = time.perf_counter()
        try:
            show(event)
        finally:
            self._drawn.start(0)

    def _after_drawn(self) -> None:
        took = time.perf_counter() - self._shown_at
        self._shown_at = None
        self._ready_at = time.perf_counter() + (SPACING - 1) * took
        if self._pending is not None:
            self._next.start(round((SPACING - 1) * took * 1000))
