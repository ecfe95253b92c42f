"""The matting Laplacian applied window by window equals Levin's matrix; its energy's gradient is 2Lp;
the closed-form smoothing solves its system as a direct solve does, by strips in bounded memory."""

import numpy as np
import pytest
import torch

from napari_partial_style.core.progress import drain
from napari_partial_style.core.style.matting import MattingLaplacian
from napari_partial_style.core.style.smoothing import smooth


def dense_laplacian(image: np.ndarray, eps: float) -> np.ndarray:
    """Levin et al.'s L, entry by entry, from its definition (3×3 windows inside the image)."""
    _, h, w = image.shape
    n = h * w
    L = np.zeros((n, n))
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            idx = [(y + dy) * w + (x + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
            colours = image.reshape(3, n)[:, idx].T  # 9 × 3
            mu = colours.mean(axis=0)
            cov = (colours - mu).T @ (colours - mu) / 9
            inv = np.linalg.inv(cov + eps / 9 * np.eye(3))
            centred = colours - mu
            L[np.ix_(idx, idx)] += np.eye(9) - (1 + centred @ inv @ centred.T) / 9
    return L


@pytest.mark.parametrize(("eps", "block"), [(1e-7, 1 << 16), (1e-2, 1 << 16), (1e-7, 7)])
def test_the_laplacian_applied_window_by_window_is_levins_matrix(eps, block, monkeypatch):
    monkeypatch.setattr("napari_partial_style.core.style.matting.WINDOWS_PER_BLOCK", block)  # 7: Δ⁻¹ in 3 blocks
    rng = np.random.default_rng(0)
    image = rng.random((3, 6, 7))
    p = rng.random((2, 6, 7))
    laplacian = MattingLaplacian(torch.from_numpy(image), eps=eps)
    fast = laplacian(torch.from_numpy(p)).numpy()
    L = dense_laplacian(image, eps)
    assert np.allclose(fast, (p.reshape(2, -1) @ L.T).reshape(p.shape), atol=1e-6)
    assert np.allclose(L, L.T) and np.linalg.eigvalsh(L).min() > -1e-6  # symmetric, positive semi-definite


def test_in_float32_on_a_photo_with_flat_patches_it_stays_positive_semi_definite():
    from napari_partial_style import samples

    image = samples.coffee()[100:112, 200:212].astype(np.float32) / 255
    image[:6, :6] = 0.7  # flat, as saturated or upsampled areas are: Σ_k is 0 there
    laplacian = MattingLaplacian(torch.from_numpy(image.transpose(2, 0, 1).copy()))
    basis = torch.eye(144).reshape(144, 1, 12, 12)
    matrix = torch.stack([laplacian(b)[0].reshape(-1) for b in basis]).double().numpy()
    eigenvalues = np.linalg.eigvalsh((matrix + matrix.T) / 2)
    assert eigenvalues.min() > -1e-6 * eigenvalues.max(), eigenvalues.min()  # box filters: −1e-5
    # Nearly affine maps are where rounding decides the sign; the sum of squares keeps it ≥ 0.
    noise = np.random.default_rng(4).normal(scale=1e-4, size=(50, 1, 12, 12)).astype(np.float32)
    affine = torch.from_numpy(0.3 * image.transpose(2, 0, 1)[1:2] + noise)
    assert all(float(laplacian.energy(m)) >= 0 for m in affine)


def test_an_affine_recolouring_has_no_energy_and_anything_else_has_some():
    rng = np.random.default_rng(1)
    image = torch.from_numpy(rng.random((3, 12, 10)))
    laplacian = MattingLaplacian(image)
    matrix = torch.tensor([[0.2, 0.5, -0.1], [0.0, 0.3, 0.4], [0.6, -0.2, 0.1]], dtype=image.dtype)
    affine = torch.einsum("ab,bhw->ahw", matrix, image) + 0.3
    assert float(laplacian.energy(affine)) < 1e-4
    assert float(laplacian.energy(torch.from_numpy(rng.random((3, 12, 10))))) > 0.1


def test_the_energys_gradient_is_two_l_p():
    rng = np.random.default_rng(2)
    image = torch.from_numpy(rng.random((3, 7, 8)))
    laplacian = MattingLaplacian(image, eps=1e-3)
    p = torch.from_numpy(rng.random((3, 7, 8))).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda q: laplacian.energy(q), (p,))
    laplacian.energy(p).backward()
    assert torch.allclose(p.grad, 2 * laplacian(p.detach()) / p[0].numel())


@pytest.mark.parametrize("rows", [100, 3])  # 3: strips of 3 rows, each with its 2-row halo
def test_the_smoothing_solves_its_system_as_a_direct_solve_does(rows, monkeypatch):
    monkeypatch.setattr("napari_partial_style.core.style.smoothing.STRIP_PIXELS", 1)
    monkeypatch.setattr("napari_partial_style.core.style.smoothing.MIN_ROWS", rows)
    rng = np.random.default_rng(3)
    content = rng.random((20, 7, 3))  # 7 strips of 3 rows (the last of 2)
    stylized = rng.random((20, 7, 3))
    strength = 0.5
    L = dense_laplacian(content.transpose(2, 0, 1), 1e-7)
    direct = np.linalg.solve(np.eye(140) + strength * L, stylized.reshape(-1, 3))
    events = []
    solved = drain(smooth(stylized, content, strength, tolerance=1e-9, iterations=500), events.append)
    assert 0 < len(events) < 500 and [e.step for e in events] == list(range(1, len(events) + 1))  # converged early
    assert np.abs(solved.reshape(-1, 3) - direct).max() < 1e-5


@pytest.mark.parametrize("strength", [1.0, 10.0, 100.0])
def test_on_a_photo_the_smoothing_is_within_1e_3_of_a_direct_solve(strength):
    from napari_partial_style import samples

    content = samples.coffee()[60:92, 250:290]  # the cup's rim: flat and edged windows, 8 bits as photos are
    stylized = np.ascontiguousarray(content[..., ::-1])
    L = dense_laplacian((content.transpose(2, 0, 1).astype(np.float32) / 255).astype(np.float64), 1e-7)
    direct = np.linalg.solve(np.eye(L.shape[0]) + strength * L, stylized.reshape(-1, 3) / 255)
    solved = drain(smooth(stylized, content, strength))  # the composite's defaults
    assert np.abs(solved.reshape(-1, 3) - direct).max() < 1e-3


def test_smoothing_a_large_box_peaks_under_100_bytes_per_pixel(monkeypatch):
    """The solver is numpy, so tracemalloc sees all it allocates; one iteration reaches the peak."""
    import functools
    import tracemalloc

    from napari_partial_style.core import composite
    from napari_partial_style.core.images import as_source_image
    from napari_partial_style.core.style import smoothing

    # Strips of 8 rows: their temporaries (3 MB; 10 MB as shipped) are fixed, so a box this small, to
    # stay fast, would otherwise measure them more than the per-pixel part a 12 Mpx box is made of.
    monkeypatch.setattr(smoothing, "STRIP_PIXELS", 1)
    monkeypatch.setattr(smoothing, "MIN_ROWS", 8)
    monkeypatch.setattr(smoothing, "smooth", functools.partial(smoothing.smooth, iterations=1))
    rng = np.random.default_rng(6)
    content = as_source_image(rng.integers(0, 256, (400, 600, 3), dtype=np.uint8))
    stylized = rng.integers(0, 256, (400, 600, 3), dtype=np.uint8)
    alpha = np.ones((400, 600), np.float32)
    tracemalloc.start()
    try:
        out = drain(composite.smoothed(content, stylized, alpha, 1.0))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not np.array_equal(out, stylized)
    assert peak < 100 * 400 * 600, peak / (400 * 600)  # bytes per pixel of the box


def test_realism_keeps_the_result_closer_to_an_affine_recolouring_of_the_content():
    from test_style import stats_of_arrays, tiny_net

    from napari_partial_style import samples
    from napari_partial_style.core.params import StyleParams
    from napari_partial_style.core.style.transfer import LevelRequest, optimise

    content = samples.coffee()[60:100, 250:290].astype(np.float32) / 255  # the cup's rim: flat and edged windows
    style = np.random.default_rng(3).random((40, 40, 3)).astype(np.float32)
    net, cpu = tiny_net(), torch.device("cpu")
    laplacian = MattingLaplacian(torch.from_numpy(content.transpose(2, 0, 1).copy()))
    energy, seen = {}, {}
    for weight in (0.0, 1e4):
        params = StyleParams(realism=weight)
        targets = [(stats_of_arrays(net, [(style, 1.0, None)], params, cpu), None)]
        events = []
        result = drain(optimise(LevelRequest(net, content, targets, params, cpu, 12)), events.append)
        energy[weight] = float(laplacian.energy(torch.from_numpy(result.transpose(2, 0, 1).copy())))
        seen[weight] = "realism" in events[-1].values
    assert seen == {0.0: False, 1e4: True}
    assert energy[1e4] < 0.5 * energy[0.0], energy


def test_smoothing_in_the_composite_follows_the_content_and_leaves_the_outside_bit_for_bit():
    from synthetic import two_tone

    from napari_partial_style.api import Session
    from napari_partial_style.core.params import CompositeParams

    content = two_tone((48, 64))
    stylized = np.random.default_rng(5).integers(0, 256, content.shape, dtype=np.uint8)
    mask = np.zeros(content.shape[:2], bool)
    mask[10:30, 12:40] = True
    plain, _ = Session.composite(content, stylized, mask, CompositeParams())
    smooth_, _ = Session.composite(content, stylized, mask, CompositeParams(smooth=5.0))
    assert np.array_equal(smooth_[~mask], content[~mask]) and np.array_equal(plain[~mask], content[~mask])
    laplacian = MattingLaplacian(torch.from_numpy(content.transpose(2, 0, 1) / 255.0))

    def energy(image):
        return float(laplacian.energy(torch.from_numpy(image.transpose(2, 0, 1) / 255.0)))

    assert energy(smooth_) < 0.5 * energy(plain)


def test_smoothing_out_of_memory_is_one_line_naming_the_region_and_the_fix(monkeypatch):
    from napari_partial_style.api import Session
    from napari_partial_style.core.errors import InputError
    from napari_partial_style.core.params import CompositeParams

    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 1.00 GiB for an array with shape (1, 14, 24) and data type float64")

    monkeypatch.setattr("napari_partial_style.core.style.smoothing._System", no_memory)
    content = np.zeros((40, 50, 3), np.uint8)
    mask = np.zeros((40, 50), bool)
    mask[10:20, 10:30] = True
    with pytest.raises(InputError, match=r"ran out of memory smoothing a 24×14 px region .*--smooth\) to 0"):
        Session.composite(content, content, mask, CompositeParams(smooth=1.0))
