"""PNG written a strip of rows at a time, straight to a stream.

Pillow holds an RGB image at 4 bytes per pixel before it encodes it (96 MB for 24 Mpx) and pypng
wants every row at once; here memory is one strip. Each row gets the filter of the five that
leaves the smallest sum of absolute (signed) bytes, the heuristic libpng and Pillow use, so files
are about their size. 8 and 16 bits, grey, grey and alpha, RGB and RGBA.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # planes → grey, grey+alpha, RGB, RGBA


def _chunk(out: BinaryIO, kind: bytes, data: bytes) -> None:
    out.write(struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data)))


def _paeth(left: np.ndarray, up: np.ndarray, up_left: np.ndarray) -> np.ndarray:
    p = left + up - up_left
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - up_left)
    return np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, up_left))


def _filtered(rows: np.ndarray, above: np.ndarray, bpp: int) -> np.ndarray:
    """Each row (bytes) with its filter-type byte first, the filter chosen per row."""
    x = rows.astype(np.int16)
    up = np.vstack([above[None].astype(np.int16), x[:-1]])
    left = np.zeros_like(x)
    left[:, bpp:] = x[:, :-bpp]
    up_left = np.zeros_like(x)
    up_left[:, bpp:] = up[:, :-bpp]
    candidates = np.stack([x, x - left, x - up, x - (left + up) // 2, x - _paeth(left, up, up_left)]).astype(np.uint8)
    cost = np.abs(candidates.view(np.int8).astype(np.int32)).sum(axis=2)
    best = cost.argmin(axis=0)
    chosen = candidates[best, np.arange(len(rows))]
    return np.hstack([best.astype(np.uint8)[:, None], chosen])


def write_png(array: np.ndarray, out: BinaryIO, rows: int = 64, level: int = 6) -> None:
    """`array` (H×W or H×W×C, uint8 or uint16) as a PNG file written to `out`."""
    array = np.asarray(array)
    height, width = array.shape[:2]
    planes = 1 if array.ndim == 2 else array.shape[2]
    depth = 16 if array.dtype == np.uint16 else 8
    bpp = planes * depth // 8
    out.write(SIGNATURE)
    _chunk(out, b"IHDR", struct.pack(">IIBBBBB", width, height, depth, COLOUR_TYPES[planes], 0, 0, 0))
    packer = zlib.compressobj(level)
    above = np.zeros(width * bpp, np.uint8)
    for top in range(0, height, rows):
        strip = np.ascontiguousarray(array[top : top + rows], dtype=">u2" if depth == 16 else np.uint8)
        raw = strip.view(np.uint8).reshape(len(strip), width * bpp)
        data = packer.compress(_filtered(raw, above, bpp).tobytes())
        above = raw[-1].copy()
        if data:
            _chunk(out, b"IDAT", data)
    _chunk(out, b"IDAT", packer.flush())
    _chunk(out, b"IEND", b"")
