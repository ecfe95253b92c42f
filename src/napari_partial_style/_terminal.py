"""Progress on stderr for the CLI: on a terminal, one bar per stage redrawn in place, as wide as
the terminal; into a file or a pipe (a log, a cluster job), plain lines: one when a stage ends and
one every half minute of a long stage, never carriage returns."""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

from napari_partial_style.core.progress import Estimate, Estimator, Progress

WIDTH = 28
LOG_EVERY_S = 30.0


class ProgressPrinter:
    """Draws stage events; after a few style steps it prints the estimated time."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.stage: str | None = None
        self.stage_start = time.perf_counter()
        self.open_line = False
        self.estimator = Estimator()
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.logged = 0.0

    def info(self, text: str) -> None:
        if not self.quiet:
            self.end_line()
            print(text, file=self.stream, flush=True)

    def warn(self, text: str) -> None:
        """A warning is printed even with --quiet: the result may not be what was asked for."""
        self.end_line()
        print(f"warning: {text}", file=self.stream, flush=True)

    def __call__(self, event: Progress) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        if event.stage != self.stage:
            self.end_line()
            self.stage, self.stage_start, self.logged = event.stage, now, 0.0
            self.estimator = Estimator()
            self.estimator.started = now
        if event.stage == "style" and (estimate := self.estimator.update(event, now)):
            self.info(_estimate_line(event, estimate))
        self._bar(event.stage, event.step, event.total, _values(event), now - self.stage_start)

    def _bar(self, label: str, step: int, total: int, extra: str, elapsed: float) -> None:
        done = step >= total
        if not self.live:
            if done or elapsed - self.logged >= LOG_EVERY_S:
                self.logged = 0.0 if done else elapsed
                print(f"{label}: {step}/{total} {_duration(elapsed)} {extra}".rstrip(), file=self.stream, flush=True)
            return
        columns = max(40, shutil.get_terminal_size().columns - 1)
        filled = int(WIDTH * step / total) if total else WIDTH
        line = f"{label:<10} [{'#' * filled}{'.' * (WIDTH - filled)}] {step}/{total} {_duration(elapsed)} {extra}"
        self.stream.write("\r" + line[:columns].ljust(columns))
        self.stream.flush()
        self.open_line = True
        if step >= total:
            self.end_line()

    def end_line(self) -> None:
        """Finish a progress bar's line, so that what comes next starts on a line of its own."""
        if self.open_line:
            self.stream.write("\n")
            self.open_line = False


def _estimate_line(event: Progress, estimate: Estimate) -> str:
    """The first estimate of the stage in all; a later one (a finer level, timed afresh) says what is left."""
    rate = f"{estimate.per_step:.2g} s a step over steps {estimate.first}-{estimate.last}"
    if not estimate.again:
        return f"style: about {_duration(estimate.total)} for {event.total} steps ({rate})"
    where = f", {event.message}" if event.message else ""
    return f"style: about {_duration(estimate.left)} left, {_duration(estimate.total)} in all ({rate}{where})"


def _values(event: Progress) -> str:
    return " ".join(f"{k} {v:.3g}" for k, v in event.values.items()) or event.message


def _duration(seconds: float) -> str:
    if seconds < 0.1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m{seconds:02d}s"
