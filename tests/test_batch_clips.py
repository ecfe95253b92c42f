"""A batch of clips and photos on Dask: a multi-page TIFF runs as a clip into a frame-axis bundle,
written by its worker; its results.csv row carries its frames and seconds; a rerun skips it."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from video_clips import moving_object

from napari_partial_style.cli import main
from napari_partial_style.core.io.bundle import read_bundle
from napari_partial_style.core.io.image_files import write_image_file

FAST = ["--steps", "2", "--fine-steps", "1", "--size", "48", "--realism", "0", "--device", "cpu", "--no-score"]


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def batch_files(tmp_path):
    import tifffile

    clip = moving_object(frames=3, shape=(36, 48))
    contents = tmp_path / "contents"
    contents.mkdir()
    tifffile.imwrite(contents / "clip.tif", clip.frames)
    write_image_file(contents / "clip_mask.png", clip.masks[0].astype(np.uint8) * 255)  # frame 0's labels
    write_image_file(contents / "photo.png", clip.frames[1])
    write_image_file(contents / "photo_mask.png", clip.masks[1].astype(np.uint8) * 255)
    write_image_file(tmp_path / "style.png", (np.random.default_rng(1).random((40, 40, 3)) * 255).astype(np.uint8))
    return tmp_path, clip


def test_a_batch_of_a_clip_and_a_photo_on_a_local_cluster_writes_both_and_a_rerun_skips_both(hub, batch_files, capsys):
    distributed = pytest.importorskip("distributed")
    files, clip = batch_files
    out = files / "out"
    args = ["run", str(files / "contents"), str(files / "style.png"), "--out", str(out), *FAST]
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0"
    ) as cluster:
        assert main([*args, "--scheduler", cluster.scheduler_address]) == 0, capsys.readouterr().err
        results = {r["content"].rsplit("/", 1)[-1]: r for r in rows(out / "results.csv")}
        assert set(results) == {"clip.tif", "photo.png"}
        assert results["clip.tif"]["frames"] == "3" and float(results["clip.tif"]["seconds"]) > 0
        assert results["photo.png"]["frames"] == ""  # a photo has no frames
        bundle = read_bundle(results["clip.tif"]["bundle"])
        assert bundle.frames == 3 and bundle.content.shape == (3, 36, 48, 3) and bundle.labels.shape == (3, 36, 48)
        assert np.array_equal(bundle.content, clip.frames)
        assert bundle.manifest["batch"]["key"] == str(files / "contents" / "clip.tif")
        assert read_bundle(results["photo.png"]["bundle"]).frames is None
        assert (out / "thumbs" / "clip_composite.png").is_file()
        before = (out / "results.csv").read_bytes()
        capsys.readouterr()
        assert main([*args, "--scheduler", cluster.scheduler_address]) == 0
    assert "0 job(s) written, 2 already done" in capsys.readouterr().err
    assert (out / "results.csv").read_bytes() == before


def test_a_results_file_from_before_clips_keeps_its_rows(tmp_path):
    """Adding the `frames` column must not make every finished photo job run again."""
    from napari_partial_style.batch.ledger import COLUMNS, Ledger

    old = [c for c in COLUMNS if c != "frames"]
    row = {c: "" for c in old} | {"key": "a.png", "seconds": "1.5", "params_hash": "abc", "bundle": "a.pstyle"}
    with open(tmp_path / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, old)
        writer.writeheader()
        writer.writerow(row)
    ledger = Ledger(tmp_path / "results.csv")
    assert ledger.done("a.png", "abc") and not ledger.problems
    ledger.add({"key": "b.tif", "seconds": 2, "frames": 3, "params_hash": "abc"})
    assert [r["frames"] for r in rows(tmp_path / "results.csv")] == ["", "3"]
