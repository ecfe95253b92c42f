"""Which torch device a job runs on, and the defaults that depend on it."""

from __future__ import annotations

import re

from napari_partial_style.core.errors import InputError

DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
# Working long side per device kind: a CPU job should take minutes, not hours.
DEFAULT_SIZE = {"cpu": 256, "mps": 384, "cuda": 512}
# Largest result side per device kind when the user gives none: finer pyramid levels go up to the
# content's own resolution, but no further than a size whose steps take seconds, not minutes.
DEFAULT_RESULT_SIZE = {"cpu": 1024, "mps": 2048, "cuda": 4096}


def available_devices() -> list[str]:
    """Devices usable here, best first; "auto" picks the first."""
    import torch

    names = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        names.append("mps")
    return [*names, "cpu"]


def get_device(spec: str = "auto"):
    """Resolve "auto" | "cpu" | "cuda" | "cuda:N" | "mps" to a torch.device that exists here."""
    import torch

    spec = (spec or "auto").strip().lower()
    if not DEVICE_PATTERN.match(spec):
        raise InputError(f"device {spec!r} is unknown; use auto, cpu, cuda, cuda:N or mps.")
    available = available_devices()
    if spec == "auto":
        return torch.device(available[0])
    if spec == "cuda":
        spec = "cuda:0"
    if spec not in available:
        raise InputError(f"device {spec!r} is not available here; available: {', '.join(available)}.")
    return torch.device(spec)


def default_size(device) -> int:
    """The working long side chosen for a device when the user gives none."""
    return DEFAULT_SIZE.get(device.type, DEFAULT_SIZE["cpu"])


def working_size(requested: int | None, device, shape: tuple[int, int]) -> int:
    """The working long side: the one asked for, else the device's default; never above the image's."""
    return min(requested or default_size(device), max(shape))


def result_size(requested: int | None, device, shape: tuple[int, int]) -> int:
    """The result's long side: the one asked for, else the device's cap; never above the image's."""
    return min(requested or DEFAULT_RESULT_SIZE.get(device.type, DEFAULT_RESULT_SIZE["cpu"]), max(shape))
