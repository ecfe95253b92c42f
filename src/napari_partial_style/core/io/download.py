"""Downloads with a connect timeout, progress events and an atomic rename; the offline switch.

Weights and datasets both come through here: a file appears under its final name only when it
is complete (and, when a hash is known, checked).
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from napari_partial_style.core.progress import Progress, StageGenerator

OFFLINE_ENV = "NAPARI_PARTIAL_STYLE_OFFLINE"
CONNECT_TIMEOUT_S = 10.0
CHUNK = 1 << 20


class NoConnection(OSError):
    """The server could not be reached (no network, DNS failure, refused, timed out)."""


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def fetch(url: str, target: Path, sha256_prefix: str | None = None,
          on_corrupt: Callable[[], Exception] | None = None) -> StageGenerator[Path]:
    """Download `url` to `target` via a temporary file beside it, yielding ("download", MB, MB total).

    Raises NoConnection when the server cannot be reached, and `on_corrupt()` (or ValueError)
    when the sha256 does not start with `sha256_prefix`.
    """
    try:
        response = urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_S)
    except (urllib.error.URLError, socket.timeout, OSError) as exc:
        raise NoConnection(str(getattr(exc, "reason", exc))) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    total_mb = int(response.headers.get("Content-Length") or 0) // CHUNK
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with response, os.fdopen(fd, "wb") as out:
            done = 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                yield Progress("download", done // CHUNK, max(total_mb, done // CHUNK), message=f"{target.name} (MB)")
        if sha256_prefix and not digest.hexdigest().startswith(sha256_prefix):
            raise on_corrupt() if on_corrupt else ValueError(f"{url}: sha256 does not start with {sha256_prefix}")
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return target
