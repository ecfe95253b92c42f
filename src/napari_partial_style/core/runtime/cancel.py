"""Stopping a job inside a network pass, not only between the steps its generator yields.

A driver that can cancel (napari's worker) runs the job inside `cancellable(event)`; the networks
call `check()` after each layer of a forward pass and `watch(x)` on each layer's output, whose hook
checks again at that layer in the backward pass. One forward and backward pass of VGG19 at 1024 px
takes seconds on a CPU; between layers, Cancel is felt within one layer's time. Setting the event
makes the next check raise `Cancelled` in the job's thread, which unwinds the generator like any
error and leaves nothing half done. Without `cancellable` (the CLI, batches) checks cost nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from napari_partial_style.core.errors import Cancelled

if TYPE_CHECKING:  # the napari runner imports this module; torch loads with the first job
    import torch

_local = threading.local()


@contextmanager
def cancellable(event: threading.Event) -> Iterator[None]:
    """Within this block (in this thread), `event.set()` from any thread stops the job at its next check."""
    outer = getattr(_local, "event", None)
    _local.event = event
    try:
        yield
    finally:
        _local.event = outer


def check() -> None:
    """Raise Cancelled if this thread's job was asked to stop."""
    event = getattr(_local, "event", None)
    if event is not None and event.is_set():
        raise Cancelled("cancelled")


def watch(x: torch.Tensor) -> None:
    """Check again when the backward pass reaches `x` (which may run on another thread, on a GPU:
    the hook holds the event itself)."""
    event = getattr(_local, "event", None)
    if event is None or not x.requires_grad:
        return

    def stop_if_cancelled(_grad: torch.Tensor) -> None:
        if event.is_set():
            raise Cancelled("cancelled")

    x.register_hook(stop_if_cancelled)
