"""pydensecrf (the `crf` extra), the reference implementation: the torch back end agrees with it to
float precision (tests/test_crf_torch.py). It holds the GIL for each call."""

from __future__ import annotations

import numpy as np

from napari_partial_style.core.errors import PartialStyleError


def import_pydensecrf():
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError as exc:
        raise PartialStyleError(
            'the pydensecrf CRF needs the `crf` extra: pip install "napari-partial-style[crf]" '
            "(pydensecrf2; a C++ compiler and Python ≤ 3.12). Or choose the CRF method `torch` (the default)."
        ) from exc
    return dcrf


class model:  # noqa: N801 - the registry's entry point, called like a function
    """pydensecrf behind the same step()/marginals() as the torch CRF."""

    def __init__(self, rgb8, unary, gaussian, bilateral, _device) -> None:
        dcrf = import_pydensecrf()
        n, (h, w) = unary.shape[0], rgb8.shape[:2]
        self.model = dcrf.DenseCRF2D(w, h, n)
        self.model.setUnaryEnergy(unary)
        self.model.addPairwiseGaussian(sxy=gaussian[0], compat=gaussian[1])
        self.model.addPairwiseBilateral(
            sxy=bilateral[0], srgb=bilateral[1], rgbim=np.ascontiguousarray(rgb8[..., :3]), compat=bilateral[2]
        )
        self.q, self.tmp1, self.tmp2 = self.model.startInference()

    def step(self) -> None:
        self.model.stepInference(self.q, self.tmp1, self.tmp2)

    def marginals(self) -> np.ndarray:
        return np.array(self.q, dtype=np.float32)
