"""Progress events: what every long stage yields, so the CLI and napari workers share one loop."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """One step of one stage; `preview` is an image worth showing now, if any."""

    stage: str
    step: int
    total: int
    message: str = ""
    values: dict[str, float] = field(default_factory=dict)
    preview: np.ndarray | None = None


StageGenerator = Generator[Progress, None, T]


def drain(gen: Generator[Progress, None, T], on_progress: Any = None) -> T:
    """Run a stage generator to its end and return its result, passing events to `on_progress`."""
    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(event)


def relabel(gen: Generator[Progress, None, T], prefix: str) -> Generator[Progress, None, T]:
    """The same events with `prefix` before each stage name (a stage run again for scoring)."""
    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            return stop.value
        yield Progress(f"{prefix} {event.stage}", event.step, event.total, event.message, event.values, event.preview)
