"""The matting Laplacian of an image (Levin, Lischinski and Weiss 2008), applied without forming it.

`L p` says how far p is from being, in every 3×3 window, an affine function of the image's colours:
pᵀLp is 0 exactly when each window's p is a·I + b. Luan et al. (Deep Photo Style Transfer, 2017)
add Σ_c V_cᵀ L V_c over the output's channels V_c to Gatys' loss so the output stays locally an
affine recolouring of the photo (a photograph, not a painting of one); the same L smooths a
stylized image towards that model in closed form (Li et al., FastPhotoStyle 2018, with a matting
affinity; core/style/smoothing.py, which applies L by strips in bounded memory).

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

import torch
import torch.nn.functional as F

EPS = 1e-7  # Levin's and Luan's regulariser
WINDOWS_PER_BLOCK = 1 << 16  # windows whose Δ_k are inverted at once (their float64 copies: 20 MB)


class MattingLaplacian:
    """The Laplacian of `image` (3×H×W in [0, 1]); `L(p)` applies it to C×H×W maps, channel by channel."""

    def __init__(self, image: torch.Tensor, eps: float = EPS, radius: int = 1) -> None:
        if image.ndim != 3 or image.shape[0] != 3 or min(image.shape[1:]) < 2 * radius + 1:
            raise ValueError(f"the matting Laplacian needs a 3×H×W image of at least {2 * radius + 1} px a side")
        self.shape = tuple(image.shape[1:])
        self.side = 2 * radius + 1
        self.size = self.side**2
        self.colours = self._centred(image)  # Ĩ: 3 × |w| × windows
        self.inverse = self._inverse_deltas(eps)  # Δ_k⁻¹: windows × 3 × 3
        self.eps = eps

    def _inverse_deltas(self, eps: float) -> torch.Tensor:
        """Δ_k⁻¹ in the image's dtype. Δ_k is nearly singular where a window's colours vary along one
        direction, so Σ_k is summed and inverted in float64 (on the CPU where the device has none, as
        MPS), a block of windows at a time so that the float64 copies stay small."""
        device = torch.device("cpu") if self.colours.device.type == "mps" else self.colours.device
        eye = (eps / self.size) * torch.eye(3, dtype=torch.float64, device=device)
        blocks = []
        for block in self.colours.split(WINDOWS_PER_BLOCK, dim=2):
            wide = block.to(device, torch.float64)
            blocks.append(torch.linalg.inv(torch.einsum("anl,bnl->lab", wide, wide) / self.size + eye))
        return torch.cat(blocks).to(self.colours.device, self.colours.dtype)

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
        """L p, a channel at a time: each channel's windows are 9 maps of the image's size."""
        return torch.cat([F.fold(self.fit(channel)[0], self.shape, self.side)[:, 0] for channel in p.split(1)])

    def energy(self, p: torch.Tensor) -> torch.Tensor:
        """Σ_c p_cᵀ L p_c per pixel: 0 where every window of p is an affine function of the image.
        Summed as Levin's squares (residuals plus ε|a|²), so rounding never makes it negative."""
        return _Energy.apply(p, self)


class _Energy(torch.autograd.Function):
    """pᵀLp / pixels with the gradient 2·L·p / pixels, both from one fit: none traced for backward."""

    @staticmethod
    def forward(ctx, p: torch.Tensor, laplacian: MattingLaplacian) -> torch.Tensor:
        pixels, energy, gradient = p[0].numel(), p.new_zeros(()), []
        for channel in p.detach().split(1):  # a channel at a time, as L p is
            residual, a = laplacian.fit(channel)
            energy = energy + (residual * residual).sum() + laplacian.eps * (a * a).sum()
            gradient.append(F.fold(residual, laplacian.shape, laplacian.side)[:, 0] * (2 / pixels))
        ctx.save_for_backward(torch.cat(gradient))
        return energy / pixels

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (gradient,) = ctx.saved_tensors
        return grad * gradient, None
