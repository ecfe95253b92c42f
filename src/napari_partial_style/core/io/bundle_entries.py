"""A bundle's files read by name under one set of limits, from a zip or an unzipped folder alike.

Bundles come from elsewhere (re-zipped by Windows Explorer or 7-Zip, mailed, unzipped and edited),
so nothing is trusted: a zip feature Python cannot read (Deflate64, encryption) is named, an entry
larger than its kind can be is refused from its stated size before it is inflated or read, and in
a folder only regular files are read (a pipe would block for ever, a huge sparse file fill memory).
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from napari_partial_style.core.errors import BundleError

READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA} | (
    {zipfile.ZIP_ZSTANDARD} if hasattr(zipfile, "ZIP_ZSTANDARD") else set()
)
METHOD_NAMES = {  # the zip specification's compression methods that other tools write
    1: "Shrink",
    6: "Implode",
    9: "Deflate64 (what Windows Explorer and 7-Zip write for large files)",
    93: "Zstandard",
    95: "XZ",
    98: "PPMd",
    99: "WinZip AES encryption",
}
ENCRYPTED = 0x1  # general purpose bit 0


def _size(n: int) -> str:
    return f"{n / 1e6:.3g} MB"


def _check_size(path: Path, name: str, size: int, limit: int) -> None:
    if size > limit:
        raise BundleError(
            f"{path}: {name} claims {_size(size)}, more than any bundle holds there (at most {_size(limit)}); "
            "the bundle is damaged."
        )


def read_zip_entry(path: Path, archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """The entry `name` of the bundle zip at `path`, at most `limit` bytes; FileNotFoundError when absent."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise FileNotFoundError(name) from None
    advice = "unzip it (with 7-Zip or unzip) and open the folder it gives, or zip it again with ordinary Deflate."
    if info.flag_bits & ENCRYPTED:
        raise BundleError(f"{path}: {name} is encrypted (a password-protected zip), which bundles never are; {advice}")
    if info.compress_type not in READABLE_METHODS:
        method = METHOD_NAMES.get(info.compress_type, f"compression method {info.compress_type}")
        raise BundleError(f"{path}: {name} is compressed with {method}, which Python cannot read; {advice}")
    _check_size(path, name, info.file_size, limit)
    try:
        with archive.open(info) as entry:
            data = entry.read(limit + 1)
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, NotImplementedError, RuntimeError) as exc:
        raise BundleError(f"{path}: {name} is damaged ({exc}).") from exc
    _check_size(path, name, len(data), limit)
    return data


def read_folder_entry(folder: Path, name: str, limit: int) -> bytes:
    """The file `name` of an unzipped bundle, at most `limit` bytes and only a regular file inside it
    (opened without waiting, so a pipe in its place is refused, not waited on)."""
    entry = folder / name
    if entry.is_symlink() and not entry.resolve().is_relative_to(folder.resolve()):
        raise BundleError(
            f"{folder}: {name} is a link to {entry.resolve()}, outside the bundle; only files inside "
            "the bundle are read."
        )
    fd = os.open(entry, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = (
                "a folder"
                if stat.S_ISDIR(info.st_mode)
                else "a pipe"
                if stat.S_ISFIFO(info.st_mode)
                else "a special file"
            )
            raise BundleError(f"{folder}: {name} is {kind}, not a file; a bundle folder holds plain files only.")
        _check_size(folder, name, info.st_size, limit)
        data = fh.read(limit + 1)
    _check_size(folder, name, len(data), limit)
    return data
