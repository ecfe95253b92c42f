"""Bundles from elsewhere: re-zipped by other tools, crafted to exhaust memory or block, or holding
numbers no job writes. Each is one BundleError naming the file, before any large read or decode."""

import json
import os
import re
import struct
import threading
import zipfile
import zlib

import numpy as np
import pytest
from test_bundle import rewrite, sample_bundle, unzipped

from napari_partial_style.core.errors import BundleError
from napari_partial_style.core.io import bundle as bundle_mod
from napari_partial_style.core.io.bundle import read_bundle, read_manifest, write_bundle
from napari_partial_style.core.job.result import preview_strip


def patch_entry(path, name, method=None, flags=None):
    """Set an entry's compression method or flag bits in both of its zip headers, as another zip tool
    would have written them (the data is left as it is: Python must refuse before reading it)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(name).header_offset
    central = None
    for offset in [m.start() for m in re.finditer(b"PK\x01\x02", bytes(data))]:
        length = struct.unpack_from("<H", data, offset + 28)[0]
        if data[offset + 46 : offset + 46 + length] == name.encode():
            central = offset
    for header, shift in ((local, 0), (central, 2)):
        if method is not None:
            struct.pack_into("<H", data, header + 8 + shift, method)
        if flags is not None:
            struct.pack_into("<H", data, header + 6 + shift, flags)
    path.write_bytes(bytes(data))


@pytest.fixture
def bundle(tmp_path, rng):
    return write_bundle(sample_bundle(rng), tmp_path / "job.pstyle")


@pytest.mark.parametrize("name", ["content.png", "manifest.json"])
@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            {"method": 9},
            "is compressed with Deflate64 (what Windows Explorer and 7-Zip write for large files), which "
            "Python cannot read; unzip it",
        ),
        ({"method": 98}, "is compressed with PPMd, which Python cannot read"),
        ({"flags": 1}, "is encrypted (a password-protected zip), which bundles never are; unzip it"),
    ],
)
def test_zip_features_python_cannot_read_are_named(bundle, name, change, words):
    """A bundle re-zipped by Windows Explorer or 7-Zip, or encrypted: NotImplementedError/RuntimeError tracebacks."""
    patch_entry(bundle, name, **change)
    with pytest.raises(BundleError, match=re.escape(f"{name} {words}")):
        read_bundle(bundle)
    if name == "manifest.json":  # what sweep and batch resume read
        with pytest.raises(BundleError, match=re.escape(words)):
            read_manifest(bundle)


def test_a_manifest_larger_than_any_manifest_is_refused_before_inflating(bundle):
    """A 1.6 MB bundle whose manifest inflated to 1 GB was read (2.1 GB peak)."""
    manifest = bundle_mod.read_manifest(bundle)
    rewrite(bundle, "manifest.json", (" " * 5_000_000 + str(manifest).replace("'", '"')).encode())
    with pytest.raises(
        BundleError, match=r"manifest.json claims 5 MB, more than any bundle holds there \(at most 4 MB\)"
    ):
        read_bundle(bundle)


def png_header_only(height, width):
    """A PNG whose header says height×width: only reading the header first can refuse it cheaply."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("name", ["stylized.png", "composite.png", "labels.png", "preview.png"])
def test_huge_layers_are_refused_from_their_headers_before_decoding(bundle, name, monkeypatch):
    """10000×10000 PNG layers for a small content were decoded whole (1.6 GB) before their shape was refused."""
    rewrite(bundle, name, png_header_only(10000, 10000))
    if name == "preview.png":  # the sample has none: name it in the manifest
        manifest = read_manifest(bundle)
        manifest["files"]["preview"] = name
        rewrite(bundle, "manifest.json", json.dumps(manifest).encode())
    decoded = []
    real = bundle_mod.read_image
    monkeypatch.setattr(bundle_mod, "read_image", lambda fh, n, *a: decoded.append(n) or real(fh, n, *a))
    with pytest.raises(
        BundleError, match=re.escape(name) + r" (has shape \(10000, 10000\) in its header|is 10000×10000)"
    ):
        read_bundle(bundle)
    assert name not in decoded


@pytest.mark.parametrize(
    ("maps", "targets", "words"),
    [
        (2, ["cup"], "saliency.tif holds 2 map(s), but the manifest names 1 target(s)"),
        (1, ["cup", "plate"], "saliency.tif holds 1 map(s), but the manifest names 2 target(s)"),
        (1, [], "holds saliency maps but its manifest names no targets"),
    ],
)
def test_saliency_maps_that_do_not_match_the_targets_are_refused(tmp_path, rng, maps, targets, words):
    """They were accepted, and napari's reader dropped them without a word."""
    job = sample_bundle(rng)
    job.saliency = rng.random((maps, *job.content.shape[:2])).astype(np.float32)
    job.manifest["targets"] = targets
    path = write_bundle(job, tmp_path / "job.pstyle")
    with pytest.raises(BundleError, match=re.escape(words)):
        read_bundle(path)


@pytest.mark.parametrize("layer", ["content", "stylized", "composite", "saliency", "crf_probabilities"])
def test_nan_in_a_bundles_float_images_is_named(tmp_path, rng, layer):
    """NaN inside a bundle's float images was shown as black without a word (the CLI refuses NaN content)."""
    job = sample_bundle(rng)
    array = getattr(job, layer).astype(np.float32)
    array.flat[::7] = np.nan
    setattr(job, layer, array)
    path = write_bundle(job, tmp_path / "job.pstyle")
    with pytest.raises(BundleError, match=rf"{layer}.tif holds \d+ NaN or infinite value\(s\); the bundle is damaged"):
        read_bundle(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_in_a_folder_bundle_is_refused_not_waited_on(bundle, tmp_path):
    """A FIFO named composite.png blocked read_bundle and the napari reader for ever."""
    folder = unzipped(bundle, tmp_path / "folder.pstyle")
    (folder / "composite.png").unlink()
    os.mkfifo(folder / "composite.png")
    outcome = []

    def read():
        try:
            read_bundle(folder)
        except BundleError as exc:
            outcome.append(str(exc))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=20)
    assert outcome and "composite.png is a pipe, not a file; a bundle folder holds plain files only" in outcome[0]


def test_a_huge_sparse_file_in_a_folder_bundle_is_refused_without_reading_it(bundle, tmp_path):
    """The zip limits did not apply to folders: a 3 GB sparse composite.png was read whole."""
    folder = unzipped(bundle, tmp_path / "folder.pstyle")
    with open(folder / "composite.png", "r+b") as fh:
        fh.truncate(3_000_000_000)
    with pytest.raises(BundleError, match=r"composite.png claims 3e\+03 MB, more than any bundle holds there"):
        read_bundle(folder)


def test_a_bundle_within_every_limit_still_reads(tmp_path, rng):
    """The limits leave room for what a job writes: 16-bit and float layers and the preview strip."""
    job = sample_bundle(rng, dtype=np.uint16)
    job.preview = preview_strip([job.content, job.stylized, job.composite])
    back = read_bundle(unzipped(write_bundle(job, tmp_path / "job.pstyle"), tmp_path / "folder.pstyle"))
    assert back.preview.shape == job.preview.shape and back.stylized.dtype == np.uint16
    np.testing.assert_array_equal(back.crf_probabilities, job.crf_probabilities)
