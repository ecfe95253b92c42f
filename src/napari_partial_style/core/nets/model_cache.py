"""Pretrained networks loaded once per process: napari runs many jobs, each asking again."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from pathlib import Path

import torch
from torch import nn


@functools.lru_cache(maxsize=4)
def _load(loader: Callable[..., nn.Module], path: str, mtime: float, device: str, args: tuple) -> nn.Module:
    model = loader(Path(path) if path else None, *args)
    model.eval().requires_grad_(False)
    return model.to(torch.device(device))


def cached_model(
    loader: Callable[..., nn.Module], path: Path | None, device: torch.device | str, *args: Hashable
) -> nn.Module:
    """`loader(path, *args)` in eval mode without gradients on `device`, once per file version
    (a file replaced on disk is loaded again); `path` None: a network that reads no file."""
    if path is None:
        return _load(loader, "", 0.0, str(device), args)
    path = Path(path).resolve()
    return _load(loader, str(path), path.stat().st_mtime, str(device), args)
