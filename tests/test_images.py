import numpy as np
import pytest
from PIL import Image

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import (
    as_source_image,
    from_float_rgb,
    read_source_image,
    target_mask,
    working_shape,
)
from napari_partial_style.core.io.image_files import read_image_file, write_image_file


def test_grayscale_becomes_three_equal_channels():
    gray = np.arange(40 * 50, dtype=np.uint16).reshape(40, 50)
    src = as_source_image(gray)
    assert src.rgb.shape == (40, 50, 3) and src.rgb.dtype == np.float32
    assert np.array_equal(src.rgb[..., 0], src.rgb[..., 2])
    assert src.dtype == np.uint16 and src.alpha is None
    assert src.rgb.max() == pytest.approx(gray.max() / 65535)


def test_rgba_alpha_is_kept_aside():
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[..., 3] = 7
    src = as_source_image(rgba)
    assert src.native.shape == (40, 40, 3)
    assert np.all(src.alpha == 7)


@pytest.mark.parametrize(
    ("array", "words"),
    [
        (np.zeros((40, 40, 3), np.int32), "dtype int32"),
        (np.zeros((40, 40, 3), bool), "dtype bool"),
        (np.zeros((40, 40, 5), np.uint8), "shape (40, 40, 5)"),
        (np.zeros((4, 40, 40, 3), np.uint8), "2D slice"),
        (np.zeros((20, 400, 3), np.uint8), "too small"),
        (np.full((40, 40, 3), 2.0, np.float32), "divide by 255"),
        (np.full((40, 40, 3), np.nan, np.float32), "NaN"),
    ],
)
def test_bad_images_get_clear_errors(array, words):
    with pytest.raises(InputError, match="content") as err:
        as_source_image(array, name="content")
    assert words in str(err.value)


def test_exif_orientation_is_applied(tmp_path):
    img = np.zeros((40, 60, 3), np.uint8)
    img[:, :10] = 255  # a white band on the left
    pil = Image.fromarray(img)
    exif = pil.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = tmp_path / "rotated.jpg"
    pil.save(path, exif=exif, quality=95)
    src = read_source_image(path)
    assert src.shape == (60, 40)
    assert src.rgb[:10, :, 0].mean() > 0.9  # the band is now on top


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [None, 3, 4])
def test_png_round_trip_keeps_bit_depth(tmp_path, rng, dtype, channels):
    top = np.iinfo(dtype).max
    shape = (33, 35) if channels is None else (33, 35, channels)
    array = rng.integers(0, top + 1, size=shape, dtype=dtype)
    write_image_file(tmp_path / "x.png", array)
    back = read_image_file(tmp_path / "x.png")
    assert back.dtype == dtype and np.array_equal(back, array)


def test_float_tiff_round_trip(tmp_path, rng):
    array = rng.random((3, 40, 41)).astype(np.float32)
    write_image_file(tmp_path / "x.tif", array)
    assert np.array_equal(read_image_file(tmp_path / "x.tif"), array)


def test_unreadable_file_is_named(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    with pytest.raises(InputError, match="notes.png"):
        read_image_file(path)
    with pytest.raises(InputError, match="no such file"):
        read_image_file(tmp_path / "missing.png")


def test_float_round_trip_is_exact_for_8_and_16_bit(rng):
    for dtype in (np.uint8, np.uint16):
        native = rng.integers(0, np.iinfo(dtype).max + 1, size=(40, 40, 3), dtype=dtype)
        assert np.array_equal(from_float_rgb(as_source_image(native).rgb, dtype), native)


def test_target_mask_checks_shape_and_emptiness():
    labels = np.zeros((40, 50), np.uint8)
    with pytest.raises(InputError, match="no pixel"):
        target_mask(labels, (40, 50))
    with pytest.raises(InputError, match="differs"):
        target_mask(labels, (41, 50))
    labels[3, 4] = 2
    assert target_mask(labels, (40, 50)).sum() == 1
    assert not target_mask(np.where(labels, 2, 1), (40, 50), values=(2,))[0, 0]


def test_working_shape_keeps_aspect():
    assert working_shape((400, 600), 300) == (200, 300)
    assert working_shape((600, 400), 300) == (300, 200)


def test_tiff_and_16_bit_png_pixel_counts_are_checked_before_decoding(tmp_path):
    import tifffile

    tifffile.imwrite(tmp_path / "big.tif", np.zeros((100, 120, 3), np.uint8), photometric="rgb")
    write_image_file(tmp_path / "big16.png", np.zeros((100, 120, 3), np.uint16))
    for name in ("big.tif", "big16.png"):
        with pytest.raises(InputError, match="120×100 px .* above the limit .* --max-pixels 12000"):
            read_image_file(tmp_path / name, max_pixels=11_999)
        assert read_image_file(tmp_path / name, max_pixels=12_000).shape == (100, 120, 3)


def test_gray_and_alpha_tiff_is_still_read(tmp_path):
    import tifffile

    tifffile.imwrite(
        tmp_path / "la.tif", np.zeros((40, 50, 2), np.uint8), photometric="minisblack", extrasamples=["unassalpha"]
    )
    src = as_source_image(read_image_file(tmp_path / "la.tif"))
    assert src.alpha is not None and src.native.shape == (40, 50, 3)
