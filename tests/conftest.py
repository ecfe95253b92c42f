"""Shared fixtures: random-weight checkpoints under torchvision's file names, never a download."""

from __future__ import annotations

import os

import numpy as np
import pytest
import tiny_networks

# torchvision imports Triton, whose bundled LLVM segfaults when loaded after Mesa's llvmpipe
# (the OpenGL of napari's viewer under Xvfb). The package itself never imports torchvision at run
# time; the fixtures below do, to build random-weight checkpoints, so import it before any viewer.
import torchvision  # noqa: F401

from napari_partial_style.core.io import weights


def pytest_configure(config):
    """Under pytest-xdist, each worker's torch takes its share of the cores: two workers with a
    thread per core each would make four threads fight over two cores."""
    import tempfile

    import torch

    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="nps-test-cache-")  # the weights' sha256 cache, not ~/.cache
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


@pytest.fixture(scope="session")
def torch_home(tmp_path_factory):
    """A TORCH_HOME whose hub cache holds random-weight VGG checkpoints (real loading path, no
    download), built once per run: pytest-xdist's workers share it (the first one builds it)."""
    import torch
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    home = root / "torch_home"
    folder = home / "hub" / "checkpoints"
    with FileLock(str(root / "torch_home.lock")):
        if not (folder / weights.VGG16.filename).exists():
            folder.mkdir(parents=True, exist_ok=True)
            torch.manual_seed(0)
            torch.save(torchvision.models.vgg19(weights=None).state_dict(), folder / weights.VGG19.filename)
            torch.save(torchvision.models.vgg16(weights=None).state_dict(), folder / "partial")
            os.replace(folder / "partial", folder / weights.VGG16.filename)  # its presence means both are whole
    return home


@pytest.fixture(scope="session")
def material_checkpoint(tmp_path_factory):
    """A random-weight classifier checkpoint in the format `train` writes, with three materials."""
    import torch

    from napari_partial_style.core.segment.classifier import save_checkpoint
    from napari_partial_style.core.segment.fcn import FCNClassifier

    torch.manual_seed(1)
    path = tmp_path_factory.mktemp("classifier") / "materials.pt"
    save_checkpoint(FCNClassifier(["leather", "metal", "wood"]), path)
    return path


@pytest.fixture
def hub(torch_home, monkeypatch):
    """Point torch and the package at the random-weight hub; downloads are switched off."""
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    monkeypatch.setenv(weights.OFFLINE_ENV, "1")
    monkeypatch.delenv(weights.WEIGHTS_ENV, raising=False)
    return torch_home


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def errors(monkeypatch):
    """Messages the napari widgets sent to napari's error notifications."""
    import napari.utils.notifications as notifications

    seen: list[str] = []
    monkeypatch.setattr(notifications, "show_error", lambda message: seen.append(message))
    return seen


@pytest.fixture
def infos(monkeypatch):
    """Messages the napari widgets sent to napari's info notifications."""
    import napari.utils.notifications as notifications

    seen: list[str] = []
    monkeypatch.setattr(notifications, "show_info", lambda message: seen.append(message))
    return seen


tiny_networks.register()
