"""Reading and writing image files at their full bit depth.

Pillow reads 8-bit files and applies EXIF orientation, but it cannot keep 16-bit RGB PNGs, so
those go through pypng; TIFF (any dtype, floats included) goes through tifffile.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import BinaryIO

import numpy as np

from napari_partial_style.core.errors import InputError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
# Larger inputs are refused before decoding (a 100 Mpx RGB image is 300 MB as 8-bit); the CLI's
# --max-pixels raises the limit.
DEFAULT_MAX_PIXELS = 100_000_000
# The path that means "read the image from standard input" (`... | napari-partial-style run - stone.jpg`).
STDIN = "-"
STDIN_CHUNK = 1 << 20
BYTES_PER_PIXEL = 16  # float32 RGBA, the largest uncompressed encoding read
STDIN_SLACK = 16_000_000  # header, metadata, a preview inside a TIFF
OTHER_SIGNATURES = (b"\xff\xd8\xff", b"GIF8", b"BM", b"RIFF")  # JPEG, GIF, BMP, WebP


def read_image_file(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file as an array in its own dtype, EXIF orientation applied.

    The pixel count is read from the header first: a file above `max_pixels` is refused before
    any pixel is decoded, so a huge or hostile file costs no memory. `STDIN` reads standard input.
    """
    if str(path) == STDIN:
        return read_image(read_stdin(max_pixels), "standard input", max_pixels)
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder, not an image file; give a PNG, JPEG or TIFF file.")
    if not path.is_file():
        raise InputError(f"{path}: no such file; check the path.")
    with open(path, "rb") as fh:
        return read_image(fh, str(path), max_pixels)


def stdin_cap(max_pixels: int) -> int:
    """The most bytes standard input may hold: an image of `max_pixels` in the largest encoding read
    (float32 RGBA TIFF, uncompressed), plus room for its header and metadata."""
    return max_pixels * BYTES_PER_PIXEL + STDIN_SLACK


def read_stdin(max_pixels: int = DEFAULT_MAX_PIXELS) -> io.BytesIO:
    """Standard input, read a chunk at a time: what is no image, or an image above `max_pixels`
    by its header, is refused from the first chunk, and the whole is capped at `stdin_cap` bytes.
    Refused when it is a terminal (nothing was piped in, reading would hang)."""
    if sys.stdin is None or sys.stdin.isatty():
        raise InputError(
            "'-' reads the image from standard input, but nothing is piped in; pipe one "
            "(cat photo.png | napari-partial-style ...) or give a file path."
        )
    stream = sys.stdin.buffer
    head = stream.read(STDIN_CHUNK)
    if not head:
        raise InputError("'-': standard input is empty; pipe an image into it or give a file path.")
    _check_head(head, max_pixels)
    data, cap = io.BytesIO(head), stdin_cap(max_pixels)
    data.seek(0, io.SEEK_END)
    while chunk := stream.read(STDIN_CHUNK):
        data.write(chunk)
        if data.tell() > cap:
            raise InputError(
                f"'-': standard input holds more than {cap / 1e6:.0f} MB, the cap for an image of "
                f"{max_pixels / 1e6:.3g} Mpx (--max-pixels, {BYTES_PER_PIXEL} bytes per pixel); save it to a file "
                "and give its path, or raise --max-pixels."
            )
    data.seek(0)
    return data


def _check_head(head: bytes, max_pixels: int) -> None:
    """Refuse standard input from its first chunk: no image format's signature, or too many pixels in its header."""
    from PIL import UnidentifiedImageError

    if head.startswith(TIFF_SIGNATURES):
        return  # a TIFF's header may lie at its end
    if head.startswith(PNG_SIGNATURE) and len(head) >= 24:
        _check_pixels(
            "standard input", int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big"), max_pixels
        )
        return
    known = head.startswith(OTHER_SIGNATURES)
    try:
        with _open_with_pillow(io.BytesIO(head)) as img:
            width, height = img.size
    except UnidentifiedImageError:
        if known:
            return  # cut short by the chunk (a JPEG with long metadata): the whole decides
        raise InputError(
            f"standard input: cannot be read as an image: it is {describe_head(head[:512])}; "
            "pipe a PNG, JPEG or TIFF file."
        ) from None
    except Exception:  # a header cut short by the chunk: the whole decides
        return
    _check_pixels("standard input", width, height, max_pixels)


def read_image(fh: BinaryIO, name: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """`read_image_file` for an open, seekable binary file (a file on disk or a bundle's entry);
    `name` is what messages call it."""
    head = fh.read(32)
    fh.seek(0)
    try:
        if head.startswith(TIFF_SIGNATURES):
            return _read_tiff(fh, name, max_pixels)
        if head.startswith(PNG_SIGNATURE) and len(head) > 24 and head[24] == 16:
            _check_pixels(name, int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big"), max_pixels)
            return _read_png16(fh)
        return _read_with_pillow(fh, name, max_pixels)
    except InputError:
        raise
    except MemoryError as exc:
        raise InputError(f"{name}: not enough memory to decode it; free memory or give a smaller image.") from exc
    except Exception as exc:  # every reader has its own exception types
        raise InputError(
            f"{name}: cannot be read as an image ({exc.__class__.__name__}: {exc}); give a PNG, JPEG or TIFF file."
        ) from exc


def _check_pixels(name: str, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise InputError(
            f"{name}: {width}×{height} px ({width * height / 1e6:.3g} Mpx) is above the limit of "
            f"{max_pixels / 1e6:.3g} Mpx; downscale it first, or raise the limit with --max-pixels "
            f"{width * height} if the machine has the memory (about 15 bytes per pixel besides the models)."
        )


def _read_tiff(fh: BinaryIO, name: str, max_pixels: int) -> np.ndarray:
    import tifffile

    with tifffile.TiffFile(fh) as tif:
        series = tif.series[0]
        samples = dict(zip(series.axes, series.shape)).get("S", 1)
        height, width, planes = _tiff_dims(series)
        _check_pixels(name, width, height * planes, max_pixels)
        array = np.asarray(series.asarray())
        extras = tuple(int(e) for e in (getattr(series.pages[0], "extrasamples", None) or ()))
    if array.ndim == 3 and array.shape[-1] == 2 and not (samples == 2 and extras in ((1,), (2,))):
        raise InputError(
            f"{name}: a TIFF whose last axis has 2 values that are not marked as gray and alpha; "
            "save one channel as a grayscale image (or three as RGB) first."
        )
    return array


def _tiff_dims(series) -> tuple[int, int, int]:
    """Height, width and the number of 2-D images of a TIFF series, from its header."""
    sizes = [int(n) for axis, n in zip(series.axes, series.shape) if axis != "S"]
    height, width = (sizes[-2], sizes[-1]) if len(sizes) >= 2 else (1, sizes[0] if sizes else 1)
    return height, width, int(np.prod(sizes[:-2], dtype=np.int64))


def image_dims(fh: BinaryIO, name: str) -> tuple[int, int, int]:
    """Height, width and number of 2-D images (a TIFF stack's; 1 otherwise) from an image file's
    header alone, so that a file of the wrong shape is refused before any pixel is decoded."""
    head = fh.read(32)
    fh.seek(0)
    try:
        if head.startswith(TIFF_SIGNATURES):
            import tifffile

            with tifffile.TiffFile(fh) as tif:
                return _tiff_dims(tif.series[0])
        if head.startswith(PNG_SIGNATURE) and len(head) >= 24:
            return int.from_bytes(head[20:24], "big"), int.from_bytes(head[16:20], "big"), 1
        with _open_with_pillow(fh) as img:
            return img.size[1], img.size[0], 1
    except Exception as exc:  # every reader has its own exception types
        raise InputError(f"{name}: cannot be read as an image ({exc.__class__.__name__}: {exc}).") from exc
    finally:
        fh.seek(0)


def _open_with_pillow(fh: BinaryIO):
    """Pillow's lazy open (the header only), without its own bomb check: ours names the limit and the flag."""
    import warnings

    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(fh)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _read_with_pillow(fh: BinaryIO, name: str, max_pixels: int) -> np.ndarray:
    from PIL import ImageOps, UnidentifiedImageError

    try:
        with _open_with_pillow(fh) as img:
            _check_pixels(name, *img.size, max_pixels)
            frames = getattr(img, "n_frames", 1)
            if frames > 1:
                raise InputError(
                    f"{name}: an animated or multi-page {img.format} with {frames} frames; save the frame you "
                    "want as a PNG first."
                )
            ImageOps.exif_transpose(img, in_place=True)  # not a copy: a 24 Mpx RGB is 96 MB in Pillow
            if img.mode in ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "1"):
                img = img.convert("RGBA" if "transparency" in img.info or img.mode == "PA" else "RGB")
            return np.array(img)  # a writable copy: napari paints into labels read from a bundle
    except UnidentifiedImageError as exc:
        fh.seek(0)
        raise InputError(
            f"{name}: cannot be read as an image: it is {describe_head(fh.read(512))}; give a PNG, JPEG or TIFF file."
        ) from exc


def describe_file(path: Path) -> str:
    """What a file looks like from its first bytes, for messages about the wrong kind of file."""
    with open(path, "rb") as fh:
        return describe_head(fh.read(512))


def describe_head(head: bytes) -> str:
    """`describe_file` for a file's first 512 bytes."""
    if not head:
        return "an empty file"
    kinds = {
        PNG_SIGNATURE: "a PNG image",
        b"\xff\xd8\xff": "a JPEG image",
        b"PK\x03\x04": "a zip archive",
        b"%PDF": "a PDF document",
        b"GIF8": "a GIF image",
        b"\x80\x02": "a Python pickle",
    }
    kinds.update({sig: "a TIFF image" for sig in TIFF_SIGNATURES})
    for signature, kind in kinds.items():
        if head.startswith(signature):
            return kind
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "a binary file"
    return "a binary file" if b"\0" in head else "a text file"


def _read_png16(fh: BinaryIO) -> np.ndarray:
    import png

    width, height, rows, info = png.Reader(file=fh).asDirect()
    planes = info["planes"]
    data = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows])
    data = data.reshape(height, width, planes)
    return data[..., 0] if planes == 1 else data


def write_image_file(path: str | Path, array: np.ndarray) -> None:
    """Write uint8/uint16 arrays as PNG and anything else (floats) as TIFF, losslessly."""
    path = Path(path)
    with open(path, "wb") as fh:
        write_encoded(array, path.suffix, fh, path.name)


def write_encoded(array: np.ndarray, suffix: str, out: BinaryIO, name: str = "image") -> None:
    """An image file's bytes written to `out` as they are made (into a zip entry: no copy in
    memory): TIFF for a `.tif` suffix, else PNG (uint8 or uint16)."""
    if suffix.lower() in (".tif", ".tiff"):
        import io

        import tifffile

        encoded = io.BytesIO()  # tifffile seeks back to write offsets: a zip entry cannot
        tifffile.imwrite(encoded, np.ascontiguousarray(array), photometric=_photometric(array))
        out.write(encoded.getbuffer())
    elif array.dtype in (np.uint8, np.uint16):
        from napari_partial_style.core.io.png_strips import write_png

        write_png(array, out)
    else:
        raise InputError(f"{name}: PNG holds uint8 or uint16, not {array.dtype}; use a .tif name.")


def image_suffix(dtype: np.dtype) -> str:
    """The file suffix that stores `dtype` losslessly."""
    return ".png" if np.dtype(dtype) in (np.dtype(np.uint8), np.dtype(np.uint16)) else ".tif"


def _photometric(array: np.ndarray) -> str:
    return "rgb" if array.ndim == 3 and array.shape[-1] in (3, 4) else "minisblack"
