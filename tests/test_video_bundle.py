"""Bundles with a frame axis (core/io/bundle_frames.py, core/io/bundle.py): written a frame at a
time, read back as stacks under the same checks, opened by napari's reader as stacks."""

from __future__ import annotations

import json
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

from napari_partial_style.core.errors import BundleError, InputError
from napari_partial_style.core.io.bundle import read_bundle, write_bundle
from napari_partial_style.core.io.bundle_frames import FrameBundleWriter


def clip_layers(frames: int, shape=(20, 30)):
    rng = np.random.default_rng(0)
    content = (rng.random((frames, *shape, 3)) * 255).astype(np.uint8)
    labels = (rng.random((frames, *shape)) > 0.5).astype(np.uint8)
    return content, labels


def write_clip(path, content, labels, style=None):
    with FrameBundleWriter(path) as writer:
        for frame, label in zip(content, labels):
            writer.add(content=frame, labels=label, stylized=255 - frame, composite=frame)
        return writer.finish({"targets": ["cup"]}, style=style)


def test_a_clip_round_trips_with_a_frame_axis_in_every_layer(tmp_path):
    content, labels = clip_layers(3)
    path = write_clip(tmp_path / "clip.pstyle", content, labels, style=content[0, :10])
    bundle = read_bundle(path)
    assert bundle.frames == 3 and bundle.manifest["frames"] == 3
    assert bundle.content.shape == (3, 20, 30, 3) and np.array_equal(bundle.content, content)
    assert bundle.labels.shape == (3, 20, 30) and np.array_equal(bundle.labels, labels)
    assert np.array_equal(bundle.stylized, 255 - content) and bundle.composite.shape == (3, 20, 30, 3)
    assert bundle.style.shape == (10, 30, 3)  # the style keeps no frame axis
    write_bundle(bundle, tmp_path / "again.pstyle")  # napari's writer path: a Bundle with `frames`
    again = read_bundle(tmp_path / "again.pstyle")
    assert again.frames == 3 and np.array_equal(again.labels, labels)


def test_napari_opens_a_clip_bundle_as_stacks(tmp_path):
    from napari_partial_style._napari.reader import read_bundle_layers

    content, labels = clip_layers(4)
    path = write_clip(tmp_path / "clip.pstyle", content, labels)
    shapes = {meta["name"]: (np.shape(data), kind) for data, meta, kind in read_bundle_layers(str(path))}
    assert shapes == {
        "clip content": ((4, 20, 30, 3), "image"),
        "clip stylized": ((4, 20, 30, 3), "image"),
        "clip composite": ((4, 20, 30, 3), "image"),
        "clip labels": ((4, 20, 30), "labels"),
    }


def test_a_writer_left_unfinished_or_failing_leaves_nothing(tmp_path):
    content, labels = clip_layers(2)
    with FrameBundleWriter(tmp_path / "a.pstyle") as writer:
        writer.add(content=content[0], labels=labels[0])
    with pytest.raises(InputError, match="every frame needs the same layers at one size"):
        with FrameBundleWriter(tmp_path / "b.pstyle") as writer:
            writer.add(content=content[0], labels=labels[0])
            writer.add(content=content[1, :10], labels=labels[1, :10])
    assert list(tmp_path.iterdir()) == []


def _rewrite(path, change):
    """The bundle with its manifest passed through `change` and a file replaced as `change` says."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(entries["manifest.json"])
    change(manifest, entries)
    entries["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def test_a_damaged_clip_bundle_is_refused_in_one_line(tmp_path):
    content, labels = clip_layers(3)
    path = write_clip(tmp_path / "clip.pstyle", content, labels)
    _rewrite(path, lambda m, e: m["files"]["labels"].pop())
    with pytest.raises(BundleError, match="a list of 3 file names"):
        read_bundle(path)
    path = write_clip(tmp_path / "other.pstyle", content, labels)

    def bigger_labels(manifest, entries):  # frame 2's labels from a larger clip: refused from the header
        import io

        from napari_partial_style.core.io.png_strips import write_png

        out = io.BytesIO()
        write_png(np.zeros((40, 30), np.uint8), out)
        entries[manifest["files"]["labels"][2]] = out.getvalue()

    _rewrite(path, bigger_labels)
    with pytest.raises(
        BundleError, match=r"labels-00002.png has shape \(40, 30\) in its header.*nothing of it was decoded"
    ):
        read_bundle(path)
    path = write_clip(tmp_path / "third.pstyle", content, labels)
    _rewrite(path, lambda m, e: m.update(frames=True))
    with pytest.raises(BundleError, match="frame count as True"):
        read_bundle(path)


def _peak_writing(path, frames: int) -> int:
    content, labels = clip_layers(1, (64, 64))
    tracemalloc.start()
    with FrameBundleWriter(path) as writer:
        for _ in range(frames):
            writer.add(content=content[0], labels=labels[0], stylized=content[0], composite=content[0])
        writer.finish({"targets": ["cup"]})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_writing_a_clip_holds_one_frame_however_long_it_is(tmp_path):
    """What grows with the clip is the zip's index and the manifest's file names (about 2 KB a
    frame), never its pixels: one frame's four layers here are 40 KB."""
    short, long = _peak_writing(tmp_path / "30.pstyle", 30), _peak_writing(tmp_path / "300.pstyle", 300)
    frame_bytes = 3 * 64 * 64 * 3 + 64 * 64
    assert (long - short) / 270 < 0.1 * frame_bytes, (short, long)
    assert read_bundle(tmp_path / "300.pstyle").frames == 300


def test_a_stack_saved_from_napari_reopens_with_one_slider_for_every_layer(make_napari_viewer, tmp_path):
    from napari_helpers import PLUGIN

    content, labels = clip_layers(3)
    viewer = make_napari_viewer()
    image = viewer.add_image(content, name="clip", rgb=True)
    painted = viewer.add_labels(labels, name="clip labels")
    viewer.layers.selection = {image, painted}
    viewer.layers.save(str(tmp_path / "clip.pstyle"), selected=True, plugin=PLUGIN)
    bundle = read_bundle(tmp_path / "clip.pstyle")
    assert bundle.frames == 3 and np.array_equal(bundle.labels, labels)
    fresh = make_napari_viewer()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layers = fresh.open(str(tmp_path / "clip.pstyle"), plugin=PLUGIN)
    assert not [w for w in caught if "place is damaged" in str(w.message)]  # a clip's 3-D place is kept
    assert {layer.name: layer.data.shape[:3] for layer in layers} == {
        "clip content": (3, 20, 30),
        "clip labels": (3, 20, 30),
    }
    assert fresh.dims.nsteps[0] == 3  # one slider moves through the frames of every layer
