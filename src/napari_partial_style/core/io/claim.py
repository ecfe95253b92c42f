"""One writer at a time per output: a job claims its output before any work, so a second job
writing the same bundle, report folder or checkpoint, or a folder holding it, or a file inside it,
is refused in one line instead of both "succeeding" and one result being lost.

A claim is an OS lock on a file (flock on POSIX, msvcrt on Windows), which the OS releases when
the holder ends in any way (a kill included), so a dead job's claim never blocks the next one.
Beside each lock, a record names the output and who holds it; a job reads every live record to
refuse outputs that contain or lie inside another job's, so records are read and written under
one folder-wide lock, held for milliseconds.

The claims live in a folder of this user's, `$XDG_CACHE_HOME/napari-partial-style/claims` (else, or
when it is relative, `~/.cache/...`): not the temporary folder, which batch schedulers set per job (two jobs on one
machine must see each other's claims), nor `$XDG_RUNTIME_DIR`, which cron and batch jobs often lack.
The folder is made with mode 0700 and refused unless it is a real folder of this user that nobody
else can write in, and its files are opened without following links, so no other user can plant a
link there that a job would write through. Claims are per machine: a record names its host, and
jobs on two machines writing one network folder do not see each other.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from napari_partial_style.core.errors import InputError

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
REGISTRY_WAIT_S = 30.0  # the folder-wide lock is held for milliseconds; this long means a stopped job


def claims_folder() -> Path:
    """The user's claims folder, made private on first use and checked on every use."""
    cache = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(cache) if os.path.isabs(cache) else Path("~/.cache").expanduser()  # the XDG rule: relative is ignored
    folder = base / "napari-partial-style" / "claims"
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    _check_private(folder)
    return folder


def _check_private(folder: Path) -> None:
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode):
        raise InputError(
            f"the claims folder {folder} is a link; remove it (a private folder is made in its place) and run again."
        )
    if not stat.S_ISDIR(info.st_mode):
        raise InputError(f"the claims folder {folder} is not a folder; remove it and run again.")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise InputError(
            f"the claims folder {folder} belongs to user {info.st_uid}, not to you; remove it and run again."
        )
    if os.name == "posix" and info.st_mode & 0o077:
        raise InputError(
            f"the claims folder {folder} can be used by other users (mode {stat.S_IMODE(info.st_mode):o}); "
            f"run chmod 700 {folder} and run again."
        )


def _open(path: Path, flags: int) -> int:
    """A claim file opened without following a link; a folder in its place is one line."""
    try:
        return os.open(path, flags | NOFOLLOW | getattr(os, "O_BINARY", 0), 0o600)
    except IsADirectoryError:
        raise InputError(f"{path} is a folder where a claim file should be; remove it and run again.") from None
    except OSError as exc:
        if path.is_symlink():
            raise InputError(f"{path} is a link where a claim file should be; remove it and run again.") from None
        raise exc


def _try_lock(fd: int) -> bool:
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextmanager
def _registry(folder: Path) -> Iterator[None]:
    """The folder-wide lock under which records are read, added and removed."""
    fd = _open(folder / "registry.lock", os.O_RDWR | os.O_CREAT)
    try:
        deadline = time.monotonic() + REGISTRY_WAIT_S
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                raise InputError(
                    f"the claims folder {folder} stayed locked for {REGISTRY_WAIT_S:.0f} s (a stopped job?); "
                    "end it, or remove registry.lock there."
                )
            time.sleep(0.02)
        yield
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # a folder in a file's place (refused when a job needs that name), or Windows' open file
        pass


def _overlap(mine: Path, theirs: Path) -> str | None:
    if mine == theirs:
        return "is"
    if theirs in mine.parents:
        return "lies inside"
    if mine in theirs.parents:
        return "contains"
    return None


def _live_records(folder: Path) -> Iterator[dict]:
    """Every claim whose holder still runs; the records of ended jobs are removed on the way."""
    for record in folder.glob("*.json"):
        lock = record.with_suffix(".lock")
        try:
            fd = _open(lock, os.O_RDWR)
            ended = _try_lock(fd)
            os.close(fd)  # which releases a lock just taken
        except FileNotFoundError:
            ended = True
        if ended:
            for path in (record, lock):
                _remove(path)
            continue
        try:
            with os.fdopen(_open(record, os.O_RDONLY), "rb") as fh:
                data = json.loads(fh.read(65536).decode("utf-8"))
        except (OSError, ValueError):  # a folder in its place, or written by something else: not a claim
            continue
        if isinstance(data, dict):
            yield data


def _refuse_overlaps(folder: Path, target: Path, shown: Path) -> None:
    host = socket.gethostname()
    for record in _live_records(folder):
        if record.get("host") != host or not isinstance(record.get("path"), str):
            continue
        theirs = Path(record["path"])
        relation = _overlap(target, theirs)
        who = record.get("who", "another job")
        if relation == "is":
            raise InputError(f"{shown} is being written by {who}; wait for it to end, or choose another output.")
        if relation:
            raise InputError(
                f"{shown} {relation} {theirs}, which is being written by {who}; wait for it to end, "
                "or choose another output."
            )


def claim_files(folder: Path, resolved: Path) -> tuple[Path, Path]:
    """The lock and the record of a claim on the output at `resolved` from this machine."""
    key = hashlib.sha256(f"{socket.gethostname()}\0{resolved}".encode()).hexdigest()[:24]
    return folder / f"{key}.lock", folder / f"{key}.json"


@contextmanager
def claimed(target: str | Path) -> Iterator[None]:
    """Hold the claim on `target` for the block; InputError names the holder when another job
    writes it, a folder holding it, or a file inside it."""
    shown = Path(target)
    try:
        folder = claims_folder()
    except OSError:  # no writable cache folder (a read-only home): the job runs unclaimed, as before claims
        yield
        return
    resolved = shown.resolve()
    lock, record = claim_files(folder, resolved)
    with _registry(folder):
        _refuse_overlaps(folder, resolved, shown)
        fd = _open(lock, os.O_RDWR | os.O_CREAT)
        if not _try_lock(fd):
            os.close(fd)
            raise InputError(f"{shown} is being written by another job; wait for it to end, or choose another output.")
        who = f"process {os.getpid()} on {socket.gethostname()} since {time.strftime('%H:%M:%S')}"
        try:
            out = _open(record, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            with os.fdopen(out, "wb") as fh:
                fh.write(json.dumps({"path": str(resolved), "host": socket.gethostname(), "who": who}).encode())
        except BaseException:
            os.close(fd)
            raise
    try:
        yield
    finally:
        try:
            with _registry(folder):
                _remove(record)
                _remove(lock)
        except (OSError, InputError):
            pass  # the record of an ended job is removed by the next claim
        finally:
            os.close(fd)
