"""Batches and the paper's evaluation: a tiny grid on the CPU, resumed, killed, on a LocalCluster."""

import csv
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tiny_networks
from synthetic import two_tone

from napari_partial_style.cli import main
from napari_partial_style.core.io.bundle import read_bundle
from napari_partial_style.core.io.image_files import write_image_file

JOB = ["--size", "48", "--steps", "2", "--fine-steps", "1", "--device", "cpu"]
TINY_CLI = str(Path(__file__).with_name("tiny_cli.py"))


@pytest.fixture
def grid_files(tmp_path):
    contents = tmp_path / "contents"
    contents.mkdir()
    write_image_file(contents / "ball.png", two_tone((48, 64)))
    mask = np.zeros((48, 64), np.uint8)
    mask[10:30, 20:44] = 255
    write_image_file(contents / "ball_mask.png", mask)
    for cls, seed in (("metal", 3), ("wood", 4)):
        (tmp_path / "styles" / cls).mkdir(parents=True)
        write_image_file(tmp_path / "styles" / cls / f"{cls}1.png", two_tone((40, 40), rng=np.random.default_rng(seed)))
    return tmp_path


def evaluate(files, out, *extra, classifier="tiny-materials"):
    return main(
        [
            "evaluate",
            "--contents",
            str(files / "contents"),
            "--styles",
            str(files / "styles"),
            "--classifier",
            str(classifier),
            "--out",
            str(out),
            *JOB,
            *extra,
        ]
    )


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_grid_writes_every_report_file_and_a_rerun_adds_nothing(hub, grid_files, capsys):
    out = grid_files / "report"
    assert evaluate(grid_files, out) == 0
    results = rows(out / "results.csv")
    assert len(results) == 2 and {r["style_class"] for r in results} == {"metal", "wood"}
    assert {r["expected_class"] for r in results} == {"metal", "wood"}  # scored against the style's class
    assert all(0 <= float(r["pixel_accuracy"]) <= 1 and r["mask"].endswith("ball_mask.png") for r in results)
    assert {r["method"] for r in results} == {"masked"}  # the default the jobs ran (before: always "composite")
    table = rows(out / "table1.csv")
    assert {t["method"] for t in table} == {"masked"}
    assert list(table[0]) == [
        "method",
        "style_class",
        "content",
        "n",
        "pixel_accuracy_mean",
        "pixel_accuracy_std",
        "mean_iu_mean",
        "mean_iu_std",
    ]
    assert {(t["style_class"], t["content"]) for t in table} == {
        (c, k) for c in ("metal", "wood") for k in ("ball.png", "all")
    }
    from PIL import Image

    for name in ("fig8_pixel_acc.png", "fig9_mean_iu.png", "fig7_grid.png"):
        assert Image.open(out / name).size[0] > 100
    assert Image.open(out / "fig7_grid.png").size[0] >= 2 * 64  # one column per style class
    assert "| metal |" in (out / "table1.md").read_text() and "table1" not in (out / "report.md").read_text()[:10]
    bundle = read_bundle(next((out / "bundles").glob("*metal*.pstyle")))
    assert bundle.scores["expected_class"] == "metal" and bundle.composite.shape == (48, 64, 3)
    before = (out / "results.csv").read_bytes()
    capsys.readouterr()
    assert evaluate(grid_files, out) == 0
    assert (out / "results.csv").read_bytes() == before
    assert "0 job(s) written, 2 already done" in capsys.readouterr().err


def test_a_killed_run_redoes_only_the_row_it_cut_off(hub, grid_files, capsys):
    out = grid_files / "report"
    assert evaluate(grid_files, out) == 0
    text = (out / "results.csv").read_text()
    (out / "results.csv").write_text(text[: len(text) - 20])  # killed while writing the last row
    capsys.readouterr()
    assert evaluate(grid_files, out) == 0
    err = capsys.readouterr().err
    assert "the last row was cut off" in err and "1 job(s) written, 1 already done" in err
    assert len(rows(out / "results.csv")) == 2


def test_other_parameters_do_not_count_as_done_and_replace_bundles_only_with_overwrite(hub, grid_files, capsys):
    """A rerun with other settings replaced every bundle silently and left rows pointing at them."""
    out = grid_files / "report"
    assert evaluate(grid_files, out, "--per-class", "1") == 0
    before = {p.name: p.read_bytes() for p in (out / "bundles").iterdir()}
    capsys.readouterr()
    assert evaluate(grid_files, out, "--feather", "2") == 2
    assert "exists from a run with other settings (2 such bundle(s)); add --overwrite" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in (out / "bundles").iterdir()} == before
    assert evaluate(grid_files, out, "--feather", "2", "--overwrite") == 0
    assert "2 job(s) written, 0 already done" in capsys.readouterr().err
    assert len(rows(out / "table1.csv")) == 4  # the report shows the latest settings only
    results = rows(out / "results.csv")
    assert len(results) == 2 and len({r["params_hash"] for r in results}) == 1  # no row points at a replaced bundle


@pytest.mark.slow
def test_a_local_cluster_gives_what_the_in_process_run_gives(hub, grid_files):
    import torch

    distributed = pytest.importorskip("distributed")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each worker runs torch: the same sums in the same order
    try:
        assert evaluate(grid_files, grid_files / "here", "--no-bundles") == 0
    finally:
        torch.set_num_threads(threads)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            client.run(tiny_networks.register)  # the workers are other processes
        assert evaluate(grid_files, grid_files / "there", "--no-bundles", "--scheduler", cluster.scheduler_address) == 0
    here = {r["key"]: r for r in rows(grid_files / "here" / "results.csv")}
    there = {r["key"]: r for r in rows(grid_files / "there" / "results.csv")}
    assert here.keys() == there.keys()
    for key in here:  # another thread count would change the sums' order, and a few hundred steps amplify it
        for metric in ("pixel_accuracy", "mean_iu"):
            assert float(here[key][metric]) == pytest.approx(float(there[key][metric]), abs=1e-3)
    assert not (grid_files / "there" / "bundles").exists() and (grid_files / "there" / "thumbs").is_dir()


@pytest.mark.parametrize(
    "case, words",
    [
        ("no_class_folders", "has no class folders with images"),
        ("mask_size", "give a mask of the content's size"),
        ("unknown_class", "are not classes of the classifier"),
        ("results_folder", "results.csv is a folder, where the results file goes"),
    ],
)
def test_bad_grids_give_one_line_and_exit_2(grid_files, material_checkpoint, case, words, capsys):
    styles, classifier = grid_files / "styles", material_checkpoint
    if case == "no_class_folders":
        styles = grid_files / "flat"
        styles.mkdir()
        write_image_file(styles / "a.png", two_tone((40, 40)))
    elif case == "mask_size":
        write_image_file(grid_files / "contents" / "ball_mask.png", np.zeros((10, 10), np.uint8))
    elif case == "unknown_class":
        (styles / "wood").rename(styles / "plastic")
    elif case == "results_folder":
        (grid_files / "r" / "results.csv").mkdir(parents=True)
    code = main(
        [
            "evaluate",
            "--contents",
            str(grid_files / "contents"),
            "--styles",
            str(styles),
            "--classifier",
            str(classifier),
            "--out",
            str(grid_files / "r"),
            *JOB,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not (grid_files / "r").exists() or case == "results_folder"


def test_a_batch_writes_a_bundle_per_content_and_goes_on_past_a_bad_one(hub, grid_files, capsys):
    contents = grid_files / "contents"
    write_image_file(contents / "cup.png", two_tone((40, 56), rng=np.random.default_rng(9)))
    (contents / "broken.png").write_text("not an image")
    out = grid_files / "batch"
    style = grid_files / "styles" / "metal" / "metal1.png"
    code = main(
        [
            "run",
            str(contents / "ball.png"),
            str(contents / "cup.png"),
            str(contents / "broken.png"),
            str(style),
            "--out",
            str(out),
            "--target",
            "cup",
            "--no-score",
            "--classifier",
            "tiny",
            *JOB,
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "broken.png" in err and "2 job(s) written" in err
    ball = read_bundle(out / "bundles" / "ball.pstyle")
    assert ball.manifest["inputs"]["labels"].endswith("ball_mask.png") and ball.labels.max() == 1
    assert read_bundle(out / "bundles" / "cup.pstyle").manifest["targets"] == ["cup"]  # segmented: no mask
    (contents / "broken.png").unlink()
    code = main(
        [
            "run",
            str(contents),
            str(style),
            "--out",
            str(out),
            "--target",
            "cup",
            "--no-score",
            "--classifier",
            "tiny",
            *JOB,
        ]
    )
    assert code == 0 and "0 job(s) written, 2 already done" in capsys.readouterr().err
    text = (out / "results.csv").read_text()
    (out / "results.csv").write_text(text[: len(text) - 20])  # killed while writing the last row
    code = main(
        [
            "run",
            str(contents),
            str(style),
            "--out",
            str(out),
            "--target",
            "cup",
            "--no-score",
            "--classifier",
            "tiny",
            *JOB,
        ]
    )
    err = capsys.readouterr().err  # its bundle was made with these settings: redone, not "other settings"
    assert code == 0 and "1 job(s) written, 1 already done" in err, err


def test_without_the_batch_extra_the_message_names_it(grid_files, monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name == "distributed":
            raise ImportError("No module named 'distributed'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    assert evaluate(grid_files, grid_files / "r") == 2
    err = capsys.readouterr().err
    assert 'pip install "napari-partial-style[batch]"' in err and "Traceback" not in err


@pytest.mark.slow
def test_sigterm_mid_grid_keeps_the_finished_jobs_and_a_rerun_goes_on(hub, grid_files):
    import os
    import signal
    import subprocess
    import sys
    import time

    out = grid_files / "report"
    command = [
        sys.executable,
        TINY_CLI,
        "evaluate",
        "--contents",
        str(grid_files / "contents"),
        "--styles",
        str(grid_files / "styles"),
        "--classifier",
        "tiny-materials",
        "--out",
        str(out),
        *JOB,
        "--steps",
        "60",
    ]
    env = {**os.environ, "TORCH_HOME": str(hub)}
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "results.csv").exists() and len(rows(out / "results.csv")) >= 1:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 143, err
    assert "the jobs that finished are in" in err and len(rows(out / "results.csv")) == 1
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "1 job(s) written, 1 already done" in done.stderr


def test_our_local_cluster_serves_no_dashboard_and_listens_only_on_localhost():
    """Dask's default (dashboard_address=None included) put a web page on 0.0.0.0:8787 during every batch."""
    import psutil

    from napari_partial_style.batch.executor import client

    pytest.importorskip("distributed")

    def listening():
        return {c.laddr for c in psutil.Process().net_connections("inet") if c.status == psutil.CONN_LISTEN}

    before = listening()
    with client(workers=2):
        opened = listening() - before
    assert all(address.ip in ("127.0.0.1", "::1") for address in opened), opened
    assert 8787 not in {address.port for address in opened}


@pytest.fixture
def not_a_scheduler():
    """A port that takes a connection and answers other data, or (HTTP) waits for a request line."""
    import http.server
    import socket
    import threading

    closers = []

    def start(kind):
        if kind == "http":
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            closers.append(server.shutdown)
            return f"tcp://127.0.0.1:{server.server_address[1]}"
        listener = socket.create_server(("127.0.0.1", 0))

        def serve():
            while True:
                connection, _ = listener.accept()
                connection.sendall(b"\xff" * 64 + b"SSH-2.0-OpenSSH_9.6\r\n" * 8)

        threading.Thread(target=serve, daemon=True).start()
        closers.append(listener.close)
        return f"tcp://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for close in closers:
        close()


@pytest.mark.parametrize("kind", ["foo", "tls://127.0.0.1:8786", "junk", "http"])
def test_an_address_that_is_no_scheduler_is_one_line(grid_files, not_a_scheduler, monkeypatch, kind, capsys):
    """Before: ValueError and TypeError tracebacks, a MemoryError, or (an HTTP port) a wait without end."""
    import time

    from napari_partial_style.batch import executor

    pytest.importorskip("distributed")
    monkeypatch.setattr(executor, "ANSWER_SECONDS", 3)
    address = not_a_scheduler(kind) if kind in ("junk", "http") else kind
    started = time.monotonic()
    assert evaluate(grid_files, grid_files / "r", "--scheduler", address) == 2
    err = capsys.readouterr().err
    assert f"cannot connect to the Dask scheduler at {address}" in err and len(err.strip().splitlines()) == 1, err
    assert time.monotonic() - started < 30 and not (grid_files / "r").exists()
    if kind == "http":
        assert "no answer in 3 s" in err


def test_a_batch_without_a_live_worker_stops_in_a_bounded_time(grid_files, monkeypatch, capsys):
    """Before: with no worker (never started, or the only one died), the client waited without a word."""
    import time

    from napari_partial_style.batch import executor

    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(executor, "NO_WORKER_SECONDS", 1)
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address="127.0.0.1:0") as cluster:
        started = time.monotonic()
        assert evaluate(grid_files, grid_files / "r", "--scheduler", cluster.scheduler_address) == 2
    err = capsys.readouterr().err
    assert f"no Dask worker alive at {cluster.scheduler_address} for 1 s (2 job(s) not run)" in err, err
    assert len(err.strip().splitlines()) == 1 and time.monotonic() - started < 30


def test_the_only_worker_dying_mid_job_stops_the_wait(monkeypatch):
    import threading
    import time

    from napari_partial_style.batch import executor
    from napari_partial_style.core.errors import PartialStyleError

    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(executor, "NO_WORKER_SECONDS", 1)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0"
        ) as cluster,
        distributed.Client(cluster) as dask_client,
    ):
        threading.Timer(0.5, cluster.scale, (0,)).start()
        with pytest.raises(PartialStyleError, match=r"no Dask worker alive at .* for 1 s \(2 job\(s\) not run\)"):
            list(executor.run_tasks(dask_client, time.sleep, [(5,), (5,)]))


def test_an_interrupted_batch_points_to_results_only_once_they_exist(tmp_path):
    """Before: SIGTERM before the first row said "the jobs that finished are in …/results.csv", a file
    that did not exist."""
    from napari_partial_style.batch.runner import InterruptNote, Summary, describe

    summary = Summary(tmp_path / "out", 2, failures=["a", "b"])  # every job failed
    assert "results:" not in describe(summary)[0] and "no results.csv was written" in describe(summary)[0]
    note = InterruptNote(tmp_path / "out")  # made when the batch starts, read when it is stopped
    assert str(note).startswith("no job had finished") and "run the same command again" in str(note)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "results.csv").write_text("key\n")
    assert str(note).startswith(f"the jobs that finished are in {tmp_path / 'out' / 'results.csv'}")
    assert describe(summary)[0].endswith(f"results: {tmp_path / 'out' / 'results.csv'}")


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_damaged_bundle_in_the_way_is_named_damaged(hub, grid_files, overwrite, capsys):
    """Before: "exists from a run with other settings; add --overwrite", and with --overwrite the job
    ran and failed at its end on a file that is not a bundle."""
    from napari_partial_style.core.io.bundle import FORMAT, VERSION

    bundles = grid_files / "r" / "bundles"
    bundles.mkdir(parents=True)
    cut = bundles / "ball__metal__metal1.pstyle"
    with zipfile.ZipFile(cut, "w") as archive:
        archive.writestr("content.png", bytes(50_000))
        archive.writestr("manifest.json", json.dumps({"format": FORMAT, "version": VERSION, "files": {}}))
    cut.write_bytes(cut.read_bytes()[:-40])  # cut off, as by a full disk or a copy stopped half-way
    before = cut.read_bytes()
    assert evaluate(grid_files, grid_files / "r", *(["--overwrite"] if overwrite else [])) == 2
    err = capsys.readouterr().err
    assert f"damaged bundle in the way: {cut}" in err and "move or delete it" in err, err
    assert "other settings" not in err and len(err.strip().splitlines()) == 1
    assert cut.read_bytes() == before and not (grid_files / "r" / "results.csv").exists()


def test_evaluate_without_the_weights_says_so_before_any_job(hub, grid_files, tmp_path, monkeypatch, capsys):
    """Before: every job ran and failed, exit 1 and an empty report."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    assert evaluate(grid_files, grid_files / "r") == 2
    err = capsys.readouterr().err
    assert "vgg19-dcbb9e9d.pth" in err and "cannot be downloaded" in err and "Traceback" not in err, err
    assert not (grid_files / "r").exists()
