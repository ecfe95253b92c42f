"""One job at a time per widget: a core generator in a napari thread worker.

The worker's events drive a progress bar with the time left inside the dock (napari's own bar in its
activity panel only where the settings ask for it, or the runner has no dock bar: the panel's spinner
redraws the whole window 30 times a second, which on software OpenGL slowed the jobs by 20% to 2x);
the Run button turns into Cancel while it runs (which stops the job within one network layer,
core/runtime/cancel.py); the bars close and the button comes back on every
ending (result, error, cancel), which stardist-napari#23 is the counterexample of. Errors become notifications, never dialogs. A result that adds several layers can be shown one
layer per event-loop turn (napari spends 0.1-0.2 s making each on software OpenGL), so the viewer
never freezes for their sum.

Workers run in a thread pool of our own, not Qt's global one: Qt 6 splits image conversions and
scaling on the main thread into tasks for the global pool and waits for them while the main thread
holds the GIL. With two jobs filling a global pool of two threads (a 2-core machine), those tasks
never ran and napari froze for good.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

from magicgui.widgets import Container, Label, ProgressBar, PushButton

from napari_partial_style._napari.settings import activity_panel
from napari_partial_style.core.progress import Estimator, Progress
from napari_partial_style.core.runtime.cancel import cancellable

CANCEL = "Cancel"
MAX_PARALLEL_JOBS = 4
_pool = None


def job_pool():
    """The plugin's own QThreadPool (see the module docstring)."""
    global _pool
    if _pool is None:
        from qtpy.QtCore import QThreadPool

        _pool = QThreadPool()
        _pool.setMaxThreadCount(MAX_PARALLEL_JOBS)
    return _pool


# What napari imports on the main thread the first time a Labels layer is made: pandas for its
# features (0.36 s here) and scikit-image's colour conversions, with scipy.linalg, for its default
# colormap (0.13 s); the user sees a frozen viewer as the first result appears.
LAYER_IMPORTS = ("pandas", "skimage.color.colorconv")


def _prepare_first_layers() -> None:
    """Import LAYER_IMPORTS, and have vispy compute its dash patterns (cached for the process; every
    labels layer's polygon overlay needs them: 0.12 s the first time), in the worker once its job is
    done, where it costs the event loop nothing. At the job's start it stalled the loop instead: the
    main thread's own first imports for the progress bars waited on the import lock."""
    from vispy.visuals.line.dash_atlas import DashAtlas

    for module in LAYER_IMPORTS:
        importlib.import_module(module)
    DashAtlas()


def full_width(label: Label) -> None:
    """A label that wraps at the dock's width: without Expanding, Qt wraps a word-wrapped label at
    its narrow size hint, a few words per line in a corner of the dock."""
    from qtpy.QtWidgets import QSizePolicy

    label.native.setWordWrap(True)
    label.native.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)


def duration(seconds: float) -> str:
    """'45 s', '3 min 20 s', '1 h 05 min': what a person reads at a glance."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class JobProgress(Container):
    """The running stage's bar and the time left, in the dock; hidden when nothing runs."""

    def __init__(self) -> None:
        self.bar = ProgressBar(value=0, min=0, max=1)
        self.text = Label(value="")
        full_width(self.text)
        super().__init__(widgets=[self.bar, self.text], labels=False)
        self.native.layout().setContentsMargins(0, 0, 0, 0)
        self.visible = False
        self._stage: str | None = None
        self._estimator = Estimator()

    def show_event(self, event: Progress) -> None:
        if event.stage != self._stage:
            self._stage, self._estimator = event.stage, Estimator()
        self._estimator.update(event, time.perf_counter())
        # QProgressBar repaints at once on a new value, and in a napari window (an OpenGL canvas
        # inside) a repaint recomposes the whole window: 25 ms an event on software OpenGL, and the
        # CRF's ten quick events froze napari for their sum. Queued instead, Qt draws once a turn.
        self.bar.native.setUpdatesEnabled(False)
        self.bar.max = max(event.total, 1)
        self.bar.value = min(max(event.step, 0), self.bar.max)
        self.bar.native.setUpdatesEnabled(True)  # which queues one update
        seconds = self._estimator.left(event)
        # none before a rate is measured, and none at a stage's last step ("about 0 s left" said nothing)
        if seconds is None or event.step >= event.total:
            left = ""
        else:
            left = " · under 1 s left" if seconds < 1 else f" · about {duration(seconds)} left"
        self.text.value = f"{event.stage} {event.step}/{event.total}{left}"
        self.visible = True

    def clear(self) -> None:
        self.visible = False
        self.text.value = ""
        self._stage = None


class JobRunner:
    def __init__(self, button: PushButton, status: Label, name: str, progress: JobProgress | None = None) -> None:
        self.button = button
        self.progress = progress
        self.status = status
        full_width(status)  # a long error wraps instead of widening the dock
        self.name = name
        self.run_text = button.text
        self.worker = None
        self.bar = None  # napari's activity-panel bar
        self.in_activity_panel = progress is None
        self.stage: str | None = None  # of the activity panel's bar
        self._events = 0  # progress events received
        self.cancelled = False
        self._stop = threading.Event()  # stops the job inside a network pass (core/runtime/cancel.py)
        self.last_error: BaseException | None = None
        self.computed_at: float | None = None
        self.on_abort: Callable[[], None] | None = None
        self.finished_with_result = False
        self.on_done: list[Callable[[bool], None]] = []  # called at every ending: did it give a result?
        self._showing: Iterator | None = None  # a result being shown in parts
        self._finish_pending = False
        self._next_part = None  # the timer that shows the next part
        self._pacer = None  # previews no more often than napari draws them (made with the first)

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(
        self,
        job: Callable[[], Generator[Progress, None, Any]],
        on_result: Callable[[Any], Iterator | None],
        on_event: Callable[[Progress], None] | None = None,
        on_abort: Callable[[], None] | None = None,
    ) -> None:
        """Run `job()` (a core generator) in a thread; `on_result` gets its return value (when it is
        a generator, each of its steps runs in an event-loop turn of its own, and the job ends after
        the last), and `on_abort` is called when it ends without one (cancelled or failed), to undo
        previews."""
        from napari.qt.threading import create_worker

        if self.running:
            return
        self.cancelled, self.last_error, self.computed_at = False, None, None
        stop = self._stop = threading.Event()
        self.in_activity_panel = self.progress is None or activity_panel()
        self.on_abort, self.finished_with_result = on_abort, False

        def drive():
            with cancellable(stop):
                result = yield from job()
            _prepare_first_layers()
            self.computed_at = time.perf_counter()  # before the results become layers
            return result

        worker = create_worker(drive, _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(lambda event: self._on_event(event, on_event))
        worker.returned.connect(lambda result: self._on_result(result, on_result))
        worker.errored.connect(self.report_error)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self.button.text = CANCEL
        self.status.value = f"{self.name}: starting"
        job_pool().start(worker)  # the worker stays referenced by self.worker until it finishes

    def toggle(self, prepare: Callable[[], tuple]) -> None:
        """The Run/Cancel button: cancel the running job, or call `prepare()` for
        (job, on_result[, on_event[, on_abort]]) and start it; bad input becomes a notification."""
        if self.running:
            self.cancel()
            return
        try:
            job, *callbacks = prepare()
        except Exception as exc:
            self.report_error(exc)
            return
        self.start(job, *callbacks)

    def cancel(self) -> None:
        if self.worker is not None and self._showing is None:  # a result being shown is not stopped
            self.cancelled = True
            self.status.value = f"{self.name}: cancelling"
            self._stop.set()
            self.worker.quit()

    def _on_event(self, event: Progress, on_event: Callable[[Progress], None] | None) -> None:
        if self.worker is None:  # a step Qt delivered after the job ended: a bar opened now would never close
            return
        self._events += 1
        if self.in_activity_panel and not self._show_in_activity_panel(event):
            return
        detail = event.message or " ".join(f"{k} {v:.3g}" for k, v in event.values.items())
        self.status.value = f"{self.name}: {event.stage} {event.step}/{event.total} {detail}".rstrip()
        if self.progress is not None:
            self.progress.show_event(event)
        if on_event is None:
            return
        if event.preview is None:
            on_event(event)
            return
        if self._pacer is None:  # the button's child: gone (and silent) with the widget
            from napari_partial_style._napari.preview_pacer import PreviewPacer

            self._pacer = PreviewPacer(self.button.native)
        self._pacer.offer(event, on_event)

    def _show_in_activity_panel(self, event: Progress) -> bool:
        """The event in napari's bar for its stage; False when it is no longer news: napari's bars
        run the event loop, in which the job may end or later events arrive (and open their own bar)."""
        from napari.utils import progress

        seen = self._events
        if event.stage != self.stage or self.bar is None:
            self._close_bar()
            bar = progress(total=event.total, desc=f"{self.name}: {event.stage}")
            if self._events != seen or self.worker is None:
                bar.close()
                return False
            self.bar, self.stage = bar, event.stage
        self.bar.total = event.total
        self.bar.n = event.step
        self.bar.refresh()
        if self.worker is None:
            self._close_bar()
        return self.worker is not None and self._events == seen

    def report_error(self, exc: BaseException, action: str | None = None) -> None:
        """One line in the status (wrapped, so the dock keeps its width) and a notification;
        `action` names what failed when it is not this runner's job (e.g. Composite beside Score)."""
        from napari.utils.notifications import show_error

        from napari_partial_style._napari.forms import in_widget_words
        from napari_partial_style.core.errors import Cancelled, PartialStyleError

        if isinstance(exc, Cancelled) and self.cancelled:  # how a cancelled pass ends: not an error
            return
        self.last_error = exc
        text = in_widget_words(str(exc)) if isinstance(exc, PartialStyleError) else f"{exc.__class__.__name__}: {exc}"
        name = action or self.name
        self.status.value = f"{name} failed: {text.splitlines()[0]}"
        show_error(f"{name} failed: {text}")

    def _on_result(self, result: Any, on_result: Callable[[Any], Iterator | None]) -> None:
        self.finished_with_result = True
        self._drop_previews()
        try:
            shown = on_result(result)
        except Exception as exc:  # showing the result failed (e.g. the input layer was deleted meanwhile)
            self.report_error(exc)
            return
        if isinstance(shown, Iterator):
            from qtpy.QtCore import QTimer

            self._showing = shown
            if self._next_part is None:  # the button's child: gone (and silent) with the widget
                self._next_part = QTimer(self.button.native)
                self._next_part.setSingleShot(True)
                self._next_part.timeout.connect(self._show_next)
            self._show_next()

    def _show_next(self) -> None:
        """One step of showing the result; the next in the next event-loop turn."""
        try:
            next(self._showing)
        except StopIteration:
            self._showing = None
        except Exception as exc:
            self._showing = None
            self.report_error(exc)
        if self._showing is not None:
            self._next_part.start(0)
        elif self._finish_pending:
            self._on_finished()

    def _on_finished(self) -> None:
        self._finish_pending = self._showing is not None
        if self._finish_pending:  # the worker is done; the job ends once its result is shown
            return
        self._drop_previews()
        if not self.finished_with_result and self.on_abort is not None:
            self.on_abort()
        self._close_bar()
        if self.progress is not None:
            self.progress.clear()
        self.worker = None
        self.stage = None
        self.button.text = self.run_text
        if self.cancelled:
            self.status.value = f"{self.name}: cancelled; layers were left as they were"
        elif self.last_error is None and not self.status.value.startswith(f"{self.name}: done"):
            self.status.value = f"{self.name}: done"
        ok = self.finished_with_result and not self.cancelled and self.last_error is None
        for callback in list(self.on_done):
            callback(ok)

    def _drop_previews(self) -> None:
        if self._pacer is not None:
            self._pacer.drop()

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
