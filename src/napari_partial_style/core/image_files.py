"""Reading and writing image files at their full bit depth.

Pillow reads 8-bit files and applies EXIF orientation, but it cannot keep 16-bit RGB PNGs, so
those go through pypng; TIFF (any dtype, floats included) goes through tifffile.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from napari_partial_style.core.errors import InputError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def read_image_file(path: str | Path) -> np.ndarray:
    """Read an image file as an array in its own dtype, EXIF orientation applied."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file; check the path.")
    with open(path, "rb") as fh:
        head = fh.read(32)
    try:
        if head.startswith(TIFF_SIGNATURES):
            import tifffile

            return np.asarray(tifffile.imread(path))
        if head.startswith(PNG_SIGNATURE) and head[24] == 16:
            return _read_png16(path)
        return _read_with_pillow(path)
    except InputError:
        raise
    except Exception as exc:  # every reader has its own exception types
        raise InputError(
            f"{path}: cannot be read as an image ({exc.__class__.__name__}: {exc}); "
            "give a PNG, JPEG or TIFF file."
        ) from exc


def _read_with_pillow(path: Path) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            if img.mode in ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "1"):
                img = img.convert("RGBA" if "transparency" in img.info or img.mode == "PA" else "RGB")
            return np.array(img)  # a writable copy: napari paints into labels read from a bundle
    except UnidentifiedImageError as exc:
        raise InputError(
            f"{path}: cannot be read as an image (no format Pillow knows); give a PNG, JPEG or TIFF file."
        ) from exc


def _read_png16(path: Path) -> np.ndarray:
    import png

    width, height, rows, info = png.Reader(filename=str(path)).asDirect()
    planes = info["planes"]
    data = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows])
    data = data.reshape(height, width, planes)
    return data[..., 0] if planes == 1 else data


def write_image_file(path: str | Path, array: np.ndarray) -> None:
    """Write uint8/uint16 arrays as PNG and anything else (floats) as TIFF, losslessly."""
    path = Path(path)
    array = np.ascontiguousarray(array)
    if path.suffix.lower() in (".tif", ".tiff"):
        import tifffile

        tifffile.imwrite(path, array, photometric=_photometric(array))
        return
    if array.dtype == np.uint8:
        from PIL import Image

        Image.fromarray(array).save(path)
        return
    if array.dtype == np.uint16:
        import png

        planes = 1 if array.ndim == 2 else array.shape[2]
        rows = array.reshape(array.shape[0], -1)
        writer = png.Writer(
            width=array.shape[1],
            height=array.shape[0],
            bitdepth=16,
            greyscale=planes in (1, 2),
            alpha=planes in (2, 4),
        )
        with open(path, "wb") as fh:
            writer.write(fh, rows)
        return
    raise InputError(f"{path.name}: PNG holds uint8 or uint16, not {array.dtype}; use a .tif name.")


def image_suffix(dtype: np.dtype) -> str:
    """The file suffix that stores `dtype` losslessly."""
    return ".png" if np.dtype(dtype) in (np.dtype(np.uint8), np.dtype(np.uint16)) else ".tif"


def _photometric(array: np.ndarray) -> str:
    return "rgb" if array.ndim == 3 and array.shape[-1] in (3, 4) else "minisblack"
