"""Progress events: what every long stage yields, so the CLI and napari workers share one loop."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
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


def map_events(gen: Generator[Progress, None, T], change: Callable[[Progress], Progress]) -> Generator[Progress, None, T]:
    """The same stage with each event passed through `change`; its result unchanged."""
    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            return stop.value
        yield change(event)


def relabel(gen: Generator[Progress, None, T], prefix: str) -> Generator[Progress, None, T]:
    """The same events with `prefix` before each stage name (a stage run again for scoring)."""
    return map_events(gen, lambda event: replace(event, stage=f"{prefix} {event.stage}"))


class Estimator:
    """The time a stage will take, once, from the rate of its steps after the first (the first
    also warms caches and allocators): after `after_steps` steps or `after_s` seconds."""

    def __init__(self, after_steps: int = 5, after_s: float = 1.0) -> None:
        self.after_steps, self.after_s = after_steps, after_s
        self.started: float | None = None
        self.first_step_at: float | None = None
        self.done = False

    def update(self, event: Progress, now: float) -> tuple[float, float] | None:
        """(seconds in all, seconds a step) the first time they can be told, else None."""
        if event.step <= 1:
            self.started = self.started if self.started is not None else now
            self.first_step_at, self.done = now, False
            return None
        if self.done or self.first_step_at is None or event.step >= event.total:
            return None
        measured = now - self.first_step_at
        if event.step - 1 < self.after_steps and measured < self.after_s:
            return None
        self.done = True
        per_step = measured / (event.step - 1)
        return now - self.started + per_step * (event.total - event.step), per_step
