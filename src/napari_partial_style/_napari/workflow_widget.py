"""One dock for the whole job: Segment → Stylize → Composite and score as tabs, "Quick look" and "Run all".

The three step widgets are the same ones the separate docks show, so every option, default and
check is theirs. Run all is one worker over the job's document (core/job): the tabs' content,
style, labels and settings are the document's inputs (each change a step of its history), the
pipeline computes what is missing or out of date, and the results become the contract's layers
(_napari/job_view.py). Painting the labels afterwards marks what it made out of date, in the dock;
Undo and Redo go over whole steps. Tabs keep the dock short, and each tab scrolls. Quick look runs
the tabs' job at a low resolution (core/job/quick_look.py) into one `<image> quick look` layer,
and says from its timings how long Run all will take. On a clip whose Segment tab says all frames,
Run all is the tabs' own all-frames jobs in turn instead (_napari/stage_chain.py): those jobs are
per frame, not steps of one document.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import napari
import numpy as np
from magicgui.widgets import Label, PushButton
from qtpy.QtCore import Qt, QUrl
from qtpy.QtGui import QDesktopServices, QKeySequence
from qtpy.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QPushButton,
    QShortcut,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from napari_partial_style._napari import layer_names as names
from napari_partial_style._napari.common import (
    ALL_SLICES,
    layer_kind,
    mark_used,
    session,
    source_image,
)
from napari_partial_style._napari.jobs import JobProgress, JobRunner, duration, full_width
from napari_partial_style._napari.save_bundle import save_button
from napari_partial_style._napari.scrolling import ScrollingStep
from napari_partial_style._napari.stage_chain import Stage, StageChain
from napari_partial_style.core.errors import InputError

HELP_URL = "https://github.com/napari-partial-style/napari-partial-style/blob/main/docs/napari.md"
RUN_KEYS, CANCEL_KEYS = "Ctrl+Return", "Escape"
RUN_ALL = "Run all"
STROKE_DELAY_MS = 150
QUICK = "Quick look"


class WorkflowWidget(QWidget):
    def __init__(self, viewer: napari.viewer.Viewer, segment, stylize, composite) -> None:
        """`segment`, `stylize` and `composite` are the step widgets its tabs show (docks.py makes them)."""
        super().__init__()
        self.viewer = viewer
        self.segment, self.stylize, self.composite = segment, stylize, composite
        self.tabs = QTabWidget()
        for number, (widget, title) in enumerate(
            ((self.segment, "Segment"), (self.stylize, "Stylize"), (self.composite, "Composite && score")), start=1
        ):
            self.tabs.addTab(ScrollingStep(widget), f"{number} {title}")
        self.run_all = PushButton(text=RUN_ALL)
        self.run_all.tooltip = (
            "segment the content (unless it has labels already), stylize its labels, composite "
            "and score; again after a change, only what the change made out of date "
            f"({RUN_KEYS} runs the open tab's step, {CANCEL_KEYS} cancels). On a clip or stack whose "
            "Segment tab says all frames: every frame, with the tabs' all-frames jobs in turn (Segment "
            "following the region unless every frame has labels, Stylize, Composite, Score per frame); "
            "Cancel keeps the frames finished"
        )
        self.undo, self.redo = QPushButton("Undo step"), QPushButton("Redo step")
        self.undo.setToolTip("go back one whole step of Run all's job: a result, a correction or new settings")
        self.redo.setToolTip("go forward again one whole step")
        self.undo.clicked.connect(lambda: self._history("undo"))
        self.redo.clicked.connect(lambda: self._history("redo"))
        self.help = QPushButton("Help")
        self.help.setToolTip(f"the napari workflow, step by step, in the browser: {HELP_URL}")
        self.help.clicked.connect(lambda: QDesktopServices.openUrl(QUrl(HELP_URL)))
        self.resegment = QCheckBox("segment again")
        self.resegment.setToolTip(
            "Run all segments the content even when it has labels already (a sample's, "
            "yours or an earlier run's); unticked, it stylizes those"
        )
        self.quick = PushButton(
            text=QUICK,
            tooltip="the whole job at low resolution (one saliency scale, the style "
            "at 128 px, 30 steps, no score) into '<image> quick look', in seconds; it says how "
            "long Run all will take",
        )
        self.quick_status = Label(value="")
        self.quick_progress = JobProgress()
        self.quick_runner = JobRunner(self.quick, self.quick_status, QUICK, self.quick_progress)
        self.quick.clicked.connect(lambda: self.quick_runner.toggle(self._quick_job))
        self._estimate: tuple[str, float] | None = None  # (content layer name, seconds Run all takes)
        self.status = Label(value="")  # what Run all will do, did, and what is out of date
        full_width(self.status)
        self.all_status = Label(value="")  # its worker's progress and errors
        self.all_progress = JobProgress()
        self.all_runner = JobRunner(self.run_all, self.all_status, RUN_ALL, self.all_progress)
        self.clip_runner = StageChain(self.run_all, self.status, self.all_progress, RUN_ALL)
        self.clip_runner.on_end.append(lambda _ok: self._history_shown())
        self.run_all.clicked.connect(self._run_all_clicked)
        self.save = save_button(viewer, self._job_to_save, self.all_status)
        self._view = None  # the document Run all computed last, and its content layer
        self._watched = None  # that document's labels layer, whose strokes mark results out of date
        self._timer = None
        top = QHBoxLayout()
        top.addWidget(self.quick.native)
        top.addWidget(self.run_all.native, 1)
        top.addWidget(self.resegment)
        top.addWidget(self.help)
        history = QHBoxLayout()
        history.addWidget(self.undo)
        history.addWidget(self.redo)
        history.addStretch(1)
        history.addWidget(self.save.native)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.quick_status.native)
        layout.addWidget(self.quick_progress.native)
        layout.addLayout(history)
        layout.addWidget(self.all_progress.native)
        layout.addWidget(self.all_status.native)
        layout.addWidget(self.status.native)
        layout.addWidget(self.tabs)
        self._history_shown()
        for line in (self.quick_status, self.all_status):  # an empty line takes no room in the dock
            line.visible = False
            line.changed.connect(lambda text, line=line: setattr(line, "visible", bool(text)))
        self._connect()

    def _connect(self) -> None:
        """The tabs' content shows its bundle's settings and history; a tab's step, done, is a step of it too."""
        self.segment.image.changed.connect(self._show_recorded)
        self.segment.image.changed.connect(lambda _layer: self._history_shown())
        self._show_recorded(self.segment.image.value)  # a bundle opened before the dock
        steps = (self.segment.runner, self.stylize.runner, self.composite.runner, self.composite.composite_runner)
        for runner in steps:
            runner.on_done.append(lambda _ok: self._history_shown())
        self._link(self.stylize.form["composite.crf_edge"], self.composite.composite_form["composite.crf_edge"])
        self.shortcuts = {
            RUN_KEYS: self._shortcut(RUN_KEYS, self.run_tab),
            CANCEL_KEYS: self._shortcut(CANCEL_KEYS, self.cancel),
        }

    @staticmethod
    def _link(*boxes) -> None:
        """Boxes of one option in several tabs (the CRF soft edge shapes Stylize's guides and
        Composite's alpha, as --crf-edge does both): changing one changes the others."""
        for box in boxes:
            box.changed.connect(
                lambda value, box=box: [
                    other.set_value(value) for other in boxes if other is not box and other.value != value
                ]
            )

    def _shortcut(self, keys: str, action: Callable[[], None]) -> QShortcut:
        shortcut = QShortcut(QKeySequence(keys), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # only while the dock has focus
        shortcut.activated.connect(action)
        return shortcut

    def _runners(self):
        return (
            self.segment.runner,
            self.segment.crf_runner,
            self.stylize.runner,
            self.composite.runner,
            self.segment.point_runner,
            self.segment.prompts.runner,
            self.stylize.sweep_runner,
            self.quick_runner,
            self.all_runner,
        )

    @property
    def running_all(self) -> bool:
        return self.all_runner.running or self.clip_runner.running

    def run_tab(self) -> None:
        """The open tab's main button (Segment, Stylize, Composite), as its keyboard shortcut."""
        button = (self.segment.run, self.stylize.run, self.composite.composite_button)[self.tabs.currentIndex()]
        button.clicked.emit()

    def cancel(self) -> None:
        self.clip_runner.cancel()
        for runner in self._runners():
            if runner.running:
                runner.cancel()

    def _inputs(self):
        """The content and style layers the tabs hold; InputError names the one missing."""
        content, style = self.segment.image.value, self.stylize.style.value
        if content is None:
            raise InputError("open an image and choose it in the Segment tab first.")
        if style is None or style is content:
            self.tabs.setCurrentIndex(1)
            raise InputError("choose the style image in the Stylize tab first (open one, e.g. File › Open Sample).")
        return content, style

    def _run_all_clicked(self) -> None:
        """Run all, or Cancel while it runs: on a stack whose Segment tab says all frames, the
        tabs' all-frames jobs in turn (`_clip_stages`), else the document's job of the frame shown."""
        if self.clip_runner.running:
            self.clip_runner.cancel()
        elif not self.all_runner.running and self._runs_every_frame():
            try:
                stages = self._clip_stages()
            except InputError as exc:
                self.status.value = f"{RUN_ALL}: {exc}"
                return
            self.clip_runner.start(stages)
        else:
            self.all_runner.toggle(self._run_all_job)

    def _runs_every_frame(self) -> bool:
        content = self.segment.image.value
        return self.segment.slices.every_slice(content)

    def _clip_stages(self) -> list[Stage]:
        """Segment (unless every frame has labels and 'segment again' is unticked, the rule of the
        frame shown: labels given are stylized as they are), Stylize, Composite and Score on all
        frames, each the tab's own job; the tabs are set to all frames and to the content and style."""
        content, style = self._inputs()
        segment, stylize, composite = self.segment, self.stylize, self.composite

        def labels():
            return self._labels_of(content)

        def to_stylize() -> None:
            self.tabs.setCurrentIndex(1)
            stylize.content.value, stylize.style.value = content, style
            stylize.slices.value = ALL_SLICES
            stylize.labels_layer.reset_choices()
            stylize.labels_layer.value = labels()

        def to_composite() -> None:
            self.tabs.setCurrentIndex(2)
            composite.content.value = content
            composite.slices.value = ALL_SLICES
            composite._pick_companions()
            composite.labels_layer.value = labels()

        def to_score() -> None:
            composite.style.reset_choices()
            composite.style.value = style

        stages = [
            Stage("Stylize", stylize.runner, stylize._stylize_job, to_stylize),
            Stage("Composite", composite.composite_runner, composite.composite_job, to_composite),
        ]
        if self.params().score.enabled:
            stages.append(Stage("Score", composite.runner, composite._score_job, to_score))
        if self.resegment.isChecked() or not self._every_frame_labelled(content, labels()):
            stages.insert(
                0, Stage("Segment", segment.runner, segment._segment_job, lambda: self.tabs.setCurrentIndex(0))
            )
        return stages

    @staticmethod
    def _every_frame_labelled(content, labels) -> bool:
        """Labels with a plane per frame of `content`, each with a region."""
        from napari_partial_style._napari.layers import planes

        if labels is None:
            return False
        frames = planes(content)[1]
        label_planes = planes(labels)[1] if labels.ndim > 2 else []
        return (
            len(label_planes) == len(frames)
            and label_planes[0].shape == frames[0].shape[:2]
            and all(plane.any() for plane in label_planes)
        )

    def _run_all_job(self):
        """Run all: the tabs' inputs and settings into the content's document, and one worker that
        computes what is missing or out of date; bad input raises here."""
        from napari_partial_style._napari.job_view import bind, computed, show
        from napari_partial_style.core.job import pipeline

        try:
            content, style = self._inputs()
        except InputError as exc:
            self.status.value = f"{RUN_ALL}: {exc}"
            raise
        mark_used(content=content, style=style)
        self.stylize.content.value = self.composite.content.value = content  # the tabs show the job that runs
        params = self.params()
        labels = None if self.resegment.isChecked() else self._labels_of(content)
        view = bind(self.viewer, content, style, labels, params, self.resegment.isChecked())
        self._follow(view)
        job_session = session(params.session)
        steps = pipeline.todo(view.document)

        compute = computed(view.document, job_session)

        def job():
            return (yield from compute)

        def shown(ran) -> Iterator[None]:
            from napari_partial_style.core.segment.score_meaning import summary

            yield from show(self.viewer, view, ran)
            self._follow(view)  # the labels layer may be new
            done = ", ".join(ran) if ran else "nothing was out of date"
            score = view.document.results.get("score")
            self.status.value = f"{RUN_ALL}: done ({done})" + (
                "" if score is None else f"\n{summary(score.value.scores)}"
            )
            self._history_shown()

        self.status.value = f"{RUN_ALL}: {self._plan_text(view, steps, content.name)}"
        return job, shown, None, self._history_shown

    def _plan_text(self, view, steps: list[str], content: str) -> str:
        """What Run all is about to do, in words."""
        if not steps:
            return "every result is up to date; change a setting, a style or the labels first"
        text = ", ".join(steps)
        if "segment" not in steps and view.document.segmentation is None and view.labels is not None:
            text += f" (stylizing the labels '{view.labels.name}'; 'segment again' to replace them)"
        if self._estimate is not None and self._estimate[0] == content and "segment" in steps:
            text += f" · about {duration(self._estimate[1])} in all (from the quick look)"
        return text

    def _show_recorded(self, layer=None) -> None:
        """A reopened bundle's content chosen: the tabs show the settings it was made with, so that
        Run all, after one change, recomputes only what depends on it."""
        from napari_partial_style._napari.job_view import recorded_params
        from napari_partial_style.core.options import flatten

        params = recorded_params(layer)
        if params is None:
            return
        values = flatten(params)
        for form in (self.segment.form, self.stylize.form, self.composite.composite_form, self.composite.score_form):
            form.set_values(values)
        self.status.value = f"{RUN_ALL}: the settings of {layer.name}'s bundle are in the tabs"

    def _follow(self, view) -> None:
        """Watch the document's labels layer: a stroke marks what it made out of date, in the dock."""
        if self._watched is not None:
            self._watched.events.paint.disconnect(self._schedule)
            self._watched.events.data.disconnect(self._schedule)
        self._view, self._watched = view, None
        if view.labels is not None:
            view.labels.events.paint.connect(self._schedule)
            view.labels.events.data.connect(self._schedule)
            self._watched = view.labels

    def _schedule(self, _event=None) -> None:
        """A stroke's many paint events, read into the document once (a copy of the labels)."""
        from qtpy.QtCore import QTimer

        if self._timer is None:
            self._timer = QTimer(self)
            self._timer.setSingleShot(True)
            self._timer.timeout.connect(self._labels_painted)
        self._timer.start(STROKE_DELAY_MS)

    def _labels_painted(self) -> None:
        view = self._view
        if view is None or self.all_runner.running or view.labels is None or view.labels not in self.viewer.layers:
            return
        view.document.edit_labels(np.asarray(view.labels.data).copy())
        self._history_shown()

    def _history(self, which: str) -> None:
        """Undo or redo one whole step of the content's document (whichever dock or Run all made
        it), and show its results."""
        from napari_partial_style._napari.job_view import show_all

        view = self._current_view()
        if view is None or self.all_runner.running:
            return
        step = getattr(view.document, which)()
        if step is None:
            self.status.value = f"nothing to {which}"
            return
        for _ in show_all(self.viewer, view):
            pass
        self._history_shown(f"{'undid' if which == 'undo' else 'redid'} {step}")

    def _history_shown(self, said: str = "") -> None:
        """Undo/Redo enabled as the history allows; the status says what is out of date."""
        from napari_partial_style._napari.job_view import stale_text

        view = self._current_view()
        doc = None if view is None else view.document
        self.undo.setEnabled(doc is not None and bool(doc.history.done))
        self.redo.setEnabled(doc is not None and bool(doc.history.undone))
        stale = "" if doc is None else stale_text(doc)
        text = " · ".join(t for t in (said, stale) if t)
        if text:
            self.status.value = f"{RUN_ALL}: {text}"

    def _current_view(self):
        """The Segment tab's content's document (the step docks and Run all share it), else Run all's last."""
        from napari_partial_style._napari.job_view import view_of

        content = self.segment.image.value
        return (None if content is None else view_of(content)) or self._view

    def params(self):
        """The job the tabs describe: Segment's, Stylize's (and its session), Composite's and Score's options."""
        from napari_partial_style.core.options import build
        from napari_partial_style.core.params import JobParams

        composite = self.composite
        return build(
            JobParams,
            {
                **composite.score_form.values(),
                **composite.composite_form.values(),
                **self.segment.form.values(),
                **self.stylize.form.values(),
            },
        )

    def _quick_job(self):
        """Quick look: the tabs' job at low resolution (bad input raises here, as for any job)."""
        import numpy as np

        from napari_partial_style._napari.layers import put_image
        from napari_partial_style.core.job.quick_look import full_job_seconds, quick_params

        layer, style_layer = self._inputs()
        self.stylize.content.value = layer  # the tabs show the job that ran, as Run all's do
        labels_layer = None if self.resegment.isChecked() else self._labels_of(layer)
        params = self.params()
        quick = quick_params(params)
        content = source_image(self.viewer, layer, "a content image")
        style = source_image(self.viewer, style_layer, "a style image")
        labels = None if labels_layer is None else np.asarray(labels_layer.data)
        mark_used(content=layer, style=style_layer)
        job_session = session(quick.session)
        sizes = (
            session(self.segment.params().session).size_for(content.shape),
            session(self.stylize.params().session).size_for(content.shape),
        )

        def job():
            started = time.perf_counter()
            if labels is None:  # networks first, so the stages' timings hold only their own work
                yield from job_session.classifier(params.segment.classifier)
            yield from job_session.style_network(params.style)
            result = yield from job_session.run(content, style, quick, labels)
            return result, time.perf_counter() - started, str(job_session.device)

        def show(out) -> None:
            result, seconds, device = out
            put_image(
                self.viewer,
                names.role(names.base_name(layer.name), names.QUICK_LOOK),
                result.composite,
                layer,
                {"quick_look": result.record},
                rgb=result.composite.ndim == 3,
            )
            estimate = full_job_seconds(
                result.record["timings_s"], params, max(content.shape), *sizes, segments=labels is None
            )
            self._estimate = (layer.name, estimate)
            self.quick_status.value = (
                f"{QUICK}: done in {duration(seconds)}. {RUN_ALL} will take about {duration(estimate)} on {device}."
            )

        return job, show

    def _job_to_save(self):
        """Save bundle's content (the Segment tab's image) and its newest labels."""
        content = self.segment.image.value
        return content, None if content is None else self._labels_of(content)

    def _labels_of(self, content):
        """The newest labels layer of `content` (`<content> labels [n]`), else None."""
        base = names.base_name(content.name)
        found = [
            lyr
            for lyr in self.viewer.layers
            if isinstance(lyr, layer_kind("labels")) and names.is_labels(base, lyr.name)
        ]
        return found[-1] if found else None
