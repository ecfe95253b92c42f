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


def write_frames(folder, frames) -> None:
    folder.mkdir()
    for index, frame in enumerate(frames):
        write_image_file(folder / f"frame{index}.png", frame)


def write_gif(path, frames) -> None:
    from PIL import Image

    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(path, save_all=True, append_images=images[1:])


def test_a_batch_finds_folders_of_frames_and_animated_gifs_as_clips_by_runs_rule(tmp_path):
    """The rule is core/video/frames.py's, as for `run CLIP`: a folder among a folder's (or a glob's)
    entries holding frames is a clip, its mask beside it as for a file; an animated GIF is a clip and a
    still one a photo. A folder of no frames, the --labels folder and an evaluation's folders are not."""
    from napari_partial_style.batch.grid import find_contents

    clip = moving_object(frames=3, shape=(36, 48))
    contents = tmp_path / "contents"
    contents.mkdir()
    write_frames(contents / "walk", clip.frames)
    write_image_file(contents / "walk_mask.png", clip.masks[0].astype(np.uint8) * 255)
    (contents / "notes").mkdir()
    (contents / "notes" / "readme.txt").write_text("no frames here")
    write_gif(contents / "anim.gif", clip.frames)
    write_gif(contents / "still.gif", clip.frames[:1])
    write_frames(contents / "masks", clip.masks[:2].astype(np.uint8) * 255)  # --labels DIR inside the contents
    found = {c.path.name: c for c in find_contents([contents], clips=True)}
    assert {name: c.clip for name, c in found.items()} == {
        "anim.gif": True,
        "masks": True,
        "still.gif": False,
        "walk": True,
    }
    assert found["walk"].mask == contents / "walk_mask.png"
    labelled = {c.path.name for c in find_contents([contents], contents / "masks", clips=True)}
    assert labelled == {"anim.gif", "still.gif", "walk"}
    assert {c.path.name for c in find_contents([str(contents / "w*")], clips=True)} == {"walk"}
    assert {c.path.name for c in find_contents([contents])} == {"anim.gif", "still.gif"}  # an evaluation's


def test_a_folder_of_frames_of_two_sizes_fails_its_job_in_one_line(tmp_path):
    from napari_partial_style.batch.grid import Content
    from napari_partial_style.batch.runner import run_batch_job
    from napari_partial_style.core.params import JobParams, SessionParams

    write_frames(tmp_path / "walk", moving_object(frames=2, shape=(36, 48)).frames)
    write_image_file(tmp_path / "walk" / "frame2.png", np.zeros((40, 48, 3), np.uint8))
    write_image_file(tmp_path / "style.png", np.zeros((40, 40, 3), np.uint8))
    params = JobParams(session=SessionParams(device="cpu"))
    outcome = run_batch_job(
        Content(tmp_path / "walk", clip=True), tmp_path / "style.png", params, "walk", "k", "h", 10**8, None, tmp_path
    )
    assert outcome.row is None and "\n" not in outcome.error
    assert outcome.error.startswith("walk × style.png: ") and "all frames of a clip need one size" in outcome.error
    assert not (tmp_path / "bundles").exists()


@pytest.mark.slow  # about 60 s on 2 loaded cores: two clips of 3 frames through the style network
def test_a_batch_runs_a_folder_of_frames_and_an_animated_gif_as_clips_and_a_rerun_skips_them(hub, tmp_path, capsys):
    clip = moving_object(frames=3, shape=(36, 48))
    contents = tmp_path / "contents"
    contents.mkdir()
    write_frames(contents / "walk", clip.frames)
    write_image_file(contents / "walk_mask.png", clip.masks[0].astype(np.uint8) * 255)
    write_gif(contents / "anim.gif", clip.frames)
    write_image_file(contents / "anim_mask.png", clip.masks[0].astype(np.uint8) * 255)
    write_frames(contents / "mixed", clip.frames[:1])
    write_image_file(contents / "mixed" / "frame1.png", np.zeros((40, 48, 3), np.uint8))
    write_image_file(tmp_path / "style.png", (np.random.default_rng(1).random((40, 40, 3)) * 255).astype(np.uint8))
    out = tmp_path / "out"
    args = ["run", str(contents), str(tmp_path / "style.png"), "--out", str(out), *FAST]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "2 job(s) written, 0 already done, 1 failed (of 3)" in err
    assert "failed: mixed × style.png: " in err and "all frames of a clip need one size" in err
    results = {r["content"].rsplit("/", 1)[-1]: r for r in rows(out / "results.csv")}
    assert {name: r["frames"] for name, r in results.items()} == {"anim.gif": "3", "walk": "3"}
    walk = read_bundle(results["walk"]["bundle"])
    assert walk.frames == 3 and np.array_equal(walk.content, clip.frames)
    assert read_bundle(results["anim.gif"]["bundle"]).labels.shape == (3, 36, 48)
    before = (out / "results.csv").read_bytes()
    assert main(args) == 1  # the folder of two sizes fails again; the clips are not redone
    assert "0 job(s) written, 2 already done, 1 failed (of 3)" in capsys.readouterr().err
    assert (out / "results.csv").read_bytes() == before
