"""Clips streamed from arrays, folders, multi-page TIFFs and video files (core/video/frames.py)."""

from __future__ import annotations

import argparse
import sys
import tracemalloc

import numpy as np
import pytest
import tifffile
from PIL import Image

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.video.frames import open_frames


def frames(n: int, shape=(40, 48)) -> np.ndarray:
    """n RGB frames whose first pixel's red value is the frame's number (mod 256)."""
    clip = np.random.default_rng(0).integers(0, 255, (n, *shape, 3), dtype=np.uint8)
    clip[:, 0, 0, 0] = np.arange(n) % 256
    return clip


def write_folder(folder, clip):
    folder.mkdir()
    for i, frame in enumerate(clip):
        Image.fromarray(frame).save(folder / f"frame{i}.png")
    return folder


def test_an_array_with_a_frame_axis_streams_its_frames_rgb_or_grey():
    clip = frames(5)
    got = [f.native for f in open_frames(clip)]
    assert np.array_equal(np.stack(got), clip)
    grey = open_frames(clip[..., 0])
    assert grey.shape == (40, 48) and grey.count == 5
    assert all(f.native.shape == (40, 48, 3) for f in grey)


def test_one_rgb_image_is_not_taken_for_three_frames():
    with pytest.raises(InputError, match="not a clip; give frames along the first axis"):
        open_frames(frames(1)[0])


def test_a_folder_is_read_in_natural_order(tmp_path):
    clip = frames(12)
    folder = write_folder(tmp_path / "clip", clip)
    (folder / "notes.txt").write_text("not a frame")
    got = [int(f.native[0, 0, 0]) for f in open_frames(folder)]
    assert got == list(range(12))  # frame10 after frame9, not after frame1


def test_a_multipage_tiff_is_read_page_by_page(tmp_path):
    clip = frames(6)
    path = tmp_path / "clip.tif"
    with tifffile.TiffWriter(path) as tif:
        for frame in clip:
            tif.write(frame, photometric="rgb")
    source = open_frames(path)
    assert source.count == 6 and source.shape == (40, 48)
    assert np.array_equal(np.stack([f.native for f in source]), clip)


def write_video(path, clip):
    av = pytest.importorskip("av")
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.height, stream.width = clip.shape[1:3]
        stream.pix_fmt = "yuv420p"
        stream.options = {"qscale": "1"}
        for frame in clip:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def test_a_video_file_is_decoded_frame_by_frame(tmp_path):
    clip = np.repeat(np.linspace(40, 200, 8).astype(np.uint8)[:, None, None, None], 3, 3) * np.ones(
        (1, 48, 64, 3), np.uint8
    )
    source = open_frames(write_video(tmp_path / "clip.mp4", clip))
    got = np.stack([f.native for f in source])
    assert source.shape == (48, 64) and got.shape == clip.shape
    assert np.abs(got.astype(int) - clip).mean() < 4  # lossy, but the frames in order


def test_without_pyav_a_video_file_names_the_extra(tmp_path, monkeypatch):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00" * 64)
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(InputError, match=r"pip install \"napari-partial-style\[video\]\""):
        open_frames(path)


def test_an_animated_gif_is_a_clip_of_its_frames_and_a_still_one_a_photo(tmp_path):
    """The GIF is one that FFmpeg's reader took for one frame (48×64, written without delays)."""
    from pathlib import Path

    from napari_partial_style.cli.clip import is_clip
    from napari_partial_style.core.video.frames import is_clip_file

    clip = frames(3, (48, 64))
    images = [Image.fromarray(frame) for frame in clip]
    images[0].save(tmp_path / "anim.gif", save_all=True, append_images=images[1:])
    images[0].save(tmp_path / "still.gif")
    read = [frame.native for frame in open_frames(tmp_path / "anim.gif")]
    assert open_frames(tmp_path / "anim.gif").count == 3 and len(read) == 3
    distances = [[np.abs(r.astype(int) - c).mean() for c in clip] for r in read]  # a palette: close, not equal
    assert [int(np.argmin(d)) for d in distances] == [0, 1, 2]
    assert is_clip_file(tmp_path / "anim.gif") and not is_clip_file(tmp_path / "still.gif")

    def run_args(content: Path):
        return argparse.Namespace(content=[str(content)], out=str(tmp_path / "out.pstyle"))

    assert is_clip(run_args(tmp_path / "anim.gif")) and not is_clip(run_args(tmp_path / "still.gif"))


def test_a_folder_with_no_images_is_refused(tmp_path):
    (tmp_path / "readme.txt").write_text("hello")
    with pytest.raises(InputError, match="holds no image files"):
        open_frames(tmp_path)


def test_a_file_of_the_wrong_kind_is_refused(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(InputError, match="is a text file, not a clip"):
        open_frames(notes)
    pytest.importorskip("av")
    fake = tmp_path / "clip.mp4"
    fake.write_text("hello")
    with pytest.raises(InputError, match="cannot be read as a video: it is a text file"):
        open_frames(fake)


def test_frames_of_different_sizes_are_refused_before_any_is_read(tmp_path):
    folder = write_folder(tmp_path / "clip", frames(3))
    Image.fromarray(frames(1, (50, 48))[0]).save(folder / "frame3.png")
    with pytest.raises(InputError, match="frame3.png is 48×50 px but frame0.png is 48×40.*need one size"):
        open_frames(folder)
    mixed = open_frames([frames(1)[0], frames(1, (50, 48))[0]])
    with pytest.raises(InputError, match="frame 1 is 48×50 px but frame 0 is 48×40"):
        list(mixed)


def peak_bytes(source) -> int:
    """The most memory Python held at once while every frame was read and dropped."""
    tracemalloc.start()
    try:
        for _ in source:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind", ["folder", "tiff", "video"])
def test_peak_memory_does_not_grow_with_the_number_of_frames(tmp_path, kind):
    """Frames large enough that one frame outweighs the readers' bookkeeping: tifffile leaves some
    70 bytes a page behind (20 kB at 300 pages, against 150 kB for one 192×256 frame)."""
    peaks = []
    for n in (30, 300):
        clip = np.broadcast_to(frames(1, (192, 256)), (n, 192, 256, 3))
        if kind == "folder":
            path = write_folder(tmp_path / f"clip{n}", clip)
        elif kind == "tiff":
            path = tmp_path / f"clip{n}.tif"
            tifffile.imwrite(path, clip, photometric="rgb")
        else:
            path = write_video(tmp_path / f"clip{n}.mp4", clip)
        source = open_frames(path)
        peak_bytes(source)  # the first pass imports the readers
        peaks.append(peak_bytes(source))
    assert peaks[1] <= 1.1 * peaks[0], peaks
