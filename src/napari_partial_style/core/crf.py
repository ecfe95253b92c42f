"""Dense CRF (Krähenbühl & Koltun 2011, via pydensecrf) over the saliency maps plus a background.

Unaries are −log of [ (1 − max_c M_c)^α, M_1, ..., M_K ]. The paper's α is 1; PSA-style code
uses 4–32, since a larger α shrinks the background channel where maps are weak. The default, 1,
was measured with bench/bench_crf.py on a classifier whose evidence is known (docs/segmentation.md).
pydensecrf holds the GIL for a whole inference call, so inference is stepped one mean-field
iteration at a time and yields in between.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from napari_partial_style.core.errors import InputError, PartialStyleError, require_finite
from napari_partial_style.core.progress import Progress, StageGenerator

METHODS = ("pydensecrf", "none")
UNARY_CLIP = 1e-5


@dataclass(frozen=True)
class CRFParams:
    """PSA's settings by default (method-spec B.2); sxy values are in working-size pixels."""

    method: str = "pydensecrf"
    background_alpha: float = 1.0
    gaussian_sxy: float = 3.0
    gaussian_compat: float = 3.0
    bilateral_sxy: float = 80.0
    bilateral_srgb: float = 13.0
    bilateral_compat: float = 10.0
    iterations: int = 10

    def __post_init__(self) -> None:
        require_finite(background_alpha=self.background_alpha, gaussian_sxy=self.gaussian_sxy,
                       gaussian_compat=self.gaussian_compat, bilateral_sxy=self.bilateral_sxy,
                       bilateral_srgb=self.bilateral_srgb, bilateral_compat=self.bilateral_compat)
        if self.method not in METHODS:
            raise InputError(f"CRF method {self.method!r} is unknown; use {' or '.join(METHODS)}.")
        if self.background_alpha <= 0 or self.iterations < 1:
            raise InputError("the background alpha must be positive and the CRF iterations at least 1.")


def class_probabilities(maps: np.ndarray, background_alpha: float) -> np.ndarray:
    """(K+1, h, w): background (1 − max_c M_c)^α first, then the maps."""
    background = (1.0 - maps.max(axis=0)) ** background_alpha
    return np.concatenate([background[None], maps]).astype(np.float32)


def unaries(probabilities: np.ndarray) -> np.ndarray:
    """−log p, clipped as pydensecrf's unary_from_softmax, shaped (K+1, h·w), C-contiguous float32."""
    n = probabilities.shape[0]
    return np.ascontiguousarray(-np.log(np.clip(probabilities, UNARY_CLIP, 1.0)).reshape(n, -1), dtype=np.float32)


def import_pydensecrf():
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError as exc:
        raise PartialStyleError(
            "the dense CRF needs the `crf` extra: pip install \"napari-partial-style[crf]\" "
            "(pydensecrf2; a C++ compiler and Python ≤ 3.12). Or choose the CRF method `none`."
        ) from exc
    return dcrf


def crf_stage(rgb8: np.ndarray, maps: np.ndarray, params: CRFParams) -> StageGenerator[tuple[np.ndarray, np.ndarray]]:
    """Labels (h, w; 0 = background, k = the k-th map) and marginals (K+1, h, w) for an 8-bit image."""
    if rgb8.dtype != np.uint8 or rgb8.shape[:2] != maps.shape[1:]:
        raise InputError("the CRF needs the 8-bit RGB image at the maps' size.")
    probabilities = class_probabilities(maps, params.background_alpha)
    n, (h, w) = probabilities.shape[0], maps.shape[1:]
    if params.method == "none":
        q = probabilities / probabilities.sum(axis=0, keepdims=True)
        yield Progress("crf", 1, 1, message="argmax (no CRF)")
        return q.argmax(axis=0).astype(np.int32), q
    dcrf = import_pydensecrf()
    model = dcrf.DenseCRF2D(w, h, n)
    model.setUnaryEnergy(unaries(probabilities))
    model.addPairwiseGaussian(sxy=params.gaussian_sxy, compat=params.gaussian_compat)
    model.addPairwiseBilateral(sxy=params.bilateral_sxy, srgb=params.bilateral_srgb,
                               rgbim=np.ascontiguousarray(rgb8[..., :3]), compat=params.bilateral_compat)
    q, tmp1, tmp2 = model.startInference()
    for step in range(1, params.iterations + 1):
        model.stepInference(q, tmp1, tmp2)
        yield Progress("crf", step, params.iterations)
    marginals = np.array(q, dtype=np.float32).reshape(n, h, w)
    return marginals.argmax(axis=0).astype(np.int32), marginals
