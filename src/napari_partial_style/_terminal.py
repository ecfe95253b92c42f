"""Progress bars on stderr for the CLI: one line per stage, redrawn in place."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from napari_partial_style.core.progress import Progress

WIDTH = 28


class ProgressPrinter:
    """Draws stage events; after the first style step it prints the estimated time."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.stage: str | None = None
        self.stage_start = time.perf_counter()
        self.open_line = False

    def info(self, text: str) -> None:
        if not self.quiet:
            self._end_line()
            print(text, file=self.stream, flush=True)

    def __call__(self, event: Progress) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        if event.stage != self.stage:
            self._end_line()
            self.stage, self.stage_start = event.stage, now
        if event.stage == "style" and event.step == 1 and event.total > 1:
            estimate = (now - self.stage_start) * event.total
            self.info(f"style: about {_duration(estimate)} for {event.total} steps (measured on the first step)")
        self._bar(event.stage, event.step, event.total, _values(event), now - self.stage_start)

    def _bar(self, label: str, step: int, total: int, extra: str, elapsed: float) -> None:
        filled = int(WIDTH * step / total) if total else WIDTH
        line = f"\r{label:<10} [{'#' * filled}{'.' * (WIDTH - filled)}] {step}/{total} {_duration(elapsed)} {extra}"
        self.stream.write(line.ljust(79))
        self.stream.flush()
        self.open_line = True
        if step >= total:
            self._end_line()

    def _end_line(self) -> None:
        if self.open_line:
            self.stream.write("\n")
            self.open_line = False


def _values(event: Progress) -> str:
    return " ".join(f"{k} {v:.3g}" for k, v in event.values.items()) or event.message


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m{seconds:02d}s"
