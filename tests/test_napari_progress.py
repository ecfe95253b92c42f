"""The dock's progress line: the time left only once it can be estimated, never 'about 0 s left'."""

import pytest

pytest.importorskip("napari")


def test_time_left_shows_only_once_measured_and_not_at_a_stages_end(qtbot, monkeypatch):
    from napari_partial_style._napari import jobs
    from napari_partial_style.core.progress import Progress

    clock = iter(float(t) for t in range(100))
    monkeypatch.setattr(jobs.time, "perf_counter", lambda: next(clock))
    progress = jobs.JobProgress()
    shown = []
    for step in range(1, 5):
        progress.show_event(Progress("saliency", step, 4))
        shown.append(progress.text.value)
    assert "left" not in shown[0] and "left" not in shown[1]  # no rate measured yet
    assert shown[2] == "saliency 3/4 · about 1 s left"
    assert shown[3] == "saliency 4/4"  # the stage's end: nothing left to estimate
