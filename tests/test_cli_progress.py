"""The progress the command prints: estimates once they mean something, plain lines into a log."""

import pytest


def test_the_estimate_waits_for_a_few_steps(monkeypatch):
    import io

    from napari_partial_style import _terminal
    from napari_partial_style.core.progress import Progress

    clock = iter([0.0, 2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6])  # a slow first step, then 0.1 s a step
    monkeypatch.setattr(_terminal.time, "perf_counter", lambda: next(clock))
    stream = io.StringIO()
    printer = _terminal.ProgressPrinter(stream=stream)
    for step in range(1, 8):
        printer(Progress("style", step, 100))
        if step < 6:
            assert "about" not in stream.getvalue()
    assert "style: about 9.9s for 100 steps (0.1 s a step over steps 2-6)" in stream.getvalue()


def test_the_estimate_weighs_finer_levels_by_their_pixels_and_is_told_again_there():
    """A pyramid: 10 steps of 1 unit (pixels) at 0.1 s, then 5 steps of 4 units at 0.6 s. Counting
    steps would say the last 5 take 0.5 s; weighed by pixels, 2.0 s; measured there, 3.0 s."""
    from napari_partial_style import _terminal
    from napari_partial_style.core.progress import Estimator, Progress

    times = [1.0 + 0.1 * k for k in range(10)] + [2.9 + 0.6 * k for k in range(5)]
    events = [
        Progress(
            "style",
            k,
            15,
            message="level 2/2 at 600 px" if k > 10 else "",
            work=(float(min(k, 10) + 4 * max(0, k - 10)), 30.0),
        )
        for k in range(1, 16)
    ]
    estimator, told = Estimator(), {}
    estimator.started = 0.0
    for event, now in zip(events, times):
        if (estimate := estimator.update(event, now)) is not None:
            told[event.step] = estimate
        if event.step == 10:
            assert estimator.left(event) == pytest.approx(0.1 * 20)
    assert sorted(told) == [6, 13]  # after 5 steps of the first level, after 1 s of the second
    assert (told[6].total, told[6].per_step, told[6].first, told[6].again) == (
        pytest.approx(1.5 + 2.4),
        pytest.approx(0.1),
        2,
        False,
    )
    assert (told[13].left, told[13].per_step, told[13].first, told[13].again) == (
        pytest.approx(1.2),
        pytest.approx(0.6),
        12,
        True,
    )
    assert estimator.left(events[-1]) == 0
    assert (
        _terminal._estimate_line(events[12], told[13])
        == "style: about 1.2s left, 5.3s in all (0.6 s a step over steps 12-13, level 2/2 at 600 px)"
    )


def test_progress_into_a_log_is_plain_lines_and_on_a_terminal_fits_its_width(monkeypatch):
    """`\\r` bars 79 columns wide were written into log files."""
    import io
    import os

    from napari_partial_style import _terminal
    from napari_partial_style.core.progress import Progress

    clock = iter(float(t) for t in range(0, 1000, 10))  # 10 s a step
    monkeypatch.setattr(_terminal.time, "perf_counter", lambda: next(clock))
    log = io.StringIO()
    printer = _terminal.ProgressPrinter(stream=log)
    for step in range(1, 11):
        printer(Progress("style", step, 10))
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and 3 <= len(lines) <= 5, lines  # every 30 s, and the end
    assert lines[-1].startswith("style: 10/10")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(_terminal.shutil, "get_terminal_size", lambda: os.terminal_size((50, 20)))
    screen = Terminal()
    _terminal.ProgressPrinter(stream=screen)(Progress("segment", 1, 3, message="a long message " * 10))
    assert screen.getvalue().startswith("\rsegment") and len(screen.getvalue()) == 1 + 49
