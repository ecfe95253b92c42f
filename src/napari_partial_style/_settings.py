"""Persistent plugin settings (napari ≥ 0.9 `configurations`): default device, weights folder."""

from __future__ import annotations

from pathlib import Path

PLUGIN = "napari-partial-style"


def _settings():
    try:
        from napari.settings import get_plugin_settings

        return get_plugin_settings(PLUGIN).general
    except Exception:  # napari < 0.9, or settings not registered (plugin not installed)
        return None


def default_device() -> str:
    settings = _settings()
    return getattr(settings, "device", "auto") if settings is not None else "auto"


def weights_folder() -> Path | None:
    settings = _settings()
    folder = getattr(settings, "weights_folder", "") if settings is not None else ""
    return Path(folder).expanduser() if folder else None
