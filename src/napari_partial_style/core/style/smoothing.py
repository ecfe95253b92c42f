"""Photo smoothing in bounded memory: argmin_r |r − y|² + s·Σ_c r_cᵀ L r_c (Li et al., FastPhotoStyle
2018) on the content's matting Laplacian L (core/style/matting.py says what L is), by conjugate
gradients.

The solver never holds per-window data for the whole box. L p is applied a strip of rows at a time
(with the 2-row halo its 3×3 windows reach) in the box-filter form of He, Sun and Tang (2010):
per window k, a_k = Δ_k⁻¹ cov_k(I, p) and b_k = p̄_k − a_k·μ_k, and (L p)_i = n_i p_i − I_i·Σ_k a_k − Σ_k b_k
over the n_i windows k that hold pixel i. Its covariances cancel (mean(I Iᵀ) − μμᵀ), which float32
cannot afford next to ε/|w| = 1.1e-8, so each strip works in float64 and only the solver's vectors
(x, residual, direction and its image under the matrix, float32) span the box: 48 bytes per pixel,
plus one strip's float64 temporaries. A strip's Δ_k⁻¹ are recomputed at every application rather
than stored (36 more bytes per pixel). It is numpy on the CPU, as the composite is.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import numpy as np

from napari_partial_style.core.images import to_float_rgb
from napari_partial_style.core.progress import Progress
from napari_partial_style.core.style.matting import EPS

SMOOTH_STAGE = "smooth"
STRIP_PIXELS = 1 << 14  # pixels per strip: its float64 temporaries are about 0.6 KB per pixel (10 MB)
MIN_ROWS = 16  # per strip, so that the halo's rows add at most a quarter to the work
HALO = 2  # rows a strip's windows reach beyond it: their pixels' other windows


def _window_sums(x: np.ndarray) -> np.ndarray:
    """Sums over each 3×3 window inside the last two axes: (…, h, w) → (…, h−2, w−2)."""
    rows = x[..., :-2, :] + x[..., 1:-1, :] + x[..., 2:, :]
    return rows[..., :-2] + rows[..., 1:-1] + rows[..., 2:]


def _spread(per_window: np.ndarray) -> np.ndarray:
    """Each pixel's sum over the windows that hold it: (…, h−2, w−2) window values → (…, h, w)."""
    pad = [(0, 0)] * (per_window.ndim - 2) + [(2, 2), (2, 2)]
    return _window_sums(np.pad(per_window, pad))


class _Windows:
    """The 3×3 windows of a block of the guide (3×h×w, float64): their mean colour μ_k and Δ_k⁻¹."""

    def __init__(self, guide: np.ndarray, eps: float) -> None:
        self.guide = guide
        self.mean = _window_sums(guide) / 9
        m = self.mean
        s = {  # Δ_k = Σ_k + (ε/9)·U, its six distinct entries
            (a, b): _window_sums(guide[a] * guide[b]) / 9 - m[a] * m[b] + (eps / 9 if a == b else 0.0)
            for a in range(3)
            for b in range(a, 3)
        }
        a, b, c, d, e, f = s[0, 0], s[0, 1], s[0, 2], s[1, 1], s[1, 2], s[2, 2]
        cof = [d * f - e * e, c * e - b * f, b * e - c * d, a * f - c * c, b * c - a * e, a * d - b * b]
        det = a * cof[0] + b * cof[1] + c * cof[2]
        i00, i01, i02, i11, i12, i22 = (x / det for x in cof)  # the adjugate over the determinant
        self.inverse = ((i00, i01, i02), (i01, i11, i12), (i02, i12, i22))
        self.count = _spread(np.ones(self.mean.shape[1:]))  # n_i

    def laplacian(self, p: np.ndarray) -> np.ndarray:
        """L p on this block (C×h×w); exact in rows whose every window lies in the block."""
        p_mean = _window_sums(p) / 9
        cov = [_window_sums(self.guide[b] * p) / 9 - self.mean[b] * p_mean for b in range(3)]  # cov(I_b, p_c)
        a = [sum(self.inverse[i][b] * cov[b] for b in range(3)) for i in range(3)]  # a_k = Δ_k⁻¹ cov_k
        out = self.count * p - _spread(p_mean - sum(a[i] * self.mean[i] for i in range(3)))  # minus Σ b_k
        for i in range(3):
            out -= self.guide[i] * _spread(a[i])
        return out


def _strips(height: int, width: int) -> Iterator[tuple[int, int]]:
    step = max(MIN_ROWS, STRIP_PIXELS // width)
    for top in range(0, height, step):
        yield top, min(top + step, height)


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    """u·v summed in float64, a strip at a time."""
    return sum(float(np.dot(u[t:b].ravel().astype(np.float64), v[t:b].ravel())) for t, b in _strips(*u.shape[:2]))


class _System:
    """U + s·L on the content's box, applied a strip at a time into a preallocated H×W×3 float32 map."""

    def __init__(self, content: np.ndarray, strength: float, eps: float) -> None:
        self.content, self.strength, self.eps = content, strength, eps

    def _halo(self, top: int, bottom: int) -> tuple[int, int]:
        return max(0, top - HALO), min(self.content.shape[0], bottom + HALO)

    def _inner(self, top: int, bottom: int) -> slice:
        start = top - self._halo(top, bottom)[0]
        return slice(start, start + bottom - top)

    def _blocks(self) -> Iterator[tuple[tuple[int, int], _Windows]]:
        for top, bottom in _strips(*self.content.shape[:2]):
            start, stop = self._halo(top, bottom)
            guide = to_float_rgb(self.content[start:stop, :, :3]).transpose(2, 0, 1).astype(np.float64)
            yield (top, bottom), _Windows(guide, self.eps)

    def apply(self, p: np.ndarray, out: np.ndarray, scale: float = 1.0, identity: bool = True) -> None:
        """out = scale·(U + s·L) p, or scale·s·L p without the identity."""
        for (top, bottom), windows in self._blocks():
            start, stop = self._halo(top, bottom)
            block = p[start:stop].transpose(2, 0, 1).astype(np.float64)
            value = self.strength * windows.laplacian(block)
            if identity:
                value += block
            out[top:bottom] = (scale * value[:, self._inner(top, bottom)]).transpose(1, 2, 0)


def smooth(
    stylized: np.ndarray,
    content: np.ndarray,
    strength: float,
    iterations: int = 200,
    tolerance: float = 1e-5,
    eps: float = EPS,
) -> Generator[Progress, None, np.ndarray]:
    """The stylized image y smoothed on the content's Laplacian: (U + s·L) r = y solved by conjugate
    gradients (the matrix is symmetric and positive definite; a Jacobi preconditioner took more
    iterations, L's diagonal being nearly even) until the residual is `tolerance` of |y|, one event
    per iteration so a GUI can show it and stop it.
    `stylized` and `content` are H×W×3 native pixels (views are fine: they are read a strip at a
    time); the result is float32 H×W×3 in the stylized's [0, 1] scale. Its colours follow the
    content's edges and shading."""
    system = _System(content, strength, eps)
    x = to_float_rgb(stylized[..., :3])
    target = tolerance**2 * _dot(x, x)
    residual = np.empty_like(x)
    system.apply(x, residual, scale=-1.0, identity=False)  # y − (U + sL) y
    direction, applied = residual.copy(), np.empty_like(x)
    norm = _dot(residual, residual)
    for step in range(1, iterations + 1):
        if norm <= target:
            break
        system.apply(direction, applied)
        size = norm / _dot(direction, applied)
        _update(x, direction, size)
        _update(residual, applied, -size)
        new_norm = _dot(residual, residual)
        direction *= new_norm / norm
        direction += residual
        norm = new_norm
        yield Progress(SMOOTH_STAGE, step, iterations, message="photo smoothing")
    return x


def _update(x: np.ndarray, d: np.ndarray, size: float) -> None:
    """x += size·d in place, a strip at a time (no full-size temporary)."""
    for top, bottom in _strips(*x.shape[:2]):
        x[top:bottom] += np.float32(size) * d[top:bottom]
