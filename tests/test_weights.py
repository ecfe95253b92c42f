import hashlib
import io
import subprocess
import urllib.error
from pathlib import Path

import pytest

from napari_partial_style.core.errors import WeightsError
from napari_partial_style.core.io import download, weights
from napari_partial_style.core.progress import drain


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(weights.WEIGHTS_ENV, raising=False)
    monkeypatch.delenv(weights.OFFLINE_ENV, raising=False)
    return tmp_path


def put(folder, weight=weights.VGG19, text="x"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / weight.filename
    path.write_text(text)
    return path


def test_lookup_order(clean_env, monkeypatch):
    hub_file = put(weights.hub_folder())
    assert weights.locate(weights.VGG19) == hub_file
    env_file = put(clean_env / "mine")
    monkeypatch.setenv(weights.WEIGHTS_ENV, str(clean_env / "mine"))
    assert weights.locate(weights.VGG19) == env_file
    explicit = put(clean_env / "explicit")
    assert weights.locate(weights.VGG19, explicit) == explicit
    with pytest.raises(WeightsError, match="does not exist"):
        weights.locate(weights.VGG19, clean_env / "nope.pth")


def test_offline_message_names_file_url_and_folder(clean_env, monkeypatch):
    monkeypatch.setenv(weights.OFFLINE_ENV, "1")
    with pytest.raises(WeightsError) as err:
        weights.ensure([weights.VGG19, weights.VGG16])
    text = str(err.value)
    for needle in (weights.VGG19.filename, weights.VGG19.url, weights.VGG16.filename, str(weights.hub_folder())):
        assert needle in text


def test_no_network_fails_fast_with_the_same_message(clean_env, monkeypatch):
    def no_network(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(download.urllib.request, "urlopen", no_network)
    with pytest.raises(WeightsError, match="no connection") as err:
        weights.ensure([weights.VGG19])
    assert weights.VGG19.url in str(err.value)


def fake_weight(tmp_path, payload: bytes, prefix: str | None = None) -> weights.WeightFile:
    source = tmp_path / "served.bin"
    source.write_bytes(payload)
    prefix = prefix or hashlib.sha256(payload).hexdigest()[:8]
    return weights.WeightFile("fake", f"fake-{prefix}.pth", source.as_uri(), "a test")


def test_download_checks_hash_and_lands_in_hub(clean_env):
    weight = fake_weight(clean_env, b"w" * 4 * 2**20)
    events = []
    path = drain(weights.ensure_steps([weight]), events.append)["fake"]
    assert path == weights.hub_folder() / weight.filename and path.read_bytes() == b"w" * 4 * 2**20
    assert [e.step for e in events] == [1, 2, 3, 4] and events[-1].total == 4
    assert events[0].stage == "download" and weight.filename in events[0].message


def test_corrupt_download_leaves_nothing(clean_env):
    weight = fake_weight(clean_env, b"tampered", prefix="00000000")
    with pytest.raises(WeightsError, match="corrupt"):
        drain(weights.download(weight))
    assert list(weights.hub_folder().iterdir()) == []


def test_local_files_are_trusted_without_hashing(clean_env):
    put(weights.hub_folder(), text="not really weights")
    assert weights.ensure([weights.VGG19])["vgg19"].read_text() == "not really weights"


class DroppingResponse(io.BytesIO):
    """A server that sends one MB, then loses the connection."""

    headers = {"Content-Length": str(4 * 2**20)}

    def read(self, size=-1):
        if self.tell() >= 2**20:
            raise ConnectionResetError(104, "Connection reset by peer")
        return super().read(size)


def test_a_dropped_connection_leaves_nothing_and_says_so(clean_env, monkeypatch):
    weight = fake_weight(clean_env, b"w" * 4 * 2**20)
    monkeypatch.setattr(download.urllib.request, "urlopen", lambda *a, **k: DroppingResponse(b"w" * 4 * 2**20))
    with pytest.raises(WeightsError, match="no connection: the connection dropped after 1 MB") as err:
        drain(weights.ensure_steps([weight]))
    assert weight.url in str(err.value)
    assert list(weights.hub_folder().iterdir()) == []


def test_a_cancelled_download_leaves_nothing(clean_env):
    weight = fake_weight(clean_env, b"w" * 4 * 2**20)
    job = weights.ensure_steps([weight])
    next(job)  # one MB written to the temporary file
    assert len(list(weights.hub_folder().iterdir())) == 1
    job.close()  # what Cancel does
    assert list(weights.hub_folder().iterdir()) == []


def test_a_killed_downloads_leftover_is_removed_by_the_next(clean_env):
    weight = fake_weight(clean_env, b"w" * 2**20)
    dead = subprocess.Popen(["true"])
    dead.wait()
    leftover = weights.hub_folder() / f".{weight.filename}.tmp-{dead.pid}-0000"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half")
    drain(weights.ensure_steps([weight]))
    assert sorted(p.name for p in weights.hub_folder().iterdir()) == [weight.filename]


def test_the_hub_folder_is_torchs_without_importing_torch(monkeypatch, tmp_path):
    """`weights` imported torch (5 s) only to ask where its hub folder is."""
    import sys

    import torch

    for env in ({"TORCH_HOME": str(tmp_path / "th")}, {"XDG_CACHE_HOME": str(tmp_path / "xdg")}, {}):
        for name in ("TORCH_HOME", "XDG_CACHE_HOME"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        expected = Path(torch.hub.get_dir()) / "checkpoints"
        with monkeypatch.context() as m:
            m.delitem(sys.modules, "torch")
            assert weights.hub_folder() == expected, env


def test_a_files_sha256_is_remembered_until_it_changes(tmp_path, monkeypatch):
    import os

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "w.pth"
    path.write_bytes(b"first")
    first = weights.sha256_of(path)
    stat = path.stat()
    path.write_bytes(b"other")  # same size; the time put back: taken for the same file
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert weights.sha256_of(path) == first
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert weights.sha256_of(path) == hashlib.sha256(b"other").hexdigest()
    (tmp_path / "cache" / "napari-partial-style" / "sha256.json").write_text("[not a dict")
    assert weights.sha256_of(path) == hashlib.sha256(b"other").hexdigest()  # a damaged cache is ignored
