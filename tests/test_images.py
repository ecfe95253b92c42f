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


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("alpha", [False, True])
def test_each_colour_of_an_rgb_label_image_is_its_own_label_in_colour_order(dtype, alpha):
    from napari_partial_style.core.images import label_plane

    top = np.iinfo(dtype).max if dtype != np.float32 else 255
    rgb = np.zeros((4, 6, 4 if alpha else 3), dtype)
    rgb[0, :3, :3], rgb[1, :3, :3], rgb[2, :3, :3] = (top, 0, 0), (0, top, 0), (0, 0, 3)  # red, green, dark blue
    if alpha:
        rgb[..., 3] = top
    plane = label_plane(rgb)
    assert plane.ndim == 2 and plane.dtype.kind in "ui"
    assert plane[0, 0] == 3 and plane[1, 0] == 2 and plane[2, 0] == 1 and plane[3, 0] == 0
    assert target_mask(rgb, (4, 6), values=(3,)).sum() == 3  # the red pixels only
    white = np.zeros((4, 6, 3), dtype)
    white[1:3, 1:4] = top
    assert set(np.unique(label_plane(white))) == {0, 1}  # a mask saved in colour: label 1


def test_float_labels_must_be_whole_and_finite_and_the_error_names_them():
    from napari_partial_style.core.images import label_plane

    labels = np.zeros((40, 50), np.float64)
    labels[5:9, 5:9] = 2.0
    assert label_plane(labels).dtype.kind == "i" and target_mask(labels, (40, 50), values=(2,)).sum() == 16
    for bad, words in ((np.nan, "NaN or infinite"), (np.inf, "NaN or infinite"), (0.5, "not whole numbers")):
        labels[0, 0] = bad
        with pytest.raises(InputError, match=f"labels \\(m.tif\\): .*{words}"):
            target_mask(labels, (40, 50), name="labels (m.tif)")
