"""A fully connected CRF in torch: the model of Krähenbühl & Koltun (2011) as pydensecrf implements it.

Mean-field inference with a Gaussian (spatial) and a bilateral (spatial + colour) kernel, Potts
compatibility and symmetric normalisation; the high-dimensional Gaussian filtering is the
permutohedral lattice of Adams, Baek & Davis (2010), the method pydensecrf uses, written with torch
tensor operations: it runs on the CPU or a GPU, releases the GIL inside every kernel (napari stays
responsive), and is stepped one iteration at a time so a job can stop between two.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import torch

from napari_partial_style.core.errors import InputError

# Keys are packed into one int64 per lattice point; beyond this the features span too wide a range.
MAX_CODE = 2**62
# Which simplex a pixel falls in is decided in float32: beyond this feature size (position / sxy,
# colour / srgb) the lattice coordinates lose the precision that decision needs.
MAX_FEATURE = 2.0**16
TOO_WIDE = (
    "the CRF's features span too wide a range for the lattice; raise the kernels' sxy or srgb, "
    "or lower the working size."
)

# Pixels per pass of the lattice's set-up: a pass's temporaries stay in the cache and the allocator
# reuses them; whole-image passes at 2048² spent most of their time on fresh pages (3× slower here).
CHUNK = 65536


def _chunks(n: int) -> list[slice]:
    return [slice(start, start + CHUNK) for start in range(0, n, CHUNK)]


def _simplex(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Barycentric weights (N, d+1), remainder-0 corner (N, d) and ranks (N, d) of the simplex that
    encloses each feature vector, as pydensecrf computes them.

    float32 throughout, with pydensecrf's operations in its order: which simplex a pixel falls in is
    a rounding decision, and flat image areas put many pixels right on its edges."""
    n, d = features.shape
    device, f32 = features.device, torch.float32
    f = features.to(f32)
    inv_std = float(np.float32(math.sqrt(2.0 / 3.0) * (d + 1)))
    scale = torch.tensor(
        [np.float32(1.0 / math.sqrt((i + 2) * (i + 1)) * inv_std) for i in range(d)], dtype=f32, device=device
    )
    down_factor = float(np.float32(1.0 / (d + 1)))
    cf = f * scale
    suffix = torch.flip(torch.cumsum(torch.flip(cf, [1]), 1), [1])  # Σ_{t ≥ j} cf_t
    elevated = torch.empty((n, d + 1), dtype=f32, device=device)
    elevated[:, 0] = suffix[:, 0]
    j = torch.arange(1, d + 1, device=device, dtype=f32)
    elevated[:, 1:] = torch.cat([suffix[:, 1:], torch.zeros((n, 1), dtype=f32, device=device)], 1) - j * cf
    # the closest remainder-0 point, by rounding each coordinate to a multiple of d + 1
    v = elevated * down_factor
    up, down = torch.ceil(v) * (d + 1), torch.floor(v) * (d + 1)
    rem0 = torch.where(up - elevated < elevated - down, up, down)
    total = torch.round(rem0.sum(1) / (d + 1)).long()
    # rank: each coordinate's place when the remainders are sorted from the largest; of two equal
    # ones the earlier comes first, as in pydensecrf's pairwise count
    order = torch.argsort(rem0 - elevated, dim=1, stable=True)
    rank = torch.empty_like(order).scatter_(1, order, torch.arange(d + 1, device=device).expand(n, -1))
    rank = rank + total[:, None]
    low, high = rank < 0, rank > d
    rank = torch.where(low, rank + d + 1, torch.where(high, rank - d - 1, rank))
    rem0 = torch.where(low, rem0 + d + 1, torch.where(high, rem0 - d - 1, rem0))
    # barycentric weights of the d + 1 vertices, summed as pydensecrf does: each slot gets at most
    # one + and one − term, so adding them in any order gives the same float
    bary = torch.zeros((n, d + 2), dtype=f32, device=device)
    w = (elevated - rem0) * down_factor
    bary.scatter_add_(1, d - rank, w)
    bary.scatter_add_(1, d - rank + 1, -w)
    bary[:, 0] = (bary[:, 0].double() + (1.0 + bary[:, d + 1].double())).to(f32)
    return bary[:, : d + 1], rem0[:, :d], rank[:, :d]


def _vertex_codes(rem0: torch.Tensor, rank: torch.Tensor, radix: torch.Tensor) -> torch.Tensor:
    """The packed key of each simplex's d + 1 vertices (N, d+1), rem0 relative to the lowest.

    Vertex r's offset in coordinate i is r, less d + 1 where rank_i > d − r; so its code is
    base + r Σ radix − (d + 1) Σ {radix_i : rank_i > d − r}, a running sum over the ranks."""
    n, d = rem0.shape
    r = torch.arange(d + 1, device=rem0.device)
    by_rank = torch.zeros((n, d + 1), dtype=torch.long, device=rem0.device).scatter_(1, rank, radix.expand(n, d))
    wrapped = torch.zeros_like(by_rank)
    torch.cumsum(by_rank.flip(1)[:, :d], 1, out=wrapped[:, 1:])
    return (rem0 * radix).sum(1, keepdim=True) + r * radix.sum() - (d + 1) * wrapped


class Lattice:
    """The permutohedral lattice of a set of feature vectors (N, d): splat, blur, slice, with the
    symmetric normalisation folded into the splat's and the slice's weights (no per-step products)."""

    def __init__(self, features: torch.Tensor) -> None:
        n, d = features.shape
        if not bool((features.abs() <= MAX_FEATURE).all()):
            raise InputError(TOO_WIDE)
        self.d = d
        device = features.device
        # per pixel, in passes of CHUNK: the enclosing simplex (its remainder-0 corner and ranks)
        # and the barycentric weights of its d + 1 vertices
        weights = torch.empty((n, d + 1), dtype=torch.float32, device=device)
        rem0 = torch.empty((n, d), dtype=torch.long, device=device)  # int64: huge features must reach the range check
        rank = torch.empty((n, d), dtype=torch.uint8, device=device)
        for part in _chunks(n):
            weights[part], rem0[part], rank[part] = _simplex(features[part])
        self._index(rem0, rank, weights)
        self._normalise()

    def _index(self, rem0: torch.Tensor, rank: torch.Tensor, weights: torch.Tensor) -> None:
        """Pack each vertex's key (rem0 plus the canonical simplex's offset for its rank, first d
        coordinates) into one int64 code, mixed radix with room for the blur's neighbours, without
        building the keys themselves; find the distinct lattice points; build splat, blur and slice
        as sparse matrices."""
        n, d, device = len(rem0), self.d, rem0.device
        lo = rem0.min(0).values - d - (d + 1)  # canonical offsets lie in [−d, d]
        span = rem0.max(0).values + d + (d + 1) - lo + 1
        code_range = math.prod(span.tolist())  # exact: Python integers
        if code_range >= MAX_CODE:
            raise InputError(TOO_WIDE)
        radix = torch.cat([torch.cumprod(span.flip(0), 0).flip(0)[1:], torch.ones(1, dtype=torch.long, device=device)])
        bits = (n * (d + 1) - 1).bit_length()
        packed = _packable(device, code_range, bits)
        codes = torch.empty((n, d + 1), dtype=torch.long, device=device)  # one per vertex
        for part in _chunks(n):
            codes[part] = _vertex_codes(rem0[part] - lo, rank[part].long(), radix)
            if packed:
                codes[part] <<= bits
                codes[part] |= torch.arange(part.start * (d + 1), part.start * (d + 1) + codes[part].numel()).view(
                    -1, d + 1
                )
        # one sort gives the distinct points (sorted codes), each vertex's point, and the splat's row order
        if packed:
            all_codes = codes.reshape(-1)
            all_codes.numpy().sort()
            order = all_codes & ((1 << bits) - 1)
            all_codes >>= bits
        else:
            all_codes, order = torch.sort(codes.reshape(-1), stable=True)
        first = torch.ones_like(all_codes, dtype=torch.bool)
        first[1:] = all_codes[1:] != all_codes[:-1]
        codes = all_codes[first]
        m = len(codes)
        index = _index_dtype(n * (d + 1))
        offsets = torch.empty(order.shape, dtype=index, device=device)
        offsets[order] = torch.cumsum(first, 0, dtype=index) - 1
        per_pixel = torch.full((n,), d + 1, dtype=torch.long, device=device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
            # pydensecrf's constant α folded into the slice
            self.slice = _csr(per_pixel, offsets, (weights / (1.0 + 2.0 ** (-d))).reshape(-1), (n, m))
            pixel = torch.div(order.to(index), d + 1, rounding_mode="floor")
            self.splat = _csr(torch.bincount(offsets, minlength=m), pixel, weights.reshape(-1)[order], (m, n))
            self.blur = []
            points = torch.arange(m, device=device)
            three = torch.full((m,), 3, dtype=torch.long, device=device)
            for axis in range(d + 1):  # [1/2, 1, 1/2] along each lattice axis
                step = -radix.sum()  # every coordinate − 1 ...
                if axis < d:
                    step = step + (d + 1) * radix[axis]  # ... but this one + d
                ahead = _find(codes, codes + step)  # −1 where there is no such point
                found = ahead >= 0
                behind = torch.full((m + 1,), -1, dtype=torch.long, device=device)
                behind.scatter_(0, torch.where(found, ahead, m), points)  # b ahead of a: a behind b
                behind = behind[:m]
                # three entries a row; an absent neighbour is column 0 with weight 0 (no masking: fast)
                cols = torch.stack([points, ahead.clamp(min=0), behind.clamp(min=0)], 1).reshape(-1)
                values = torch.stack([torch.ones(m, device=device), 0.5 * found, 0.5 * (behind >= 0)], 1)
                self.blur.append(_csr(three, cols, values.reshape(-1), (m, m)))
        self.size = m

    def _normalise(self) -> None:
        """n_i = (Σ_j k_ij)^−½ into the slice's rows and the splat's columns: filtering then gives
        Σ_j n_i k_ij n_j v_j, pydensecrf's symmetric normalisation."""
        n = self.slice.shape[0]
        total = torch.zeros((n, 1), dtype=torch.float32, device=self.slice.device)
        self.add_filtered(torch.ones_like(total), total)
        norm = 1.0 / torch.sqrt(total + 1e-20)
        self.slice.values().view(n, -1).mul_(norm)
        self.splat.values().mul_(norm.view(-1)[self.splat.col_indices()])

    def add_filtered(self, values: torch.Tensor, out: torch.Tensor, weight: float = 1.0) -> None:
        """out += weight · Σ_j n_i k(f_i, f_j) n_j values_j for every point i (approximately, k a
        unit Gaussian, n the normalisation once `_normalise` ran); values and out (N, C)."""
        grid = self.splat @ values
        for blur in self.blur:
            grid = blur @ grid
        out.addmm_(self.slice, grid, alpha=weight)  # into `out`: no (N, C) temporary


def _packable(device: torch.device, code_range: int, bits: int) -> bool:
    """Whether each code can carry its vertex's index in its low bits, on the CPU: sorting bare
    int64 (numpy's SIMD sort, in place) is four times faster than torch's sort with indices."""
    return device.type == "cpu" and code_range << bits <= 2**63


def _find(codes: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """Index of each query among the sorted `codes`, or −1 when absent."""
    if codes.device.type == "cpu":  # numpy's search narrows each query by the last: twice as fast on sorted queries
        at = torch.from_numpy(np.searchsorted(codes.numpy(), queries.numpy())).clamp_(max=len(codes) - 1)
    else:
        at = torch.searchsorted(codes, queries).clamp(max=len(codes) - 1)
    return torch.where(codes[at] == queries, at, torch.full_like(at, -1))


def _index_dtype(size: int) -> torch.dtype:
    return torch.int32 if size < 2**31 else torch.long


def _csr(counts: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """A CSR matrix from its entries in row order (`counts` per row): no sorting needed, and its
    products with dense matrices run in parallel on the CPU and on a GPU. Indices are int32 where
    they fit: the CPU's sparse library takes them as they are (int64 ones cost a copy per product,
    twice the time)."""
    index = _index_dtype(max(len(cols), *shape))
    crow = torch.zeros(shape[0] + 1, dtype=index, device=cols.device)
    torch.cumsum(counts, 0, out=crow[1:])
    return torch.sparse_csr_tensor(crow, cols.to(index), values.float(), shape)


class Kernel:
    """One pairwise term: a lattice over scaled features and its weight (Potts compatibility)."""

    def __init__(self, lattice: Lattice, compat: float) -> None:
        self.lattice = lattice
        self.compat = float(compat)

    def add_message(self, q: torch.Tensor, energy: torch.Tensor) -> None:
        self.lattice.add_filtered(q, energy, self.compat)


# The spatial kernel's lattice depends on the size alone: re-running the CRF, a batch or a stack's
# slices reuse it (a quarter to a third of the set-up). Kept for one size up to a megapixel (~90 MB).
SPATIAL_CACHE_PIXELS = 2**20


@functools.lru_cache(maxsize=1)
def _cached_spatial_lattice(h: int, w: int, sxy: float, device: str) -> Lattice:
    return Lattice(pixel_features(h, w, sxy).to(device))


def spatial_lattice(h: int, w: int, sxy: float, device: torch.device | str) -> Lattice:
    """The Gaussian (position-only) kernel's lattice."""
    if h * w > SPATIAL_CACHE_PIXELS:
        return Lattice(pixel_features(h, w, sxy).to(device))
    return _cached_spatial_lattice(h, w, float(sxy), str(torch.device(device)))


_bilateral_cache: dict[tuple, Lattice] = {}


def bilateral_lattice(rgb8: np.ndarray, sxy: float, srgb: float, device: torch.device | str) -> Lattice:
    """The bilateral (position and colour) kernel's lattice; the last one up to SPATIAL_CACHE_PIXELS
    is kept by the image's digest, so a prompt's CRF rerun on the same image skips its set-up."""
    import hashlib

    h, w = rgb8.shape[:2]
    rgb = np.ascontiguousarray(rgb8[..., :3])
    key = (hashlib.blake2b(rgb.tobytes(), digest_size=16).hexdigest(), h, w, float(sxy), float(srgb), str(device))
    if key in _bilateral_cache:
        return _bilateral_cache[key]
    lattice = Lattice(pixel_features(h, w, sxy, torch.from_numpy(rgb).to(device), srgb))
    if h * w <= SPATIAL_CACHE_PIXELS:
        _bilateral_cache.clear()
        _bilateral_cache[key] = lattice
    return lattice


def pixel_features(h: int, w: int, sxy: float, rgb: torch.Tensor | None = None, srgb: float = 1.0) -> torch.Tensor:
    """(x/sxy, y/sxy[, r/srgb, g/srgb, b/srgb]) per pixel, in pydensecrf's order (x along the width)."""
    device = rgb.device if rgb is not None else "cpu"
    yy, xx = torch.meshgrid(
        torch.arange(h, device=device, dtype=torch.float32),
        torch.arange(w, device=device, dtype=torch.float32),
        indexing="ij",
    )
    parts = [xx.reshape(-1, 1) / sxy, yy.reshape(-1, 1) / sxy]
    if rgb is not None:
        parts.append(rgb.reshape(-1, 3).float() / srgb)
    return torch.cat(parts, 1)


class DenseCRF:
    """Mean-field inference over unaries (C, N) = −log p; `step()` runs one iteration."""

    def __init__(
        self,
        rgb8: np.ndarray,
        unary: np.ndarray,
        gaussian: tuple[float, float],
        bilateral: tuple[float, float, float],
        device: torch.device | str = "cpu",
    ) -> None:
        h, w = rgb8.shape[:2]
        self.unary = torch.from_numpy(unary).to(device).T.contiguous()  # (N, C)
        self.kernels = [
            Kernel(spatial_lattice(h, w, gaussian[0], device), gaussian[1]),
            Kernel(bilateral_lattice(rgb8, bilateral[0], bilateral[1], device), bilateral[2]),
        ]
        # two (N, C) buffers, reused by every step: a fresh one costs page faults larger than the work
        self.q = torch.neg(self.unary)
        _softmax_(self.q)
        self._energy = torch.empty_like(self.q)

    def step(self) -> None:
        torch.neg(self.unary, out=self._energy)
        for kernel in self.kernels:
            kernel.add_message(self.q, self._energy)
        _softmax_(self._energy)
        self.q, self._energy = self._energy, self.q

    def marginals(self) -> np.ndarray:
        """(C, N) float32 on the host."""
        return self.q.T.float().cpu().numpy()


def _softmax_(energy: torch.Tensor) -> None:
    """Softmax over the labels of (N, C), in place: three times faster on the CPU than torch's
    softmax along a row of a few labels (or along the long axis of the transpose, then copied)."""
    energy.sub_(energy.amax(1, keepdim=True))
    energy.exp_()
    energy.div_(energy.sum(1, keepdim=True))
