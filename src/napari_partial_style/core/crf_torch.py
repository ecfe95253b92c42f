"""A fully connected CRF in torch: the model of Krähenbühl & Koltun (2011) as pydensecrf implements it.

Mean-field inference with a Gaussian (spatial) and a bilateral (spatial + colour) kernel, Potts
compatibility and symmetric normalisation; the high-dimensional Gaussian filtering is the
permutohedral lattice of Adams, Baek & Davis (2010), the method pydensecrf uses, written with torch
tensor operations: it runs on the CPU or a GPU, releases the GIL inside every kernel (napari stays
responsive), and is stepped one iteration at a time so a job can stop between two.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from napari_partial_style.core.errors import InputError

# Keys are packed into one int64 per lattice point; beyond this the features span too wide a range.
MAX_CODE = 2**62


class Lattice:
    """The permutohedral lattice of a set of feature vectors (N, d): splat, blur, slice."""

    def __init__(self, features: torch.Tensor) -> None:
        n, d = features.shape
        self.d = d
        device = features.device
        f = features.double()
        inv_std = math.sqrt(2.0 / 3.0) * (d + 1)
        scale = inv_std / torch.sqrt(torch.arange(1, d + 1, device=device, dtype=torch.float64)
                                     * torch.arange(2, d + 2, device=device, dtype=torch.float64))
        cf = f * scale
        suffix = torch.flip(torch.cumsum(torch.flip(cf, [1]), 1), [1])           # Σ_{t ≥ j} cf_t
        elevated = torch.empty((n, d + 1), dtype=torch.float64, device=device)
        elevated[:, 0] = suffix[:, 0]
        j = torch.arange(1, d + 1, device=device, dtype=torch.float64)
        elevated[:, 1:] = torch.cat([suffix[:, 1:], torch.zeros((n, 1), dtype=torch.float64, device=device)], 1) \
            - j * cf
        # the closest remainder-0 point, by rounding each coordinate to a multiple of d + 1
        v = elevated / (d + 1)
        up, down = torch.ceil(v) * (d + 1), torch.floor(v) * (d + 1)
        rem0 = torch.where(up - elevated < elevated - down, up, down)
        total = torch.round(rem0.sum(1) / (d + 1)).long()
        # rank: the position of each coordinate's remainder in sorted order (ties as pydensecrf breaks them)
        diff = elevated - rem0
        less = diff[:, :, None] < diff[:, None, :]                                # [k, i, j]: diff_i < diff_j
        after = torch.triu(torch.ones((d + 1, d + 1), dtype=torch.bool, device=device), 1)
        rank = (less & after).sum(2) + (~less.transpose(1, 2) & after.T).sum(2)
        rank = rank + total[:, None]
        low, high = rank < 0, rank > d
        rank = torch.where(low, rank + d + 1, torch.where(high, rank - d - 1, rank))
        rem0 = torch.where(low, rem0 + d + 1, torch.where(high, rem0 - d - 1, rem0))
        # barycentric weights of the d + 1 vertices of the enclosing simplex
        bary = torch.zeros((n, d + 2), dtype=torch.float64, device=device)
        w = (elevated - rem0) / (d + 1)
        bary.scatter_add_(1, d - rank, w)
        bary.scatter_add_(1, d - rank + 1, -w)
        bary[:, 0] += 1.0 + bary[:, d + 1]
        self.weights = bary[:, : d + 1].float()                                    # (N, d+1)
        self.slice_weights = self.weights / (1.0 + 2.0 ** (-d))  # pydensecrf's constant α folded in
        # the vertices' keys: rem0 plus the canonical simplex's offsets, first d coordinates
        r = torch.arange(d + 1, device=device)
        canonical = torch.where(r[None, :] <= d - r[:, None], r[:, None], r[:, None] - (d + 1))  # [remainder, rank]
        keys = rem0[:, None, :d].long() + canonical[:, rank[:, :d]].permute(1, 0, 2)         # (N, d+1, d)
        self._index(keys.reshape(-1, d), n)

    def _index(self, keys: torch.Tensor, n: int) -> None:
        """Pack keys into int64 codes (mixed radix with room for the blur's neighbours), find the
        distinct lattice points, and each point's two neighbours along each of the d + 1 axes."""
        d = self.d
        lo = keys.min(0).values - (d + 1)
        span = keys.max(0).values + (d + 1) - lo + 1
        if float(np.prod(span.double().cpu().numpy())) >= MAX_CODE:
            raise InputError("the CRF's features span too wide a range for the lattice; raise the kernels' sxy "
                             "or srgb, or lower the working size.")
        radix = torch.cat([torch.cumprod(span.flip(0), 0).flip(0)[1:], torch.ones(1, dtype=torch.long,
                                                                                     device=keys.device)])
        codes = ((keys - lo) * radix).sum(1)
        self.codes, inverse = torch.unique(codes, return_inverse=True)           # sorted
        self.offsets = inverse.reshape(n, d + 1)
        self.flat_offsets = inverse
        self.size = len(self.codes)
        self.neighbours = []
        for axis in range(d + 1):
            step = -radix.sum()                                                  # every coordinate − 1 ...
            if axis < d:
                step = step + (d + 1) * radix[axis]                             # ... but this one + d
            self.neighbours.append((self._find(self.codes + step), self._find(self.codes - step)))

    def _find(self, codes: torch.Tensor) -> torch.Tensor:
        """Index of each code among the lattice's points, or `size` (a zero row) when absent."""
        at = torch.searchsorted(self.codes, codes).clamp(max=self.size - 1)
        return torch.where(self.codes[at] == codes, at, torch.full_like(at, self.size))

    def filter(self, values: torch.Tensor) -> torch.Tensor:
        """Σ_j k(f_i, f_j) values_j for every point i, approximately, with k a unit Gaussian; (N, C)."""
        c = values.shape[1]
        grid = values.new_zeros((self.size + 1, c))      # the last row stands for absent neighbours
        grid.index_add_(0, self.flat_offsets, (self.weights[:, :, None] * values[:, None, :]).reshape(-1, c))
        spare = values.new_zeros((self.size + 1, c))
        for ahead, behind in self.neighbours:             # [1/2, 1, 1/2] along each lattice axis
            torch.add(grid[ahead], grid[behind], out=spare[:-1])
            spare[:-1].mul_(0.5).add_(grid[:-1])
            grid, spare = spare, grid
        return torch.einsum("nk,nkc->nc", self.slice_weights, grid[self.offsets])


class Kernel:
    """One pairwise term: a lattice over scaled features, its symmetric normalisation and weight."""

    def __init__(self, features: torch.Tensor, compat: float) -> None:
        self.lattice = Lattice(features)
        ones = torch.ones((features.shape[0], 1), dtype=torch.float32, device=features.device)
        self.norm = 1.0 / torch.sqrt(self.lattice.filter(ones) + 1e-20)
        self.compat = compat

    def message(self, q: torch.Tensor) -> torch.Tensor:
        return self.compat * self.norm * self.lattice.filter(q * self.norm)


def pixel_features(h: int, w: int, sxy: float, rgb: torch.Tensor | None = None, srgb: float = 1.0) -> torch.Tensor:
    """(x/sxy, y/sxy[, r/srgb, g/srgb, b/srgb]) per pixel, in pydensecrf's order (x along the width)."""
    device = rgb.device if rgb is not None else "cpu"
    yy, xx = torch.meshgrid(torch.arange(h, device=device, dtype=torch.float32),
                            torch.arange(w, device=device, dtype=torch.float32), indexing="ij")
    parts = [xx.reshape(-1, 1) / sxy, yy.reshape(-1, 1) / sxy]
    if rgb is not None:
        parts.append(rgb.reshape(-1, 3).float() / srgb)
    return torch.cat(parts, 1)


class DenseCRF:
    """Mean-field inference over unaries (C, N) = −log p; `step()` runs one iteration."""

    def __init__(self, rgb8: np.ndarray, unary: np.ndarray, gaussian: tuple[float, float],
                 bilateral: tuple[float, float, float], device: torch.device | str = "cpu") -> None:
        h, w = rgb8.shape[:2]
        rgb = torch.from_numpy(np.ascontiguousarray(rgb8[..., :3])).to(device)
        self.unary = torch.from_numpy(unary).to(device).T.contiguous()              # (N, C)
        self.kernels = [
            Kernel(pixel_features(h, w, gaussian[0]).to(device), gaussian[1]),
            Kernel(pixel_features(h, w, bilateral[0], rgb, bilateral[1]), bilateral[2]),
        ]
        self.q = torch.softmax(-self.unary, dim=1)

    def step(self) -> None:
        energy = -self.unary
        for kernel in self.kernels:
            energy = energy + kernel.message(self.q)
        self.q = torch.softmax(energy, dim=1)

    def marginals(self) -> np.ndarray:
        """(C, N) float32 on the host."""
        return self.q.T.float().cpu().numpy()
