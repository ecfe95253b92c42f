"""The matting Laplacian of an image (Levin, Lischinski and Weiss 2008), applied without forming it.

`L p` says how far p is from being, in every 3×3 window, an affine function of the image's colours:
pᵀLp is 0 exactly when each window's p is a·I + b. Luan et al. (Deep Photo Style Transfer, 2017)
add Σ_c V_cᵀ L V_c over the output's channels V_c to Gatys' loss so the output stays locally an
affine recolouring of the photo (a photograph, not a painting of one); the same L smooths a
stylized image towards that model in closed form (Li et al., FastPhotoStyle 2018, with a matting
affinity).

L is never built: per window w_k inside the image, L_k p = p̃ − Ĩ Δ_k⁻¹ Ĩᵀp̃ / |w| with p̃ and Ĩ the
window's p and colours minus their means and Δ_k = Σ_k + (ε/|w|)·U (Levin's eq. 12 regrouped), and
L p sums each window's part back onto its pixels. The windows are unfolded, so everything is
computed on centred values, and Δ_k is inverted in float64. The shortcut of box filters (He, Sun and
Tang 2010) forms Σ_k as mean(I Iᵀ) − μμᵀ, whose float32 cancellation error exceeds ε/|w| = 1.1e-8 in
flat windows: that operator had negative eigenvalues (−8.7e-5 on a photo's crop, against −7.5e-7
here), which the optimiser followed without bound. Memory and time grow with the pixels (|w| = 9
copies of image and map), on any device. The energy's gradient is 2·L·p (L is symmetric), given to
autograd directly rather than traced through the windows.
"""

from __future__ import annotations

from collections.abc import Generator

import torch
import torch.nn.functional as F

from napari_partial_style.core.progress import Progress

EPS = 1e-7  # Levin's and Luan's regulariser


class MattingLaplacian:
    """The Laplacian of `image` (3×H×W in [0, 1]); `L(p)` applies it to C×H×W maps, channel by channel."""

    def __init__(self, image: torch.Tensor, eps: float = EPS, radius: int = 1) -> None:
        if image.ndim != 3 or image.shape[0] != 3 or min(image.shape[1:]) < 2 * radius + 1:
            raise ValueError(f"the matting Laplacian needs a 3×H×W image of at least {2 * radius + 1} px a side")
        self.shape = tuple(image.shape[1:])
        self.side = 2 * radius + 1
        self.size = self.side**2
        self.colours = self._centred(image)  # Ĩ: 3 × |w| × windows
        # Δ_k is nearly singular where a window's colours vary along one direction: invert in float64
        # (on the CPU where the device has no float64, as MPS has not), apply in the image's dtype.
        wide = self.colours.to("cpu" if image.device.type == "mps" else image.device, torch.float64)
        sigma = torch.einsum("anl,bnl->lab", wide, wide) / self.size
        eye = torch.eye(3, dtype=wide.dtype, device=wide.device)
        self.inverse = torch.linalg.inv(sigma + (eps / self.size) * eye).to(image.device, image.dtype)
        self.eps = eps

    def _centred(self, x: torch.Tensor) -> torch.Tensor:
        """Each window's values minus their mean: C×H×W → C × |w| × windows."""
        windows = F.unfold(x[:, None], self.side)
        return windows - windows.mean(dim=1, keepdim=True)

    def fit(self, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each window's best affine model of p from the colours (Levin's a_k), and what it leaves:
        the residuals p̃ − Ĩa_k (C × |w| × windows) and the a_k (C × windows × 3)."""
        centred = self._centred(p)
        cov = torch.einsum("anl,cnl->cla", self.colours, centred) / self.size
        a = torch.einsum("lab,clb->cla", self.inverse, cov)
        return centred - torch.einsum("anl,cla->cnl", self.colours, a), a

    def __call__(self, p: torch.Tensor) -> torch.Tensor:
        return F.fold(self.fit(p)[0], self.shape, self.side)[:, 0]

    def energy(self, p: torch.Tensor) -> torch.Tensor:
        """Σ_c p_cᵀ L p_c per pixel: 0 where every window of p is an affine function of the image.
        Summed as Levin's squares (residuals plus ε|a|²), so rounding never makes it negative."""
        return _Energy.apply(p, self)


class _Energy(torch.autograd.Function):
    """pᵀLp / pixels with the gradient 2·L·p / pixels, both from one fit: none traced for backward."""

    @staticmethod
    def forward(ctx, p: torch.Tensor, laplacian: MattingLaplacian) -> torch.Tensor:
        residual, a = laplacian.fit(p.detach())
        pixels = p[0].numel()
        ctx.save_for_backward(F.fold(residual, laplacian.shape, laplacian.side)[:, 0] * (2 / pixels))
        return ((residual * residual).sum() + laplacian.eps * (a * a).sum()) / pixels

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (gradient,) = ctx.saved_tensors
        return grad * gradient, None


SMOOTH_STAGE = "smooth"


def smooth(
    stylized: torch.Tensor, content: torch.Tensor, strength: float, iterations: int = 200, tolerance: float = 1e-5
) -> Generator[Progress, None, torch.Tensor]:
    """argmin_r |r − y|² + strength·Σ_c r_cᵀ L r_c for the stylized image y (3×H×W) on the content's
    Laplacian: (U + strength·L) r = y, solved by conjugate gradients (the matrix is symmetric and
    positive definite), one event per iteration so a GUI can show it and stop it. The result's
    colours follow the content's edges and shading."""
    laplacian = MattingLaplacian(content)

    def system(x: torch.Tensor) -> torch.Tensor:
        return x + strength * laplacian(x)

    x = stylized.clone()
    residual = stylized - system(x)
    direction = residual.clone()
    norm = (residual * residual).sum()
    target = tolerance**2 * (stylized * stylized).sum()
    for step in range(1, iterations + 1):
        if norm <= target:
            break
        applied = system(direction)
        size = norm / (direction * applied).sum()
        x = x + size * direction
        residual = residual - size * applied
        new_norm = (residual * residual).sum()
        direction = residual + (new_norm / norm) * direction
        norm = new_norm
        yield Progress(SMOOTH_STAGE, step, iterations, message="photo smoothing")
    return x
