import errno
import json
import os
import signal
import subprocess
import sys

import re

import numpy as np
import pytest

from napari_partial_style.core.io import bundle as bundle_mod
from napari_partial_style.core.io.bundle import Bundle, check_target, read_bundle, write_bundle
from napari_partial_style.core.io.image_files import write_image_file
from napari_partial_style.core.errors import BundleError, InputError, OutputError
from synthetic import two_tone


def sample_bundle(rng, dtype=np.uint8, marker=0):
    content = two_tone(dtype=dtype)
    labels = np.zeros(content.shape[:2], np.uint8)
    labels[5:20, 5:30] = 1
    return Bundle(
        manifest={"targets": ["cup"], "classifier_classes": ["cup", "plate"], "marker": marker},
        content=content,
        style=two_tone((40, 40)),
        stylized=two_tone(dtype=dtype)[::-1].copy(),
        composite=content,
        labels=labels,
        saliency=rng.random((1, *content.shape[:2])).astype(np.float32),
        crf_probabilities=rng.random((2, *content.shape[:2])).astype(np.float32),
        scores={"pixel_accuracy": 0.5, "mean_iu": 0.25},
    )


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_round_trip(tmp_path, rng, dtype):
    original = sample_bundle(rng, dtype)
    path = write_bundle(original, tmp_path / "job.pstyle")
    back = read_bundle(path)
    for name in ("content", "style", "stylized", "composite", "labels", "saliency", "crf_probabilities"):
        a, b = getattr(original, name), getattr(back, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert back.scores == original.scores
    assert back.manifest["targets"] == ["cup"] and back.manifest["classifier_classes"] == ["cup", "plate"]
    assert back.manifest["format"] == bundle_mod.FORMAT


def test_labels_past_255_targets_are_uint16(tmp_path, rng):
    b = sample_bundle(rng)
    b.labels = b.labels.astype(np.uint16) * 300
    back = read_bundle(write_bundle(b, tmp_path / "many.pstyle"))
    assert back.labels.dtype == np.uint16 and back.labels.max() == 300


def test_existing_bundle_needs_overwrite(tmp_path, rng):
    path = write_bundle(sample_bundle(rng, marker=1), tmp_path / "job.pstyle")
    with pytest.raises(InputError, match="--overwrite"):
        write_bundle(sample_bundle(rng, marker=2), path)
    write_bundle(sample_bundle(rng, marker=2), path, overwrite=True)
    assert read_bundle(path).manifest["marker"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["job.pstyle"]


def test_failure_mid_write_leaves_old_bundle_intact(tmp_path, rng, monkeypatch):
    path = write_bundle(sample_bundle(rng, marker=1), tmp_path / "job.pstyle")
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    real_write = bundle_mod.write_image_file
    calls = []

    def failing_write(target, array):
        calls.append(target)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(target, array)

    monkeypatch.setattr(bundle_mod, "write_image_file", failing_write)
    with pytest.raises(OutputError, match="No space left on device; nothing was written"):
        write_bundle(sample_bundle(rng, marker=2), path, overwrite=True)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["job.pstyle"]


def test_target_checks(tmp_path):
    with pytest.raises(InputError, match=r"\.pstyle"):
        check_target(tmp_path / "job")
    folder = tmp_path / "precious.pstyle"
    folder.mkdir()
    (folder / "thesis.txt").write_text("mine")
    with pytest.raises(InputError, match="not a result bundle"):
        check_target(folder, overwrite=True)
    with pytest.raises(InputError, match="does not exist"):
        check_target(tmp_path / "nowhere" / "job.pstyle")


def test_damaged_bundle_names_the_file(tmp_path, rng):
    path = write_bundle(sample_bundle(rng), tmp_path / "job.pstyle")
    (path / "labels.png").unlink()
    with pytest.raises(BundleError, match="labels.png"):
        read_bundle(path)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["version"] = 99
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="version 99"):
        read_bundle(path)
    with pytest.raises(BundleError, match="manifest.json is missing"):
        read_bundle(tmp_path)


DEAD_PID = 4_000_000  # above Linux's pid_max: no such process


def test_leftovers_of_a_killed_writer_are_cleaned_and_a_live_writers_kept(tmp_path, rng):
    dead = tmp_path / f".job.pstyle.tmp-{DEAD_PID}-abcd"
    dead.mkdir()
    (dead / "content.png").write_bytes(b"half")
    live = tmp_path / f".job.pstyle.tmp-{os.getppid()}-abcd"
    live.mkdir()
    write_bundle(sample_bundle(rng), tmp_path / "job.pstyle")
    assert not dead.exists() and live.exists()


def test_a_bundle_hidden_by_a_writer_killed_between_its_renames_comes_back(tmp_path, rng):
    path = write_bundle(sample_bundle(rng, marker=1), tmp_path / "job.pstyle")
    os.replace(path, tmp_path / f".job.pstyle.old-{DEAD_PID}-abcd")
    assert read_bundle(path).manifest["marker"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["job.pstyle"]


KILLED_WRITER = """
import os, sys, time
import numpy as np
from napari_partial_style.core.io import atomic
from napari_partial_style.core.io.bundle import Bundle, write_bundle
real = os.replace
def slow_replace(src, dst):
    real(src, dst)
    if ".old-" in str(dst):
        print("hidden", flush=True)
        time.sleep(60)
atomic.os.replace = slow_replace
write_bundle(Bundle(manifest={"marker": 2}, content=np.zeros((40, 40, 3), np.uint8)), sys.argv[1], overwrite=True)
"""


def test_sigkill_between_the_two_renames_loses_nothing(tmp_path, rng):
    path = write_bundle(sample_bundle(rng, marker=1), tmp_path / "job.pstyle")
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "hidden"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert not path.exists()  # the old bundle is hidden, the new one not yet in place
    assert read_bundle(path).manifest["marker"] == 1
    write_bundle(sample_bundle(rng, marker=3), path, overwrite=True)
    assert read_bundle(path).manifest["marker"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["job.pstyle"]


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_bundle_folders_follow_the_umask(tmp_path, rng, umask):
    old = os.umask(umask)
    try:
        path = write_bundle(sample_bundle(rng), tmp_path / "job.pstyle")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o777 & ~umask
    assert (path / "manifest.json").stat().st_mode & 0o777 == 0o666 & ~umask


def edit_manifest(path, change):
    manifest = json.loads((path / "manifest.json").read_text())
    manifest = change(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(("change", "words"), [
    (lambda m: [m], "JSON list, not an object"),
    (lambda m: {**m, "files": ["content.png"]}, '"files" must map'),
    (lambda m: {**m, "files": None}, '"files" must map'),
    (lambda m: {**m, "files": {**m["files"], "extra": "content.png"}}, "unknown layer 'extra'"),
    (lambda m: {**m, "files": {**m["files"], "content": "../outside.png"}}, "only files inside the bundle"),
    (lambda m: {**m, "files": {**m["files"], "content": "/etc/passwd"}}, "only files inside the bundle"),
    (lambda m: {**m, "version": "1"}, "version as '1', not a whole number"),
    (lambda m: {**m, "targets": "cup"}, '"targets" must be a list'),
])
def test_malformed_manifests_are_bundle_errors(tmp_path, rng, change, words):
    path = write_bundle(sample_bundle(rng), tmp_path / "job.pstyle")
    write_image_file(tmp_path / "outside.png", np.zeros((2000, 2000), np.uint8))
    edit_manifest(path, change)
    with pytest.raises(BundleError, match=re.escape(words)):
        read_bundle(path)


@pytest.mark.parametrize(("labels", "words"), [
    (np.zeros((10, 10), np.uint8), "shape (10, 10) (uint8), but labels must have shape (48, 64) with integer"),
    (np.zeros((48, 64, 3), np.uint8), "shape (48, 64, 3)"),
])
def test_labels_that_do_not_lie_on_the_content_are_refused(tmp_path, rng, labels, words):
    path = write_bundle(sample_bundle(rng), tmp_path / "job.pstyle")
    write_image_file(path / "labels.png", labels)
    with pytest.raises(BundleError, match=re.escape(words)):
        read_bundle(path)


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path):
    from napari_partial_style.core.io.atomic import atomic_file

    target = tmp_path / "model.pt"
    dead = tmp_path / f".model.pt.tmp-{DEAD_PID}-abcd"
    dead.write_bytes(b"half a checkpoint")
    with atomic_file(target) as tmp:
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole" and sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
