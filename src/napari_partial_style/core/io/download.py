"""Downloads with a connect timeout, progress events and an atomic rename; the offline switch.

Weights and datasets both come through here: a file appears under its final name only when it
is complete (and, when a hash is known, checked).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from napari_partial_style.core.io.atomic import atomic_file
from napari_partial_style.core.progress import Progress, StageGenerator

OFFLINE_ENV = "NAPARI_PARTIAL_STYLE_OFFLINE"
CONNECT_TIMEOUT_S = 10.0
CHUNK = 1 << 20


class NoConnection(Exception):
    """The server could not be reached (no network, DNS failure, refused, timed out), or the
    connection dropped during the download. Not an OSError: nothing is wrong with the disk."""


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def fetch(
    url: str, target: Path, sha256_prefix: str | None = None, on_corrupt: Callable[[], Exception] | None = None
) -> StageGenerator[Path]:
    """Download `url` to `target` through a temporary file beside it (io.atomic: a killed
    download's leftover is removed by the next one), yielding ("download", MB, MB total).

    Raises NoConnection when the server cannot be reached or the connection drops, and
    `on_corrupt()` (or ValueError) when the sha256 does not start with `sha256_prefix`.
    """
    try:
        response = urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_S)
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        raise NoConnection(str(getattr(exc, "reason", exc))) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    total_mb = int(response.headers.get("Content-Length") or 0) // CHUNK
    digest = hashlib.sha256()
    with atomic_file(target) as tmp, response, open(tmp, "wb") as out:
        done = 0
        while chunk := _read(response, done):
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            yield Progress("download", done // CHUNK, max(total_mb, done // CHUNK), message=f"{target.name} (MB)")
        if sha256_prefix and not digest.hexdigest().startswith(sha256_prefix):
            raise on_corrupt() if on_corrupt else ValueError(f"{url}: sha256 does not start with {sha256_prefix}")
    return target


def _read(response, done: int) -> bytes:
    try:
        return response.read(CHUNK)
    except (OSError, http.client.HTTPException) as exc:
        raise NoConnection(f"the connection dropped after {done // CHUNK} MB ({exc or type(exc).__name__})") from exc
