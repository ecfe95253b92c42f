"""The matting Laplacian of an image (Levin, Lischinski and Weiss 2008), applied without forming it.

`L p` says how far p is from being, in every 3×3 window, an affine function of the image's colours:
pᵀLp is 0 exactly when each window's p is a·I + b. Luan et al. (Deep Photo Style Transfer, 2017)
add Σ_c V_cᵀ L V_c over the output's channels V_c to Gatys' loss so the output stays locally an
affine recolouring of the photo (a photograph, not a painting of one); the same L smooths a
stylized image towards that model in closed form (Li et al., FastPhotoStyle 2018, with a matting
affinity).

L is never built: by He, Sun and Tang (Fast matting using large kernel matting Laplacian
matrices, 2010), (Lp)_i = Σ_{k: i ∈ w_k} (p_i − a_kᵀ I_i − b_k), with a_k = Δ_k⁻¹(mean_k(I p) −
μ_k p̄_k), b_k = p̄_k − a_kᵀ μ_k and Δ_k = Σ_k + (ε/|w|)·U over the windows w_k that lie inside the
image. Each product is a few box filters: memory and time grow with the pixels, on any device, and
autograd differentiates it (its gradient is 2·L·p: L is symmetric).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

EPS = 1e-7  # Levin's and Luan's regulariser


class MattingLaplacian:
    """The Laplacian of `image` (3×H×W in [0, 1]); `L(p)` applies it to C×H×W maps, channel by channel."""

    def __init__(self, image: torch.Tensor, eps: float = EPS, radius: int = 1) -> None:
        if image.ndim != 3 or image.shape[0] != 3 or min(image.shape[1:]) < 2 * radius + 1:
            raise ValueError(f"the matting Laplacian needs a 3×H×W image of at least {2 * radius + 1} px a side")
        self.image = image
        self.side = 2 * radius + 1
        self.size = self.side**2
        self.mean = self._box(image)  # μ_k: 3 × h × w, one per window inside the image
        pairs = self._box(image[:, None] * image[None]) - self.mean[:, None] * self.mean[None]  # Σ_k: 3×3×h×w
        eye = torch.eye(3, dtype=image.dtype, device=image.device)
        delta = pairs.permute(2, 3, 0, 1) + (eps / self.size) * eye
        self.inverse = torch.linalg.inv(delta)  # h × w × 3 × 3
        self.count = self._spread(
            torch.ones_like(self.mean[0])
        )  # windows holding each pixel: 9 inside, fewer at the edge

    def _box(self, x: torch.Tensor) -> torch.Tensor:
        """Mean over each window inside the image: (..., H, W) → (..., H-2r, W-2r)."""
        lead = x.shape[:-2]
        flat = x.reshape(-1, 1, *x.shape[-2:])
        kernel = torch.full((1, 1, self.side, self.side), 1.0 / self.size, dtype=x.dtype, device=x.device)
        out = F.conv2d(flat, kernel)
        return out.reshape(*lead, *out.shape[-2:])

    def _spread(self, x: torch.Tensor) -> torch.Tensor:
        """Sum over the windows containing each pixel: (..., h, w) → (..., H, W)."""
        lead = x.shape[:-2]
        flat = x.reshape(-1, 1, *x.shape[-2:])
        kernel = torch.ones((1, 1, self.side, self.side), dtype=x.dtype, device=x.device)
        out = F.conv_transpose2d(flat, kernel)
        return out.reshape(*lead, *out.shape[-2:])

    def __call__(self, p: torch.Tensor) -> torch.Tensor:
        p_mean = self._box(p)  # C × h × w
        ip_mean = self._box(self.image[None] * p[:, None])  # C × 3 × h × w
        cov = ip_mean - self.mean[None] * p_mean[:, None]
        a = torch.einsum("hwab,cbhw->cahw", self.inverse, cov)
        b = p_mean - (a * self.mean[None]).sum(dim=1)
        return self.count * p - ((self._spread(a) * self.image[None]).sum(dim=1) + self._spread(b))

    def energy(self, p: torch.Tensor) -> torch.Tensor:
        """Σ_c p_cᵀ L p_c per pixel: 0 where every window of p is an affine function of the image."""
        return (p * self(p)).sum() / p[0].numel()


def smooth(
    stylized: torch.Tensor, content: torch.Tensor, strength: float, iterations: int = 200, tolerance: float = 1e-5
) -> torch.Tensor:
    """argmin_r |r − y|² + strength·Σ_c r_cᵀ L r_c for the stylized image y (3×H×W) on the content's
    Laplacian: (U + strength·L) r = y, solved by conjugate gradients (the matrix is symmetric and
    positive definite). The result's colours follow the content's edges and shading."""
    laplacian = MattingLaplacian(content)

    def system(x: torch.Tensor) -> torch.Tensor:
        return x + strength * laplacian(x)

    x = stylized.clone()
    residual = stylized - system(x)
    direction = residual.clone()
    norm = (residual * residual).sum()
    target = tolerance**2 * (stylized * stylized).sum()
    for _ in range(iterations):
        if norm <= target:
            break
        applied = system(direction)
        step = norm / (direction * applied).sum()
        x = x + step * direction
        residual = residual - step * applied
        new_norm = (residual * residual).sum()
        direction = residual + (new_norm / norm) * direction
        norm = new_norm
    return x
