"""Ctrl-C and SIGTERM: exit 130 (143), no traceback, nothing half written, at any moment."""

import subprocess
import sys

import pytest
from cli_inputs import run_args, write_inputs

from napari_partial_style.cli import main


@pytest.fixture
def inputs(tmp_path):
    return write_inputs(tmp_path)


def test_an_interrupt_that_a_library_swallowed_still_stops_the_job_with_nothing_written(
    hub, inputs, tmp_path, monkeypatch, capsys
):
    """A Ctrl-C caught by a bare `except:` (around an import, say) let the job run on and write its
    bundle (1 of 46 early interrupts)."""
    import signal

    from napari_partial_style.core.job import record

    real_record = record.environment

    def swallowing(*args, **kwargs):
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            pass
        return real_record(*args, **kwargs)

    monkeypatch.setattr(record, "environment", swallowing)
    out = tmp_path / "x.pstyle"
    assert main(run_args(inputs, out)) == 130
    assert "interrupted; nothing was written" in capsys.readouterr().err and not out.exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back for the rest of the process


@pytest.mark.slow
def test_ctrl_c_at_any_moment_exits_130_without_a_traceback_or_a_result(hub, inputs, tmp_path):
    """Once a bare traceback at 0.33 s (before the command's own handling began). The moments are
    counted from when our first module has been imported: a Ctrl-C before that lands in Python's
    own start-up (importing runpy), which no program can handle, and on a loaded machine that
    start-up takes longer than the shortest delay."""
    import signal
    import threading
    import time

    for delay in (0.0, 0.03, 0.08, 0.15, 0.3, 0.6, 1.2, 2.4):
        out = tmp_path / f"after-{delay}.pstyle"
        job = [*run_args(inputs, out, "--no-score")]
        del job[
            job.index("--classifier") : job.index("--classifier") + 2
        ]  # the entry point as installed: no tiny sources
        child = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "napari_partial_style", *job],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        lines: list[str] = []
        ours = threading.Event()

        def read(stream=child.stderr, lines=lines, ours=ours) -> None:
            for line in stream:
                lines.append(line)
                if "napari_partial_style.cli.entry" in line:
                    ours.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert ours.wait(60), "".join(lines)
        time.sleep(delay)
        child.send_signal(signal.SIGINT)
        child.wait(timeout=60)
        reader.join(10)
        err = "".join(line for line in lines if not line.startswith("import time:"))
        assert "Traceback" not in err, (delay, err)
        if child.returncode != 0:  # it may have finished first
            assert child.returncode == 130 and "interrupted" in err and not out.exists(), (delay, child.returncode, err)
