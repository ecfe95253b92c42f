"""Persistent plugin settings (napari ≥ 0.9 `configurations`): default device, weights folder,
napari's activity panel; and napari's reader preference for bundles."""

from __future__ import annotations

from pathlib import Path

PLUGIN = "napari-partial-style"
# napari matches folder preferences against the real path plus a trailing separator.
BUNDLE_PATTERN = "*.pstyle/"


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


def activity_panel() -> bool:
    settings = _settings()
    return bool(getattr(settings, "activity_panel", False)) if settings is not None else False


def prefer_our_reader() -> None:
    """Make napari open `*.pstyle` folders with our reader without asking each time.

    napari's builtin reader also claims every folder, so napari asks which reader to use, and for a
    folder it remembers the choice for that one path only. Whenever the plugin runs in napari (a
    widget, a sample, the reader or the writer), this records the preference for every bundle, as
    Preferences › Plugins would; a preference the user set for the pattern is left alone.
    """
    try:
        from napari.settings import get_settings

        plugins = get_settings().plugins
        if BUNDLE_PATTERN not in plugins.extension2reader:
            plugins.extension2reader = {**plugins.extension2reader, BUNDLE_PATTERN: PLUGIN}
    except Exception:  # napari absent or its settings unavailable: nothing to prefer
        pass
