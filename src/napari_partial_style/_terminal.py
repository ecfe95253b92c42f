"""Progress bars on stderr for the CLI: one line per stage, redrawn in place."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from napari_partial_style.core.progress import Progress

WIDTH = 28
# The estimate waits for a few steps (or a second): the first step also warms caches and allocators.
ESTIMATE_AFTER_STEPS = 5
ESTIMATE_AFTER_S = 1.0


class ProgressPrinter:
    """Draws stage events; after a few style steps it prints the estimated time."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.stage: str | None = None
        self.stage_start = time.perf_counter()
        self.open_line = False
        self.first_step_at: float | None = None
        self.estimated = False

    def info(self, text: str) -> None:
        if not self.quiet:
            self.end_line()
            print(text, file=self.stream, flush=True)

    def __call__(self, event: Progress) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        if event.stage != self.stage:
            self.end_line()
            self.stage, self.stage_start = event.stage, now
            self.first_step_at, self.estimated = None, False
        if event.stage == "style":
            self._estimate(event, now)
        self._bar(event.stage, event.step, event.total, _values(event), now - self.stage_start)

    def _bar(self, label: str, step: int, total: int, extra: str, elapsed: float) -> None:
        filled = int(WIDTH * step / total) if total else WIDTH
        line = f"\r{label:<10} [{'#' * filled}{'.' * (WIDTH - filled)}] {step}/{total} {_duration(elapsed)} {extra}"
        self.stream.write(line.ljust(79))
        self.stream.flush()
        self.open_line = True
        if step >= total:
            self.end_line()

    def _estimate(self, event: Progress, now: float) -> None:
        """Once, from the rate of the steps after the first: 'about 4m10s for 300 steps'."""
        if event.step == 1:
            self.first_step_at = now
            return
        if self.estimated or self.first_step_at is None or event.step >= event.total:
            return
        measured = now - self.first_step_at
        if event.step - 1 >= ESTIMATE_AFTER_STEPS or measured >= ESTIMATE_AFTER_S:
            per_step = measured / (event.step - 1)
            remaining = per_step * (event.total - event.step)
            self.estimated = True
            self.info(f"style: about {_duration(now - self.stage_start + remaining)} for {event.total} steps "
                      f"({per_step:.2g} s a step over steps 2-{event.step})")

    def end_line(self) -> None:
        """Finish a progress bar's line, so that what comes next starts on a line of its own."""
        if self.open_line:
            self.stream.write("\n")
            self.open_line = False


def _values(event: Progress) -> str:
    return " ".join(f"{k} {v:.3g}" for k, v in event.values.items()) or event.message


def _duration(seconds: float) -> str:
    if seconds < 0.1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m{seconds:02d}s"
