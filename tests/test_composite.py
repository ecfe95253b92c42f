import numpy as np
import pytest
from synthetic import two_tone

from napari_partial_style.core.composite import composite, crf_edge_alpha, feather_alpha
from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import as_source_image


def square_mask(shape=(48, 64)):
    mask = np.zeros(shape, bool)
    mask[10:30, 20:44] = True
    return mask


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("rgba", [False, True])
@pytest.mark.parametrize("feather", [0.0, 6.0])
def test_outside_pixels_are_bit_identical(dtype, rgba, feather, rng):
    native = two_tone(dtype=dtype)
    if rgba:
        alpha_channel = np.full(native.shape[:2], np.iinfo(dtype).max // 3 if dtype != np.float32 else 0.3, dtype)
        native = np.dstack([native, alpha_channel])
    source = as_source_image(native)
    stylized = rng.random((*source.shape, 3)).astype(np.float32)
    mask = square_mask()
    alpha = feather_alpha(mask, feather)
    out = composite(source, stylized, alpha)
    assert out.dtype == native.dtype and out.shape == native.shape
    outside = alpha == 0
    assert outside.sum() > 0.5 * outside.size
    assert np.array_equal(out[outside], native[outside])
    if rgba:
        assert np.array_equal(out[..., 3], native[..., 3])
    inside = alpha == 1
    assert inside.any()
    assert np.abs(out[..., :3][inside].astype(np.float64) - native[..., :3][inside]).max() > 0


def test_hard_mask_pastes_the_stylized_pixels():
    source = as_source_image(two_tone())
    stylized = np.full((*source.shape, 3), 0.25, np.float32)
    out = composite(source, stylized, feather_alpha(square_mask()))
    assert np.all(out[square_mask()] == 64)


def test_feather_band_is_a_ramp_of_the_given_width():
    mask = np.zeros((40, 80), bool)
    mask[:, 40:] = True
    alpha = feather_alpha(mask, 8.0)
    row = alpha[20]
    assert np.all(np.diff(row) >= 0)
    assert row[30] == 0 and row[50] == 1
    assert 0 < row[38] < row[41] < 1
    assert np.count_nonzero((row > 0) & (row < 1)) <= 9
    assert np.array_equal(feather_alpha(mask, 0), mask.astype(np.float32))


def test_bad_composite_inputs():
    source = as_source_image(two_tone())
    with pytest.raises(InputError, match="feather"):
        feather_alpha(square_mask(), -1)
    with pytest.raises(InputError, match="match"):
        composite(source, np.zeros((10, 10, 3), np.float32), np.zeros(source.shape, np.float32))


def test_a_crf_soft_edge_follows_the_probability_near_the_edge_and_keeps_the_labels_edge():
    mask = square_mask()
    probability = np.linspace(0, 1, mask.size, dtype=np.float32).reshape(mask.shape)
    hard = feather_alpha(mask)
    alpha = crf_edge_alpha(hard, mask, probability, width=3)
    from scipy.ndimage import distance_transform_edt

    distance = np.where(mask, distance_transform_edt(mask), distance_transform_edt(~mask))
    far, near = distance > 3, distance <= 3
    assert np.array_equal(alpha[far], hard[far])
    assert np.all(alpha[mask] >= 0.5) and np.all(alpha[~mask] <= 0.5)
    unsure = near & ~mask & (probability > 0.01) & (probability < 0.5)
    assert unsure.any() and np.allclose(alpha[unsure], probability[unsure], atol=1 / 2048)  # half precision
    assert 0 < alpha[near & ~mask].max() <= 0.5 and np.array_equal(crf_edge_alpha(hard, mask, probability, 0), hard)
    with pytest.raises(InputError, match="must match the region"):
        crf_edge_alpha(hard, mask, probability[:-1], 3)


@pytest.mark.parametrize("feather", [0.0, 3.0, 40.0])
@pytest.mark.parametrize("grow", [-1000.0, -30.0, -11.0, -10.0, -9.0, -4.0])
def test_a_region_that_grow_erases_is_refused_exactly_when_its_alpha_would_be_empty(grow, feather):
    """The check reads only the region's depth, yet refuses exactly the grows whose alpha is all 0."""
    from napari_partial_style.core.composite import check_region_survives
    from napari_partial_style.core.params import CompositeParams

    mask, params = square_mask(), CompositeParams(grow=grow, feather=feather)
    if feather_alpha(mask, feather, grow).any():
        check_region_survives(mask, params)
    else:
        with pytest.raises(InputError, match=f"grow {grow:g} px.*erases the whole region.*--grow"):
            check_region_survives(mask, params)


def test_compositing_refuses_a_region_grow_erases_and_leaves_an_empty_slice_alone():
    from napari_partial_style.api import Session
    from napari_partial_style.core.params import CompositeParams

    content = two_tone()
    stylized = np.zeros_like(content)
    with pytest.raises(InputError, match="erases the whole region"):
        Session.composite(content, stylized, square_mask(), CompositeParams(grow=-1000))
    image, alpha = Session.composite(content, stylized, np.zeros((48, 64), bool), CompositeParams(grow=-1000))
    assert np.array_equal(image, content) and not alpha.any()
