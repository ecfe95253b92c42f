"""Run all on a clip: the tabs' own all-frames jobs, one after another, under one button.

Each stage is a tab's job as its own button builds it (Segment following the region, Stylize and
Composite on all frames, Score of every frame), started on that tab's runner, so its checks, its
layers and what Cancel keeps (the frames finished) are the tab's. A stage is prepared on the GUI
thread only once the one before has shown its result: Stylize needs the labels layer Segment made.
The chain's own bar mirrors the running stage's events, named after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from magicgui.widgets import Label, PushButton

from napari_partial_style._napari.jobs import CANCEL, JobProgress, JobRunner


@dataclass(frozen=True)
class Stage:
    name: str  # what the status and the bar call it: "Stylize"
    runner: JobRunner  # the tab's runner that runs it
    prepare: Callable[[], tuple]  # (job, show[, on_event[, on_abort]]), as a tab's button toggles; raises on bad input
    before: Callable[[], None] = lambda: None  # sets the tab up for it (its inputs, all frames)


class StageChain:
    """Stages run in order; the next starts when the one before ended with a result. One Cancel
    (the button) stops the running stage; the stages not started leave their layers as they were."""

    def __init__(self, button: PushButton, status: Label, progress: JobProgress, name: str) -> None:
        self.button, self.status, self.progress, self.name = button, status, progress, name
        self.run_text = button.text
        self._stages: list[Stage] = []
        self._at = -1
        self.cancelled = False
        self.on_end: list[Callable[[bool], None]] = []  # called once the chain ends: did every stage finish?

    @property
    def running(self) -> bool:
        return self._at >= 0

    @property
    def stage(self) -> Stage | None:
        return self._stages[self._at] if self.running else None

    def start(self, stages: list[Stage]) -> None:
        busy = [stage.name for stage in stages if stage.runner.running]
        if self.running or busy:
            self.status.value = f"{self.name}: wait for {', '.join(busy) or 'the run'} to end first"
            return
        self._stages, self.cancelled = stages, False
        self.button.text = CANCEL
        self._next(0)

    def cancel(self) -> None:
        if self.running:
            self.cancelled = True
            self.status.value = f"{self.name}: cancelling {self.stage.name}"
            self.stage.runner.cancel()

    def _next(self, at: int) -> None:
        if at == len(self._stages):
            self._end(True, f"{self.name}: done ({', '.join(s.name for s in self._stages)} on every frame)")
            return
        self._at = at
        stage = self._stages[at]
        self.status.value = f"{self.name}: {at + 1} of {len(self._stages)}, {stage.name}"
        try:
            stage.before()
            job, show, *rest = stage.prepare()
        except Exception as exc:  # bad input: the tab says why, the chain stops here
            stage.runner.report_error(exc)
            self._end(False, f"{self.name}: stopped at {stage.name}: {stage.runner.status.value}")
            return
        on_event = rest[0] if rest else None
        on_abort = rest[1] if len(rest) > 1 else None
        stage.runner.on_done.append(self._stage_done)
        stage.runner.start(job, show, self._mirrored(stage.name, on_event), on_abort)

    def _mirrored(self, name: str, on_event: Callable | None) -> Callable:
        """The tab's own event handling, and the event on the chain's bar under the stage's name."""

        def handle(event) -> None:
            self.progress.show_event(replace(event, stage=f"{name}: {event.stage}", preview=None))
            if on_event is not None:
                on_event(event)

        return handle

    def _stage_done(self, ok: bool) -> None:
        stage = self._stages[self._at]
        stage.runner.on_done.remove(self._stage_done)
        if ok and not self.cancelled:
            self._next(self._at + 1)
            return
        said = stage.runner.status.value  # the tab's line: what it kept, or why it failed
        if self.cancelled or stage.runner.cancelled:
            self._end(False, f"{self.name}: cancelled during {stage.name} ({said}); the later steps did not run")
        else:
            self._end(False, f"{self.name}: stopped at {stage.name}: {said}")

    def _end(self, ok: bool, line: str) -> None:
        self._at = -1
        self.button.text = self.run_text
        self.progress.clear()
        self.status.value = line
        for callback in list(self.on_end):
            callback(ok)
