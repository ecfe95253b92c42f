"""Standard input ('-'): capped and read a chunk at a time, so a stream that is no image, or too
large, is refused early instead of being read whole into memory."""

import io
import struct
import sys
import zlib

import numpy as np
import pytest

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.io.image_files import read_image_file, write_encoded


class Pipe:
    """A piped standard input of `head` and then `size` bytes of `fill`, counting what was read."""

    def __init__(self, head, size=0, fill=b"\0"):
        self.head, self.left, self.fill, self.taken = head, size, fill, 0
        self.buffer = self

    def isatty(self):
        return False

    def read(self, n=-1):
        if self.head:
            n = len(self.head) if n is None or n < 0 else n
            out, self.head = self.head[:n], self.head[n:]
        else:
            n = self.left if n is None or n < 0 else min(n, self.left)
            out, self.left = self.fill * n, self.left - n
        self.taken += len(out)
        return out


def piped(monkeypatch, pipe):
    monkeypatch.setattr(sys, "stdin", pipe)
    return pipe


def test_300_mb_of_nul_bytes_are_refused_from_the_first_chunk(monkeypatch):
    """They were read whole (342 MB) before being called "a text file"."""
    pipe = piped(monkeypatch, Pipe(b"", 300_000_000))
    with pytest.raises(InputError, match="standard input: cannot be read as an image: it is a binary file"):
        read_image_file("-")
    assert pipe.taken <= 2_000_000


def png_header(width, height):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))


def test_the_pixel_cap_applies_from_the_header_before_the_rest_is_read(monkeypatch):
    pipe = piped(monkeypatch, Pipe(png_header(20000, 20000), 500_000_000))
    with pytest.raises(InputError, match=r"standard input: 20000×20000 px \(400 Mpx\) is above the limit of 100 Mpx"):
        read_image_file("-")
    assert pipe.taken <= 2_000_000


def test_a_stream_past_the_byte_cap_names_the_cap(monkeypatch):
    """Standard input had no size cap: a TIFF (whose header may be at its end) of any length was read whole."""
    pipe = piped(monkeypatch, Pipe(b"II*\x00", 100_000_000))
    with pytest.raises(
        InputError,
        match=r"standard input holds more than 16 MB, the cap for an image of 0.001 Mpx "
        r"\(--max-pixels, 16 bytes per pixel\); save it to a file and give its path, or raise --max-pixels",
    ):
        read_image_file("-", max_pixels=1000)
    assert pipe.taken <= 18_000_000


def test_an_image_on_standard_input_is_read_whole_and_the_pixel_cap_still_applies(monkeypatch, rng):
    image = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    encoded = io.BytesIO()
    write_encoded(image, ".png", encoded)
    piped(monkeypatch, Pipe(encoded.getvalue()))
    np.testing.assert_array_equal(read_image_file("-"), image)
    piped(monkeypatch, Pipe(encoded.getvalue()))
    with pytest.raises(InputError, match=r"64×48 px .* above the limit of 0.001 Mpx; .* --max-pixels 3072"):
        read_image_file("-", max_pixels=1000)
