"""Dense CRF (Krähenbühl & Koltun 2011) over the saliency maps plus a background.

Implementations of the same model are back ends, one file each in core/segment/crf_backends/:
`torch` (core/segment/crf_torch.py, the default: installs with the package, runs on the job's
device, releases the GIL) and `pydensecrf` (the `crf` extra, kept as the reference: the two agree to
float precision, tests/test_crf_torch.py). `none` takes the argmax.

Unaries are −log of [ (1 − max_c M'_c)^α, M'_1, ..., M'_K ]. The paper's α is 1; PSA-style code
uses 4–32, since a larger α shrinks the background channel where maps are weak. One fixed α fails
one of two cases: a map whose evidence is peaky (mean 0.4 inside the object, peak 1) loses the
object to the background at α = 1, while α ≥ 4 spills coarse maps over the whole image. So each
map is calibrated first (`calibration="otsu"`): M' = M^γ with γ chosen so that the map's own Otsu
threshold becomes 0.5, where target and background (at α = 1) meet. Each target is judged by its
own evidence, so a weaker second target is not swallowed by a stronger first one. Measured with
bench/bench_crf.py on cases whose evidence is known (docs/segmentation.md).
Inference is stepped one mean-field iteration at a time and yields in between (pydensecrf holds
the GIL for each call, so stepping also keeps napari responsive).

Prompts (core/segment/prompts.py) arrive as `fixed`, each prompted pixel's label: its unary is 0
for that label and FIXED_ENERGY for the others, so its marginal is that label exactly at the start
and after every iteration in either back end (exp(−FIXED_ENERGY) is 0 in float32), and its pull
reaches the rest only through the pairwise terms, which stop at edges. Where the maps say little,
the prompts' appearance model (core/segment/appearance.py) joins the probabilities first.
"""

from __future__ import annotations

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.params import CRFParams
from napari_partial_style.core.progress import Progress, StageGenerator
from napari_partial_style.core.registry import NO_CRF
from napari_partial_style.core.segment import crf_backends

UNARY_CLIP = 1e-5
FIXED_ENERGY = 1e4  # a prompted pixel's unary for every label but its own
# Otsu thresholds are kept inside this range: a map with almost no contrast must not become all target.
THRESHOLD_RANGE = (0.05, 0.95)


def calibrate(maps: np.ndarray, calibration: str = "otsu") -> np.ndarray:
    """Each map raised to the power that moves its Otsu threshold to 0.5 (or unchanged for "none")."""
    if calibration == "none":
        return maps
    from skimage.filters import threshold_otsu

    out = np.empty_like(maps, dtype=np.float32)
    for k, m in enumerate(maps):
        t = float(np.clip(threshold_otsu(m), *THRESHOLD_RANGE)) if np.ptp(m) > 0 else 0.5
        out[k] = np.power(m, np.log(0.5) / np.log(t))
    return out


def class_probabilities(maps: np.ndarray, background_alpha: float) -> np.ndarray:
    """(K+1, h, w): background (1 − max_c M_c)^α first, then the maps."""
    background = (1.0 - maps.max(axis=0)) ** background_alpha
    return np.concatenate([background[None], maps]).astype(np.float32)


def unaries(probabilities: np.ndarray) -> np.ndarray:
    """−log p, clipped as pydensecrf's unary_from_softmax, shaped (K+1, h·w), C-contiguous float32."""
    n = probabilities.shape[0]
    return np.ascontiguousarray(-np.log(np.clip(probabilities, UNARY_CLIP, 1.0)).reshape(n, -1), dtype=np.float32)


def prompted_probabilities(
    rgb8: np.ndarray, maps: np.ndarray, params: CRFParams, fixed: np.ndarray | None
) -> np.ndarray:
    """The labels' probabilities (K+1, h, w): the calibrated maps and the background, and with
    prompts those joined by the prompts' appearance model (core/segment/prompted.py)."""
    calibrated = calibrate(maps, params.calibration)
    probabilities = class_probabilities(calibrated, params.background_alpha)
    if fixed is None or not (fixed >= 0).any():
        return probabilities
    from napari_partial_style.core.segment import prompted

    return prompted.probabilities(rgb8, calibrated, probabilities, params, fixed)


def fixed_unaries(unary: np.ndarray, fixed: np.ndarray | None) -> np.ndarray:
    """`unary` (K+1, N) with each prompted pixel held to its label (see the module's docstring)."""
    if fixed is None:
        return unary
    at = np.flatnonzero(fixed.ravel() >= 0)
    if len(at):
        from napari_partial_style.core.segment.prompted import PROMPT_GAIN

        unary *= PROMPT_GAIN
    unary[:, at] = FIXED_ENERGY
    unary[fixed.ravel()[at], at] = 0.0
    return unary


def crf_stage(
    rgb8: np.ndarray, maps: np.ndarray, params: CRFParams, device=None, fixed: np.ndarray | None = None
) -> StageGenerator[tuple[np.ndarray, np.ndarray]]:
    """Labels (h, w; 0 = background, k = the k-th map) and marginals (K+1, h, w) for an 8-bit image;
    the torch CRF runs on `device` (the CPU when None). `fixed`: the prompts' labels (h, w; −1 free)."""
    if rgb8.dtype != np.uint8 or rgb8.shape[:2] != maps.shape[1:]:
        raise InputError("the CRF needs the 8-bit RGB image at the maps' size.")
    if fixed is not None and fixed.shape != maps.shape[1:]:
        raise InputError("the prompts' labels must lie on the maps (the CRF's working size).")
    probabilities = prompted_probabilities(rgb8, maps, params, fixed)
    n, (h, w) = probabilities.shape[0], maps.shape[1:]
    if params.method == NO_CRF:
        q = probabilities / probabilities.sum(axis=0, keepdims=True)
        if fixed is not None:
            q[:, fixed >= 0] = np.eye(n, dtype=q.dtype)[fixed[fixed >= 0]].T
        yield Progress("crf", 1, 1, message="argmax (no CRF)")
        return q.argmax(axis=0).astype(np.int32), q
    # the lattices' set-up is most of the time on large images (5 of 8 s at 2048²): say so
    yield Progress("crf", 0, params.iterations, message=f"building the {params.method} CRF's lattices")
    model = crf_backends.get(params.method).model(
        rgb8, fixed_unaries(unaries(probabilities), fixed), params.gaussian, params.bilateral, device
    )
    for step in range(1, params.iterations + 1):
        model.step()
        yield Progress("crf", step, params.iterations)
    marginals = model.marginals().reshape(n, h, w)
    return marginals.argmax(axis=0).astype(np.int32), marginals
