"""The torch dense CRF: the same model as pydensecrf (its reference), the lattice against exact
Gaussian filtering, stepping and stopping."""

import numpy as np
import pytest
import torch

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.progress import drain
from napari_partial_style.core.segment import crf_torch
from napari_partial_style.core.segment.crf import CRFParams, calibrate, class_probabilities, crf_stage, unaries
from napari_partial_style.core.segment.crf_torch import DenseCRF, pixel_features


def scene(seed=0, h=40, w=56, classes=2):
    """A noisy two-region image and noisy class probabilities that are right only on average."""
    rng = np.random.default_rng(seed)
    truth = np.zeros((h, w), np.int64)
    truth[:, w // 2 :] = 1
    if classes == 3:
        truth[h // 2 :, : w // 3] = 2
    colours = np.array([[40, 40, 40], [200, 180, 160], [30, 160, 60]])[:classes]
    img = np.clip(colours[truth] + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)
    p = rng.random((classes, h, w)) + 0.3 * (np.arange(classes)[:, None, None] == truth[None])
    p /= p.sum(axis=0, keepdims=True)
    return img, unaries(p.astype(np.float32)), truth


@pytest.mark.parametrize(
    ("seed", "classes", "gaussian", "bilateral"),
    [
        (0, 2, (3, 3), (80, 13, 10)),
        (1, 3, (3, 3), (80, 13, 10)),
        (2, 2, (1, 5), (20, 30, 4)),
    ],
)
def test_torch_crf_agrees_with_pydensecrf(seed, classes, gaussian, bilateral):
    dcrf = pytest.importorskip("pydensecrf.densecrf", reason="the `crf` extra (pydensecrf) is the reference")
    img, u, _ = scene(seed, classes=classes)
    h, w = img.shape[:2]
    reference = dcrf.DenseCRF2D(w, h, classes)
    reference.setUnaryEnergy(u.copy())
    reference.addPairwiseGaussian(sxy=gaussian[0], compat=gaussian[1])
    reference.addPairwiseBilateral(sxy=bilateral[0], srgb=bilateral[1], rgbim=img, compat=bilateral[2])
    expected = np.array(reference.inference(10)).reshape(classes, -1)
    ours = DenseCRF(img, u, gaussian, bilateral)
    for _ in range(10):
        ours.step()
    got = ours.marginals()
    assert np.abs(got - expected).max() < 1e-4
    assert (got.argmax(0) == expected.argmax(0)).mean() >= 0.999


def brute_force_step(img, u, gaussian, bilateral):
    """One mean-field step with the exact O(N²) Gaussian kernels and symmetric normalisation."""
    h, w = img.shape[:2]
    unary = torch.from_numpy(u).T.double()
    q = torch.softmax(-unary, 1)
    energy = -unary
    rgb = torch.from_numpy(img)
    for f, compat in (
        (pixel_features(h, w, gaussian[0]), gaussian[1]),
        (pixel_features(h, w, bilateral[0], rgb, bilateral[1]), bilateral[2]),
    ):
        f = f.double()
        k = torch.exp(-0.5 * ((f[:, None] - f[None]) ** 2).sum(-1))
        norm = 1 / torch.sqrt(k.sum(1, keepdim=True))
        energy = energy + compat * norm * (k @ (norm * q))
    return torch.softmax(energy, 1).T.numpy()


def test_one_step_is_close_to_exact_gaussian_filtering():
    """The permutohedral lattice approximates the Gaussian kernels (as pydensecrf's does): on a
    16×16 image one step stays within 0.1 of the exact marginals, 0.02 on average."""
    img, u, _ = scene(3, h=16, w=16)
    for gaussian, bilateral in (((3, 3), (80, 13, 10)), ((1, 3), (5, 20, 10))):
        crf = DenseCRF(img, u, gaussian, bilateral)
        crf.step()
        exact = brute_force_step(img, u, gaussian, bilateral)
        difference = np.abs(crf.marginals() - exact)
        assert difference.max() < 0.1 and difference.mean() < 0.02, (difference.max(), difference.mean())


def test_the_crf_cleans_noisy_unaries():
    img, u, truth = scene(4)
    plain = (-u).argmax(0).reshape(truth.shape)
    crf = DenseCRF(img, u, (3, 3), (80, 13, 10))
    for _ in range(10):
        crf.step()
    labels = crf.marginals().argmax(0).reshape(truth.shape)
    assert (plain == truth).mean() < 0.85 < 0.97 < (labels == truth).mean()


def test_a_second_image_of_the_same_size_reuses_the_spatial_lattice(monkeypatch):
    img, u, _ = scene(6)
    other, u2, _ = scene(7)

    def run(image, unary):
        crf = DenseCRF(image, unary, (3, 3), (80, 13, 10))
        for _ in range(5):
            crf.step()
        return crf, crf.marginals()

    first, _ = run(img, u)
    second, cached = run(other, u2)
    assert second.kernels[0].lattice is first.kernels[0].lattice
    assert second.kernels[1].lattice is not first.kernels[1].lattice  # the bilateral one sees the image
    monkeypatch.setattr(crf_torch, "SPATIAL_CACHE_PIXELS", 0)  # too large to keep: built afresh
    fresh_crf, fresh = run(other, u2)
    assert fresh_crf.kernels[0].lattice is not first.kernels[0].lattice
    np.testing.assert_array_equal(cached, fresh)


def test_a_lattice_built_in_passes_equals_one_built_at_once(monkeypatch):
    img, _, _ = scene(8)
    features = pixel_features(*img.shape[:2], 80, torch.from_numpy(img), 13)
    values = torch.rand(features.shape[0], 2, generator=torch.Generator().manual_seed(0))
    whole = crf_torch.Lattice(features)
    monkeypatch.setattr(crf_torch, "CHUNK", 97)  # 24 passes, the last one short
    parts = crf_torch.Lattice(features)
    assert parts.size == whole.size
    filtered = [torch.zeros_like(values), torch.zeros_like(values)]
    parts.add_filtered(values, filtered[0])
    whole.add_filtered(values, filtered[1])
    torch.testing.assert_close(*filtered, rtol=0, atol=0)


def test_features_too_far_apart_for_the_lattice_are_one_clear_error():
    img, u, _ = scene(9)
    with pytest.raises(InputError, match="span too wide a range"):
        DenseCRF(img, u, (3, 3), (80, 1e-9, 10))  # srgb near 0: colours a billion units apart


def test_stepping_stops_between_iterations_and_the_set_up_is_announced_first(monkeypatch):
    img, u, _ = scene(5)
    maps = np.exp(-u[1:]).reshape(1, *img.shape[:2])
    steps, built = [], []
    real_step, real_init = DenseCRF.step, DenseCRF.__init__
    monkeypatch.setattr(DenseCRF, "step", lambda self: (steps.append(1), real_step(self)))
    monkeypatch.setattr(DenseCRF, "__init__", lambda self, *a: (built.append(1), real_init(self, *a))[1])
    job = crf_stage(img, maps.astype(np.float32), CRFParams(method="torch", iterations=10))
    first = next(job)  # before the lattices, which take most of a large image's time
    assert (first.step, first.total, built) == (0, 10, []) and "lattices" in first.message
    for event in job:
        if event.step == 3:
            job.close()  # what Cancel does to the generator
            break
    assert len(steps) == 3


def test_crf_stage_torch_and_pydensecrf_give_the_same_labels():
    pytest.importorskip("pydensecrf.densecrf", reason="the `crf` extra (pydensecrf) is the reference")
    img, u, _ = scene(6)
    maps = np.exp(-u[1:]).reshape(1, *img.shape[:2]).astype(np.float32)
    torch_labels, torch_q = drain(crf_stage(img, maps, CRFParams(method="torch")))
    ref_labels, ref_q = drain(crf_stage(img, maps, CRFParams(method="pydensecrf")))
    assert np.array_equal(torch_labels, ref_labels) and np.abs(torch_q - ref_q).max() < 1e-4
    probabilities = class_probabilities(calibrate(maps), 1.0)
    assert torch_q.shape == probabilities.shape


def test_the_default_install_segments_end_to_end_without_pydensecrf(hub, tmp_path, monkeypatch):
    import sys

    from synthetic import two_tone

    from napari_partial_style.cli import main
    from napari_partial_style.core.io.bundle import read_bundle
    from napari_partial_style.core.io.image_files import write_image_file

    monkeypatch.setitem(sys.modules, "pydensecrf", None)  # as if the `crf` extra were not installed
    monkeypatch.setitem(sys.modules, "pydensecrf.densecrf", None)
    write_image_file(tmp_path / "img.png", two_tone((64, 96)))
    out = tmp_path / "seg.pstyle"
    assert (
        main(
            [
                "segment",
                str(tmp_path / "img.png"),
                "--out",
                str(out),
                "--target",
                "cup",
                "--size",
                "64",
                "--device",
                "cpu",
                "--classifier",
                "tiny",
                "--quiet",
            ]
        )
        == 0
    )
    bundle = read_bundle(out)
    assert bundle.manifest["parameters"]["segment"]["crf"]["method"] == "torch"
    assert bundle.labels.shape == (64, 96) and bundle.crf_probabilities.shape == (2, 64, 96)


def test_codes_sorted_with_their_index_or_without_give_the_same_lattice(monkeypatch):
    img, _, _ = scene(10)
    features = pixel_features(*img.shape[:2], 80, torch.from_numpy(img), 13)
    values = torch.rand(features.shape[0], 2, generator=torch.Generator().manual_seed(1))
    packed = crf_torch.Lattice(features)
    monkeypatch.setattr(crf_torch, "_packable", lambda *args: False)  # wide codes: torch's sort
    unpacked = crf_torch.Lattice(features)
    filtered = [torch.zeros_like(values), torch.zeros_like(values)]
    packed.add_filtered(values, filtered[0])
    unpacked.add_filtered(values, filtered[1])
    assert packed.size == unpacked.size
    torch.testing.assert_close(*filtered, rtol=0, atol=0)
