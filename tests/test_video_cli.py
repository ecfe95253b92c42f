"""`run CLIP STYLE --out NAME.pstyle [--save-video V]` (cli/clip.py): a multi-page TIFF or a folder
of frames becomes a frame-axis bundle; a photo keeps the one-image job."""

from __future__ import annotations

import numpy as np
import pytest
from video_clips import moving_object

from napari_partial_style.cli import main
from napari_partial_style.core.io.bundle import read_bundle
from napari_partial_style.core.io.image_files import write_image_file

FAST = ["--steps", "1", "--fine-steps", "1", "--size", "48", "--realism", "0", "--device", "cpu", "--no-score"]


@pytest.fixture(scope="module")
def clip():
    return moving_object(frames=3, shape=(36, 48))


@pytest.fixture
def inputs(tmp_path, clip):
    import tifffile

    tifffile.imwrite(tmp_path / "clip.tif", clip.frames)
    folder = tmp_path / "frames"
    folder.mkdir()
    for t, frame in enumerate(clip.frames):
        write_image_file(folder / f"frame{t}.png", frame)
    write_image_file(tmp_path / "mask.png", clip.masks[0].astype(np.uint8))
    write_image_file(tmp_path / "style.png", (np.random.default_rng(1).random((40, 40, 3)) * 255).astype(np.uint8))
    return tmp_path


def test_a_multi_page_tiff_runs_as_a_clip_into_a_bundle_and_a_video(hub, inputs, clip):
    pytest.importorskip("av", reason="--save-video needs PyAV (the video extra)")
    from napari_partial_style.core.video.frames import open_frames

    out, video = inputs / "clip.pstyle", inputs / "clip-stone.mp4"
    args = ["run", str(inputs / "clip.tif"), str(inputs / "style.png"), "--labels", str(inputs / "mask.png")]
    assert main([*args, "--out", str(out), "--save-video", str(video), *FAST]) == 0
    bundle = read_bundle(out)
    assert bundle.frames == 3 and bundle.content.shape == (3, 36, 48, 3) and bundle.labels.shape == (3, 36, 48)
    assert np.array_equal(bundle.content, clip.frames)
    for t in range(3):
        outside = bundle.labels[t] == 0
        assert np.array_equal(bundle.composite[t][outside], clip.frames[t][outside])
    decoded = open_frames(video)
    assert decoded.shape == (36, 48) and len(list(decoded)) == 3


def test_a_folder_of_frames_with_a_bundle_out_is_a_clip(hub, inputs):
    out = inputs / "folder.pstyle"
    args = ["run", str(inputs / "frames"), str(inputs / "style.png"), "--labels", str(inputs / "mask.png")]
    assert main([*args, "--out", str(out), *FAST]) == 0
    assert read_bundle(out).stylized.shape == (3, 36, 48, 3)


def test_save_video_on_a_photo_is_refused_before_any_work(inputs, capsys):
    photo = inputs / "frames" / "frame0.png"
    args = ["run", str(photo), str(inputs / "style.png"), "--out", str(inputs / "photo.pstyle")]
    assert main([*args, "--save-video", str(inputs / "x.mp4"), *FAST]) == 2
    assert "--save-video is for clips" in capsys.readouterr().err
    assert not (inputs / "photo.pstyle").exists()
