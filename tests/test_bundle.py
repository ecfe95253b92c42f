import errno
import io
import json
import os
import re
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from synthetic import two_tone

from napari_partial_style.core.errors import BundleError, InputError, OutputError
from napari_partial_style.core.io import bundle as bundle_mod
from napari_partial_style.core.io.bundle import Bundle, check_target, read_bundle, write_bundle
from napari_partial_style.core.io.image_files import write_encoded, write_image_file


def entries(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(path, name, data):
    """The bundle at `path` with entry `name` replaced by `data` (removed when None), as a user's
    zip tool might leave it."""
    kept = {**entries(path), name: data}
    with zipfile.ZipFile(path, "w") as archive:
        for entry, content in kept.items():
            if content is not None:
                archive.writestr(entry, content)


def unzipped(path, folder):
    """What `unzip` makes of a bundle: a folder of its files (also the layout of version 0.1)."""
    with zipfile.ZipFile(path) as archive:
        archive.extractall(folder)
    return folder


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
    before = path.read_bytes()
    real_encode = bundle_mod.write_encoded
    calls = []

    def failing_encode(*args):
        calls.append(args)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_encode(*args)

    monkeypatch.setattr(bundle_mod, "write_encoded", failing_encode)
    with pytest.raises(OutputError, match="No space left on device; nothing was written"):
        write_bundle(sample_bundle(rng, marker=2), path, overwrite=True)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["job.pstyle"]


def test_a_bundle_is_one_zip_that_unzips_to_plain_images_and_reads_back_unzipped(tmp_path, rng):
    original = sample_bundle(rng)
    path = write_bundle(original, tmp_path / "job.pstyle")
    assert path.is_file() and zipfile.is_zipfile(path)
    names = set(entries(path))
    assert {"manifest.json", "scores.json", "content.png", "labels.png", "saliency.tif"} <= names
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("content.png").compress_type == zipfile.ZIP_STORED
    folder = unzipped(path, tmp_path / "unzipped.pstyle")
    back = read_bundle(folder)
    assert np.array_equal(back.labels, original.labels) and back.scores == original.scores


def test_an_old_folder_bundle_is_replaced_by_a_file_on_overwrite(tmp_path, rng):
    folder = unzipped(write_bundle(sample_bundle(rng, marker=1), tmp_path / "zip.pstyle"), tmp_path / "job.pstyle")
    with pytest.raises(InputError, match="--overwrite"):
        write_bundle(sample_bundle(rng, marker=2), folder)
    write_bundle(sample_bundle(rng, marker=2), folder, overwrite=True)
    assert folder.is_file() and read_bundle(folder).manifest["marker"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.pstyle", "zip.pstyle"]


def test_overwrite_never_removes_the_users_files_in_a_bundle_folder(tmp_path, rng):
    """`--overwrite` onto an unzipped bundle holding the user's notes.txt deleted the whole folder."""
    folder = unzipped(write_bundle(sample_bundle(rng, marker=1), tmp_path / "zip.pstyle"), tmp_path / "job.pstyle")
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(
        InputError, match="job.pstyle is a bundle folder that also holds notes.txt, which no bundle has"
    ):
        write_bundle(sample_bundle(rng, marker=2), folder, overwrite=True)
    assert (folder / "notes.txt").read_text() == "mine" and read_bundle(folder).manifest["marker"] == 1


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "it is an empty file, not a zip holding manifest.json"),
        (b"just some notes", "it is a text file"),
        (b"PK\x03\x04 cut short", "it is a zip archive, not a zip holding"),
    ],
)
def test_a_pstyle_file_that_is_not_a_bundle_is_one_line_and_left_alone(tmp_path, data, words):
    path = tmp_path / "notes.pstyle"
    path.write_bytes(data)
    with pytest.raises(BundleError, match=re.escape(words)):
        read_bundle(path)
    with pytest.raises(InputError, match="is not a result bundle; it is left alone"):
        check_target(path, overwrite=True)
    assert path.read_bytes() == data


def test_an_entry_that_claims_more_than_a_bundle_holds_is_refused_before_inflating(tmp_path, rng, monkeypatch):
    path = write_bundle(sample_bundle(rng), tmp_path / "job.pstyle")
    monkeypatch.setattr(bundle_mod, "MAX_ENTRY_BYTES", 100)
    with pytest.raises(BundleError, match="more than any bundle holds"):
        read_bundle(path)


def test_target_checks(tmp_path):
    with pytest.raises(InputError, match=r"\.pstyle"):
        check_target(tmp_path / "job")
    folder = tmp_path / "precious.pstyle"
    folder.mkdir()
    (folder / "thesis.txt").write_text("mine")
    with pytest.raises(InputError, match="not a result bundle"):
        check_target(folder, overwrite=True)
    assert (folder / "thesis.txt").read_text() == "mine"
    with pytest.raises(InputError, match="does not exist"):
        check_target(tmp_path / "nowhere" / "job.pstyle")


def test_damaged_bundle_names_the_file(tmp_path, rng):
    path = write_bundle(sample_bundle(rng), tmp_path / "job.pstyle")
    rewrite(path, "labels.png", None)
    with pytest.raises(BundleError, match="labels.png is missing"):
        read_bundle(path)
    rewrite(path, "content.png", b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(BundleError, match="content.png is missing or damaged"):
        read_bundle(path)
    edit_manifest(path, lambda m: {**m, "version": 99})
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


def test_sigkill_between_the_two_renames_of_a_folder_bundle_loses_nothing(tmp_path, rng):
    """A zip over a zip is one rename; an old folder bundle is hidden first, then replaced."""
    path = unzipped(write_bundle(sample_bundle(rng, marker=1), tmp_path / "zip.pstyle"), tmp_path / "job.pstyle")
    (tmp_path / "zip.pstyle").unlink()
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
def test_bundles_follow_the_umask(tmp_path, rng, umask):
    old = os.umask(umask)
    try:
        path = write_bundle(sample_bundle(rng), tmp_path / "job.pstyle")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def edit_manifest(path, change):
    rewrite(path, "manifest.json", json.dumps(change(json.loads(entries(path)["manifest.json"]))))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda m: [m], "JSON list, not an object"),
        (lambda m: {**m, "files": ["content.png"]}, '"files" must map'),
        (lambda m: {**m, "files": None}, '"files" must map'),
        (lambda m: {**m, "files": {**m["files"], "extra": "content.png"}}, "unknown layer 'extra'"),
        (lambda m: {**m, "files": {**m["files"], "content": "../outside.png"}}, "only files inside the bundle"),
        (lambda m: {**m, "files": {**m["files"], "content": "/etc/passwd"}}, "only files inside the bundle"),
        (lambda m: {**m, "version": "1"}, "version as '1', not a whole number"),
        (lambda m: {**m, "targets": "cup"}, '"targets" must be a list'),
    ],
)
def test_malformed_manifests_are_bundle_errors(tmp_path, rng, change, words):
    path = write_bundle(sample_bundle(rng), tmp_path / "job.pstyle")
    write_image_file(tmp_path / "outside.png", np.zeros((2000, 2000), np.uint8))
    edit_manifest(path, change)
    with pytest.raises(BundleError, match=re.escape(words)):
        read_bundle(path)


@pytest.mark.parametrize(
    ("labels", "words"),
    [
        (np.zeros((10, 10), np.uint8), "labels.png has shape (10, 10) in its header, but labels must be 48×64"),
        (np.zeros((48, 64, 3), np.uint8), "shape (48, 64, 3)"),
    ],
)
def test_labels_that_do_not_lie_on_the_content_are_refused(tmp_path, rng, labels, words):
    path = write_bundle(sample_bundle(rng), tmp_path / "job.pstyle")
    encoded = io.BytesIO()
    write_encoded(labels, ".png", encoded)
    rewrite(path, "labels.png", encoded.getvalue())
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


def test_a_link_out_of_an_unzipped_bundle_is_not_followed(tmp_path, rng):
    folder = unzipped(write_bundle(sample_bundle(rng), tmp_path / "zip.pstyle"), tmp_path / "job.pstyle")
    write_image_file(tmp_path / "secret.png", np.zeros((48, 64), np.uint8))
    (folder / "labels.png").unlink()
    (folder / "labels.png").symlink_to(tmp_path / "secret.png")
    with pytest.raises(BundleError, match="labels.png is a link to .*secret.png, outside the bundle"):
        read_bundle(folder)


@pytest.mark.parametrize(
    ("entry", "data"), [("manifest.json", "[" * 100_000), ("scores.json", "[" * 100_000), ("manifest.json", "x" * 5000)]
)
def test_absurd_manifests_are_bundle_errors(tmp_path, rng, entry, data):
    path = write_bundle(sample_bundle(rng), tmp_path / "job.pstyle")
    rewrite(path, entry, data)
    with pytest.raises(BundleError, match=entry):
        read_bundle(path)


def strict_json(text):
    """Parse as JavaScript and other strict parsers do: NaN and Infinity are not JSON."""

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_manifests_are_valid_json_with_nan_written_as_null_and_a_note(tmp_path, rng):
    """A full-frame mask wrote "seam_score": NaN into manifest.json, which strict parsers refuse."""
    job = sample_bundle(rng)
    job.manifest["composite"] = {"seam_score": float("nan"), "levels": [1.0, np.float32("inf")], "steps": 3}
    job.scores = {"mean_iu": np.float64("nan"), "pixel_accuracy": 0.5}
    path = write_bundle(job, tmp_path / "job.pstyle")
    manifest = strict_json(entries(path)["manifest.json"])["composite"]
    assert manifest["seam_score"] is None and "was NaN, undefined for this job" in manifest["seam_score_note"]
    assert manifest["levels"] == [1.0, None] and "NaN or infinite" in manifest["levels_note"]
    assert manifest["steps"] == 3 and "steps_note" not in manifest
    scores = strict_json(entries(path)["scores.json"])
    assert scores["mean_iu"] is None and scores["mean_iu_note"] and scores["pixel_accuracy"] == 0.5
    assert read_bundle(path).manifest["composite"]["seam_score"] is None
