"""napari stays responsive while jobs run: work in workers, drawing once a turn, Qt's pool free."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari_helpers import TIMEOUT_MS, dock, segment_for_cup, small_scene, wait_done  # noqa: E402


def event_loop_gaps(qtbot, viewer, runner, start):
    """Largest gap between ticks of a 10 ms timer from the click until the job's computation ended,
    leaving out the gaps in which napari added a layer (its own cost, 0.1-0.7 s on software OpenGL:
    a new Stylize result is a new layer, `stylized [2]`). Also returns how many were left out."""
    from qtpy.QtCore import QTimer

    ticks, inserted = [time.perf_counter()], []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    viewer.layers.events.inserted.connect(lambda _e: inserted.append(time.perf_counter()))
    timer.start(10)
    start()
    wait_done(qtbot, runner)
    timer.stop()
    ticks = [t for t in ticks if t <= runner.computed_at] + [runner.computed_at]
    gaps = [(b - a) for a, b in zip(ticks, ticks[1:]) if not any(a <= t <= b for t in inserted)]
    return float(max(gaps)), len(ticks) - 1 - len(gaps)


@pytest.mark.slow
def test_viewer_stays_responsive_while_stages_run(make_napari_viewer, qtbot, hub):
    """First runs included: the networks are loaded inside the jobs (the process-wide cache is
    emptied), in the worker thread, so loading them never holds up napari's drawing."""
    from napari_partial_style.core.nets import model_cache

    model_cache._load.cache_clear()
    viewer = make_napari_viewer()
    img, style = small_scene(viewer)
    segment = segment_for_cup(viewer, img, classifier="imagenet")  # the full network: its load is what could stall
    stylize = dock(viewer, "Stylize")
    stylize.content.value, stylize.style.value = img, style
    stylize.form["session.size"].value, stylize.form["style.steps"].value, stylize.preview_every.value = 48, 10, 5
    stylize.form["style.fine_steps"].value = 1
    gaps = {
        "segment": event_loop_gaps(qtbot, viewer, segment.runner, segment.run.clicked),
        "crf": event_loop_gaps(qtbot, viewer, segment.crf_runner, segment.crf_only.clicked),
        "stylize": event_loop_gaps(qtbot, viewer, stylize.runner, stylize.run.clicked),
    }
    assert segment.runner.last_error is None and stylize.runner.last_error is None
    assert all(gap < 0.2 for gap, _ in gaps.values()), gaps
    assert gaps["stylize"][1] <= 1  # only the preview layer's creation was left out


def test_what_napari_imports_for_a_first_labels_layer_is_imported_in_the_worker(qtbot, monkeypatch):
    """pandas and scikit-image's colour module took 0.5 s on the main thread as the first labels
    appeared; the job imports them in its thread, after its work (at its start they stalled napari)."""

    from magicgui.widgets import Label, PushButton

    from napari_partial_style._napari import jobs
    from napari_partial_style.core.progress import Progress

    calls = []
    monkeypatch.setattr(jobs.importlib, "import_module", lambda name: calls.append((name, threading.current_thread())))

    def job():
        yield Progress("work", 1, 1)
        calls.append(("job done", threading.current_thread()))
        return 1

    runner = jobs.JobRunner(PushButton(), Label(), "Test")
    runner.start(job, on_result=lambda result: None)
    wait_done(qtbot, runner)
    assert [name for name, _ in calls] == ["job done", *jobs.LAYER_IMPORTS]
    threads = {thread for _, thread in calls}
    assert len(threads) == 1 and threading.main_thread() not in threads


def test_the_docks_progress_bar_is_drawn_once_a_turn_not_at_every_event(qtbot):
    """QProgressBar repaints at once on a new value; inside napari's window (an OpenGL canvas) that
    redrew the whole window, 25 ms an event on software OpenGL, and the CRF's ten quick events froze
    napari for their sum. The bar takes every value and is drawn in the next turn."""
    from qtpy.QtCore import QEvent, QObject

    from napari_partial_style._napari.jobs import JobProgress
    from napari_partial_style.core.progress import Progress

    class Paints(QObject):
        count = 0

        def eventFilter(self, _obj, event):
            self.count += event.type() == QEvent.Type.Paint
            return False

    progress = JobProgress()
    progress.native.show()
    progress.show_event(Progress("crf", 0, 10))
    qtbot.waitUntil(lambda: progress.native.isVisible())
    qtbot.wait(50)
    paints = Paints()
    progress.bar.native.installEventFilter(paints)
    for step in range(1, 11):
        progress.show_event(Progress("crf", step, 10))
    assert paints.count == 0 and progress.bar.value == 10
    qtbot.waitUntil(lambda: paints.count > 0, timeout=2000)
    progress.native.close()


def test_a_result_shown_in_parts_takes_an_event_loop_turn_a_part(qtbot):
    """napari spends 0.1-0.2 s making each layer on software OpenGL: Segment's maps and labels are
    added in turns of their own, so the viewer draws in between (ticks of a 0 ms timer), and the job
    ends (button, Run all's next stage) only after the last one; a part that fails is reported."""
    from magicgui.widgets import Label, PushButton
    from qtpy.QtCore import QTimer

    from napari_partial_style._napari import jobs
    from napari_partial_style.core.progress import Progress

    def job():
        yield Progress("work", 1, 1)
        return 3

    ticks, parts, done = [], [], []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(0)

    def show(count):
        for part in range(count):
            parts.append((len(ticks), runner.running))
            if part == 1:
                runner.cancel()  # a result being shown is not cancelled
            yield

    runner = jobs.JobRunner(PushButton(), Label(), "Test")
    runner.on_done.append(done.append)
    runner.start(job, on_result=show)
    wait_done(qtbot, runner)
    assert len(parts) == 3 and all(running for _, running in parts)
    assert parts[0][0] < parts[1][0] < parts[2][0]
    assert done == [True] and runner.status.value == "Test: done"

    def broken(count):
        yield
        raise ValueError("the input layer was deleted")

    runner.start(job, on_result=broken)
    wait_done(qtbot, runner)
    timer.stop()
    assert done == [True, False] and "the input layer was deleted" in runner.status.value


def test_previews_come_no_faster_than_they_are_drawn_and_none_after_the_job(qtbot):
    """A preview costs napari a repaint (0.1-0.3 s under load on software OpenGL): when the job
    previews faster than that, the event loop gets as long again after each shown preview, the newest
    waiting one is shown next, and none is shown once the job has ended (its result comes instead)."""
    from magicgui.widgets import Label, PushButton

    from napari_partial_style._napari import jobs
    from napari_partial_style.core.progress import Progress

    draw = 0.03  # what showing a preview costs here

    def job():
        for step in range(1, 61):
            time.sleep(0.005)
            yield Progress("style", step, 60, preview=np.zeros((2, 2, 3)))
        return "result"

    shown, ended = [], []

    def show_preview(event):
        shown.append((time.perf_counter(), event.step))
        time.sleep(draw)

    runner = jobs.JobRunner(PushButton(), Label(), "Test")
    runner.start(job, on_result=lambda result: ended.append(time.perf_counter()), on_event=show_preview)
    wait_done(qtbot, runner)
    qtbot.wait(200)  # a preview left waiting would show now
    steps = [step for _, step in shown]
    assert steps[0] == 1 and 2 <= len(steps) < 30, steps  # the first at once; not one per step
    assert steps == sorted(set(steps))
    assert all(b - a >= 2 * draw * 0.9 for (a, _), (b, _) in zip(shown, shown[1:]))
    assert all(t < ended[0] for t, _ in shown)


def test_new_labels_in_an_existing_layer_are_drawn_once_at_their_size_in_their_colours(make_napari_viewer):
    """Each property set on a visible labels layer redrew it (contours: 50 ms a megapixel, three
    times for a Re-run CRF); the layer is now drawn once, and a new size still updates its extent."""
    from napari_partial_style._napari.layers import put_labels
    from napari_partial_style._napari.stable_colors import class_color

    viewer = make_napari_viewer()
    img = viewer.add_image(np.zeros((40, 50), np.float32), name="img")
    layer, _ = put_labels(viewer, "img labels", np.zeros((40, 50), np.int32), ["a"], img)
    drawn = []
    layer.events.set_data.connect(lambda _e: drawn.append(1))
    again, renamed = put_labels(viewer, "img labels", np.full((40, 50), 2, np.int32), ["a", "b"], img)
    assert again is layer and not renamed and layer.visible and len(drawn) == 1
    np.testing.assert_allclose(layer.colormap.map(np.array([2]))[0], class_color("b"), atol=1e-6)
    put_labels(viewer, "img labels", np.ones((60, 70), np.int32), ["a"], img)
    assert tuple(layer.extent.data[1]) == (59, 69) and layer.mode == "pan_zoom"


def test_two_jobs_at_once_leave_qts_global_pool_free(make_napari_viewer, qtbot, hub):
    from qtpy.QtCore import QThreadPool

    pool = QThreadPool.globalInstance()
    before = pool.maxThreadCount()
    pool.setMaxThreadCount(2)  # a 2-core machine
    try:
        viewer = make_napari_viewer()
        img, style = small_scene(viewer)
        segment = segment_for_cup(viewer, img)
        stylize = dock(viewer, "Stylize")
        stylize.content.value, stylize.style.value = img, style
        stylize.form["session.size"].value, stylize.form["style.steps"].value, stylize.preview_every.value = 48, 30, 5
        stylize.form["style.fine_steps"].value = 1
        segment.run.clicked()
        stylize.run.clicked()
        busy = []
        qtbot.waitUntil(
            lambda: busy.append(pool.activeThreadCount()) or not (segment.runner.running or stylize.runner.running),
            timeout=TIMEOUT_MS,
        )
        assert max(busy) == 0  # Qt's own image work on the main thread can always run
        assert segment.runner.last_error is None and stylize.runner.last_error is None
        assert "img labels" in viewer.layers and viewer.layers["img stylized"].data.shape == (64, 96, 3)
    finally:
        pool.setMaxThreadCount(before)
