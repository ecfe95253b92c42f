import numpy as np
import pytest

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.progress import drain
from napari_partial_style.core.segment.crf import CRFParams, class_probabilities, crf_stage, unaries
from napari_partial_style.core.segment.metrics import confusion, iu_per_class, mean_iu, pixel_accuracy


def noisy_two_regions(seed=0):
    """Dark left, bright right; a saliency map that is right about the bright half only on average."""
    rng = np.random.default_rng(seed)
    h, w = 48, 64
    truth = np.zeros((h, w), np.int64)
    truth[:, w // 2 :] = 1
    img = np.where(truth[..., None] == 1, 200, 40) + rng.normal(0, 8, (h, w, 3))
    saliency = np.clip(0.5 + 0.25 * (2 * truth - 1) + rng.normal(0, 0.3, (h, w)), 1e-3, 1)
    return np.clip(img, 0, 255).astype(np.uint8), saliency[None].astype(np.float32), truth


def accuracy(labels, truth):
    return float((labels == truth).mean())


def test_crf_recovers_regions_better_than_the_unaries_argmax():
    img, maps, truth = noisy_two_regions()
    params = CRFParams(background_alpha=1.0)
    plain, _ = drain(crf_stage(img, maps, CRFParams(method="none", background_alpha=1.0)))
    events = []
    labels, marginals = drain(crf_stage(img, maps, params), events.append)
    assert accuracy(plain, truth) < 0.85
    assert accuracy(labels, truth) > 0.97
    assert [e.step for e in events] == list(range(params.iterations + 1))  # 0: the set-up, then each iteration
    assert marginals.shape == (2, *truth.shape)
    assert np.allclose(marginals.sum(axis=0), 1, atol=1e-4)


def test_background_channel_and_unaries():
    maps = np.array([[[0.2, 1.0]], [[0.6, 0.0]]], np.float32)  # two classes, 1×2 image
    probs = class_probabilities(maps, background_alpha=2.0)
    assert np.allclose(probs[0], [(1 - 0.6) ** 2, 0.0])
    u = unaries(probs)
    assert u.shape == (3, 2) and u.dtype == np.float32 and u.flags.c_contiguous
    assert u[0, 1] == pytest.approx(-np.log(1e-5), rel=1e-5)


def test_bad_crf_input():
    img, maps, _ = noisy_two_regions()
    with pytest.raises(InputError, match="8-bit"):
        drain(crf_stage(img.astype(np.float32), maps, CRFParams()))
    with pytest.raises(InputError, match="unknown"):
        CRFParams(method="magic")


def test_metrics_on_known_confusion_matrices():
    truth = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    pred = np.array([0, 0, 1, 1, 1, 1, 0, 2])
    hist = confusion(truth, pred, 3)
    assert hist.tolist() == [[2, 1, 0], [1, 3, 1], [0, 0, 0]]
    assert pixel_accuracy(hist) == pytest.approx(5 / 8)
    iu = iu_per_class(hist)
    assert iu[0] == pytest.approx(2 / (3 + 3 - 2)) and iu[1] == pytest.approx(3 / (5 + 4 - 3))
    assert iu[2] == 0
    assert mean_iu(hist, [0, 1]) == pytest.approx((0.5 + 0.5) / 2)
    perfect = confusion(truth, truth, 2)
    assert pixel_accuracy(perfect) == 1.0 and mean_iu(perfect) == 1.0


def peaky_scene(h=48, w=96):
    """Two objects on grey: the left one's map is strong; the right one's is peaky (1.0 on a
    quarter of its pixels, 0.25 elsewhere: mean 0.44 inside, peak 1), as DCSM maps often are."""
    yy, xx = np.mgrid[:h, :w]
    left = ((yy - h / 2) / (h / 3)) ** 2 + ((xx - w / 4) / (w / 6)) ** 2 < 1
    right = ((yy - h / 2) / (h / 3)) ** 2 + ((xx - 3 * w / 4) / (w / 6)) ** 2 < 1
    img = np.full((h, w, 3), 110, np.uint8)
    img[left] = (200, 40, 40)
    img[right] = (40, 170, 40)
    spots = (yy % 4 < 2) & (xx % 4 < 2)
    strong = np.where(left, 0.9, 0.03)
    weak = np.where(right, np.where(spots, 1.0, 0.25), 0.03)
    return img, np.stack([strong, weak]).astype(np.float32), left + 2 * right


def test_calibration_keeps_a_peaky_second_target():
    img, maps, truth = peaky_scene()
    found = {}
    for calibration in ("none", "otsu"):
        labels, _ = drain(crf_stage(img, maps, CRFParams(calibration=calibration)))
        found[calibration] = float((labels[truth == 2] == 2).mean())
        assert (labels[truth == 1] == 1).mean() > 0.95
    assert found["none"] < 0.5 < 0.95 < found["otsu"], found  # uncalibrated, the background wins most of it


def test_calibration_moves_each_maps_otsu_threshold_to_one_half():
    from skimage.filters import threshold_otsu

    from napari_partial_style.core.segment.crf import calibrate

    _, maps, _ = peaky_scene()
    out = calibrate(maps)
    for before, after in zip(maps, out):
        assert np.array_equal(after > 0.5, before > threshold_otsu(before))
        assert np.array_equal(np.argsort(before.ravel(), kind="stable"), np.argsort(after.ravel(), kind="stable"))
    assert calibrate(maps, "none") is maps


def test_a_score_is_told_in_words_with_the_papers_numbers_for_its_class():
    from napari_partial_style.core.segment.score_meaning import summary

    metal = summary({"expected_class": "metal", "pixel_accuracy": 0.8, "mean_iu": 0.78})
    assert "mean IU 0.780 (clearly changed)" in metal and "mean IU 0.46 / 0.56 for metal" in metal
    cup = summary({"expected_class": "coffee mug", "pixel_accuracy": 0.5, "mean_iu": 0.41})
    assert cup.endswith("(barely changed)") and "paper" not in cup
