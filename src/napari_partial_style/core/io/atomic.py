"""Writes that never leave half a result: build beside the target, then rename it in.

Temporary names carry the writer's process id (`.NAME.tmp-PID-RANDOM`, `.NAME.old-PID-RANDOM`), so a
later write to the same target can tell the leftovers of a killed process from a live writer's:
the dead one's temporaries are removed, and a bundle hidden as `.old-*` by a process killed between
its two renames is put back when the target is missing.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from napari_partial_style.core.errors import InputError, OutputError
from napari_partial_style.core.runtime.cancel import check


def _sibling(path: Path, kind: str) -> Path:
    return path.parent / f".{path.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def _siblings(path: Path, kind: str) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.{kind}-*"), key=lambda p: p.stat().st_mtime)


def _writer_alive(leftover: Path) -> bool:
    """Whether the process named in a temporary's name still runs (this one counts as alive:
    another of its threads may be writing)."""
    try:
        pid = int(leftover.name.rsplit("-", 2)[1])
    except (IndexError, ValueError):
        return False
    return pid == os.getpid() or psutil.pid_exists(pid)  # not os.kill(pid, 0): on Windows that ends the process


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def recover(path: Path, is_complete=lambda p: True) -> None:
    """Undo what a killed writer left: put back a hidden old copy if the target is missing,
    and remove dead writers' temporaries and old copies. Best effort: a read-only folder is left as it is."""
    try:
        _recover(path, is_complete)
    except OSError:
        pass


def _recover(path: Path, is_complete) -> None:
    if not path.parent.is_dir():
        return
    dead_old = [p for p in _siblings(path, "old") if not _writer_alive(p)]
    if not path.exists() and not path.is_symlink():
        complete = [p for p in dead_old if is_complete(p)]
        if complete:
            os.replace(complete[-1], path)
            dead_old.remove(complete[-1])
    for leftover in dead_old + [p for p in _siblings(path, "tmp") if not _writer_alive(p)]:
        _remove(leftover)


def check_parent(path: Path) -> None:
    """The folder an output goes in must exist and be writable: checked before any work."""
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise InputError(f"folder {parent} does not exist; create it first.")
    if not os.access(parent, os.W_OK):
        raise InputError(f"folder {parent} is not writable; choose another output folder.")


def disk_error(path: Path, exc: OSError) -> OutputError:
    """One line for a write that the file system refused (disk full, read-only, quota)."""
    reason = exc.strerror or str(exc)
    return OutputError(f"cannot write {path}: {reason}; nothing was written. Free some space or choose another folder.")


def _swap_in(tmp: Path, path: Path) -> None:
    """Rename the finished `tmp` to `path`. A file over a file is one atomic rename; a folder, or a
    file over a folder, hides the old one first and deletes it last (put back if the rename fails).
    A job asked to stop (core/runtime/cancel.py) renames nothing: what it made after the request stays unwritten."""
    check()
    old = None
    if (path.is_dir() and not path.is_symlink()) or (tmp.is_dir() and path.exists()):
        old = _sibling(path, "old")
        os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        if old is not None:
            os.replace(old, path)
        raise
    if old is not None:
        _remove(old)


@contextmanager
def atomic_folder(path: Path) -> Iterator[Path]:
    """Yield an empty folder to fill; on success it replaces `path`. The folder follows the umask, like `mkdir`."""
    tmp = _sibling(path, "tmp")
    try:
        os.mkdir(tmp, 0o777)
        yield tmp
        _swap_in(tmp, path)
    except OSError as exc:
        raise disk_error(path, exc) from exc
    finally:
        if tmp.exists():
            _remove(tmp)


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` to write; it becomes `path` only when complete
    (a killed writer's temporary for the same file is removed first)."""
    recover(path)
    tmp = _sibling(path, "tmp")
    try:
        yield tmp
        _swap_in(tmp, path)
    except OSError as exc:
        raise disk_error(path, exc) from exc
    finally:
        tmp.unlink(missing_ok=True)
