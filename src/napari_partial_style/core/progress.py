"""Progress events: what every long stage yields, so the CLI and napari workers share one loop."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """One step of one stage; `preview` is an image worth showing now, if any. `work` (done, in
    all) is given where steps cost unequal amounts: the style pyramid counts the pixels each step
    optimises, so a step at a finer level weighs more in the time estimate."""

    stage: str
    step: int
    total: int
    message: str = ""
    values: dict[str, float] = field(default_factory=dict)
    preview: np.ndarray | None = None
    work: tuple[float, float] | None = None


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


def map_events(
    gen: Generator[Progress, None, T], change: Callable[[Progress], Progress]
) -> Generator[Progress, None, T]:
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


@dataclass(frozen=True)
class Estimate:
    """Seconds the stage takes in all and has left, from the rate of `first`..`last` steps;
    `again` when an earlier run of the stage was estimated before."""

    total: float
    left: float
    per_step: float
    first: int
    last: int
    again: bool


class Estimator:
    """The time a stage will take, from the rate of its steps. A run of equally costly steps is
    timed from its first step on (the first also warms caches or, in a pyramid, sets up its level);
    once `min_steps` and then `after_steps` steps or `after_s` seconds of it are timed, an estimate
    is told, and the rate is refined at every step after. A later run (a finer level) is timed
    afresh and told again; until then the rest is costed at the last rate, per unit of the
    events' `work` (or per step)."""

    def __init__(self, after_steps: int = 5, after_s: float = 1.0, min_steps: int = 2) -> None:
        self.after_steps, self.after_s, self.min_steps = after_steps, after_s, min_steps
        self.started: float | None = None
        self._rate: float | None = None  # seconds per unit of work, last measured
        self._units = 0.0  # work done at the last event
        self._cost: float | None = None  # work per step in the current run
        self._anchor: tuple[float, float, int] = (0.0, 0.0, 0)  # time, work and step at the run's first step
        self._told = 0  # estimates told in this stage
        self._run_told = False

    def update(self, event: Progress, now: float) -> Estimate | None:
        """The estimate when a run has just been measured, else None."""
        units, total = event.work if event.work is not None else (float(event.step), float(event.total))
        if event.step <= 1:
            self.started = self.started if self.started is not None else now
            self._units, self._cost = 0.0, None
        cost, self._units = units - self._units, units
        if cost <= 0:  # the same step again (a preview after a tile)
            return None
        if self._cost is None or not math.isclose(cost, self._cost, rel_tol=1e-6):
            self._cost, self._anchor, self._run_told = cost, (now, units, event.step), False
            return None
        start, start_units, start_step = self._anchor
        timed = event.step - start_step
        if timed < self.min_steps or (timed < self.after_steps and now - start < self.after_s):
            return None
        self._rate = (now - start) / (units - start_units)
        if self._run_told or event.step >= event.total:
            return None
        self._run_told, again = True, self._told > 0
        self._told += 1
        left = self._rate * (total - units)
        return Estimate(
            now - (self.started if self.started is not None else start) + left,
            left,
            self._rate * cost,
            start_step + 1,
            event.step,
            again,
        )

    def left(self, event: Progress) -> float | None:
        """Seconds left after `event` at the last rate measured; None before the first."""
        if self._rate is None:
            return None
        units, total = event.work if event.work is not None else (event.step, event.total)
        return self._rate * max(0.0, total - units)
