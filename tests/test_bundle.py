import json

import numpy as np
import pytest

from napari_partial_style.core import bundle as bundle_mod
from napari_partial_style.core.bundle import Bundle, check_target, read_bundle, write_bundle
from napari_partial_style.core.errors import BundleError, InputError
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
            raise OSError("disk full (injected)")
        real_write(target, array)

    monkeypatch.setattr(bundle_mod, "write_image_file", failing_write)
    with pytest.raises(OSError, match="injected"):
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
