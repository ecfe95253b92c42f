"""One writer at a time per output: a job claims its output before any work, so a second job
writing the same bundle, report folder or checkpoint is refused in one line instead of both
"succeeding" and one result being lost.

The claim is an OS file lock (the `filelock` library: fcntl on POSIX, msvcrt on Windows), which
the OS releases when the holder ends in any way (a kill included), so a dead job's claim never
blocks the next one and no process id has to be probed. The lock files live in a folder of this
user's in the temporary directory, named by the output's absolute path, so the user's folders get
no lock files; beside each, `.who` says who holds it, for the refusal's message. (Jobs on two
machines writing one network folder are not seen by each other.)
"""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from napari_partial_style.core.errors import InputError


def _paths(target: Path) -> tuple[Path, Path]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers): the uid, or one shared folder
        user = str(getattr(os, "getuid", lambda: "all")())
    folder = Path(tempfile.gettempdir()) / f"napari-partial-style-claims-{user}"
    folder.mkdir(mode=0o700, exist_ok=True)
    key = hashlib.sha256(str(target.resolve()).encode()).hexdigest()[:24]
    return folder / f"{key}.lock", folder / f"{key}.who"


@contextmanager
def claimed(target: str | Path) -> Iterator[None]:
    """Hold the claim on `target` for the block; InputError names the holder when another job has it."""
    from filelock import FileLock, Timeout

    target = Path(target)
    try:
        lock_path, who = _paths(target)
    except OSError:  # no writable temporary folder: the job runs unclaimed, as before claims
        yield
        return
    lock = FileLock(lock_path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        holder = who.read_text(encoding="utf-8").strip() if who.is_file() else "another job"
        raise InputError(
            f"{target} is being written by {holder}; wait for it to end, or choose another output."
        ) from None
    try:
        who.write_text(
            f"process {os.getpid()} on {socket.gethostname()} since {time.strftime('%H:%M:%S')}", encoding="utf-8"
        )
        yield
    finally:
        who.unlink(missing_ok=True)
        lock.release()
