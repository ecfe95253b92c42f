"""The prompts' appearance model: what the prompted pixels look like, against what surrounds them.

Where the saliency maps say little (a class the classifier barely sees, or a flat map), a click
alone would fix its pixels and little else. As GrabCut does, the pixels around each label's prompts
(those geodesically near them, core/segment/geodesic.py: a click's side of an edge) teach a small
Gaussian mixture of colour and texture (core/segment/texture.py), as do the pixels the maps give it
as far as the maps carry evidence; the mixtures are refitted on their own result, and as far as the
maps say nothing each pixel also leans to the labels whose prompts are geodesically nearest
(core/segment/prompted.py decides where the posteriors count). numpy only, seeded: the same
prompts give the same labels. Its products are small (thousands of pixels by 5 components by 15
features), so they go through einsum, not BLAS: OpenBLAS hands products of that size to its threads,
which spin on each other and on the CRF's; with its 2 threads on a 2-core machine a prompt took 3×
the wall time and 1.8× the CPU time of the same work on one (bench/bench_prompts_speed.py)."""

from __future__ import annotations

import numpy as np

from napari_partial_style.core.segment import geodesic, texture

COMPONENTS = 5
EM_STEPS = 8
REFIT_STEPS = 3  # a later round starts from the last round's mixture, which is most of the way there
MAX_SAMPLES = 4000
STRIDE = 2
# Geodesic cost (core/segment/geodesic.py, on the STRIDE grid) within which a prompt's pixels teach
# its label: a few grid steps inside one texture, none across an edge. A disc of 6 px taught as well
# on open texture but also taught a click near a boundary the texture beyond it.
REACH = 5.0
# Geodesic cost over which a pixel's lean to the nearest prompt's label falls by e, where the maps
# say nothing (with evidence the lean fades: it cost the coffee cup 14 clicks when it counted fully).
LEAN_SCALE = 20.0
CLEAR_REACH = 0.25  # share of the long side: how far a click's correction reaches when choosing samples
VARIANCE_FLOOR = 0.3  # features have unit spread over the image: a click's few pixels must not teach a needle
ROUNDS = 3
VOTE_FLOOR = 1e-3  # a pixel's posterior for any label, before its neighbourhood votes
PROMPT_SHARE = 0.75
SMOOTH_SIGMA = 4.0
# The smoothed log-likelihood is a mean over about 4πσ² pixels whose evidence is far from
# independent; counted as a few independent pixels it holds against the CRF's smoothing.
EVIDENCE_GAIN = 4.0


def evidence(maps: np.ndarray) -> float:
    """How much the (calibrated) maps say, in [0, 1]: the mean over maps of Otsu's separability
    (between-class over total variance; 0 for a flat map, 1 for a map of two values)."""
    if not len(maps):
        return 0.0
    return float(np.mean([_separability(m) for m in maps]))


def _separability(plane: np.ndarray) -> float:
    values = plane.ravel()
    total = values.var()
    if total < 1e-12:
        return 0.0
    from skimage.filters import threshold_otsu

    above = values > threshold_otsu(values)
    share = above.mean()
    if share in (0.0, 1.0):
        return 0.0
    between = share * (1 - share) * (values[above].mean() - values[~above].mean()) ** 2
    return float(np.clip(between / total, 0.0, 1.0))


def posteriors(rgb8: np.ndarray, fixed: np.ndarray, current: np.ndarray, trust: float) -> np.ndarray:
    """(K+1, h, w): each label's posterior under per-label mixtures with equal priors, smoothed
    over a few pixels (texture is a property of a neighbourhood). Each label learns from the pixels
    around its prompts (`fixed` ≥ 0) for most of its weight and from the pixels `current` (the
    maps' argmax; −1: none) gives it, as far as the maps are trusted (`trust`: 0 for a flat map); then, as
    GrabCut iterates, each label learns again with the pixels the posteriors give it. The posteriors
    lean to each pixel's geodesically nearest prompts by the maps' lack of evidence (1 − `trust`)."""
    from scipy import ndimage

    n = max(int(current.max(initial=0)), int(fixed.max(initial=0))) + 1
    h, w = fixed.shape
    grid = (slice(None, None, STRIDE), slice(None, None, STRIDE))  # texture is smooth: every STRIDE-th pixel
    image = texture.features(rgb8).reshape(h, w, -1)[grid]
    feats = image.reshape(-1, texture.count())
    rng = np.random.default_rng(0)
    clear = _clear_of_prompts(fixed, n)[:, grid[0], grid[1]].reshape(n, -1)
    far = geodesic.distances(geodesic.step_cost(image), _cells(fixed), n)
    fixed, given, share = fixed[grid], current[grid], trust
    nearest = far.min(axis=0)
    near = [(far[label] <= REACH) & (far[label] <= nearest) & (fixed == label).any() for label in range(n)]
    lean = np.exp(-(far - nearest) * (1.0 - trust) / LEAN_SCALE)
    floor = np.full(feats.shape[1], VARIANCE_FLOOR, np.float32)
    models: list[_Mixture | None] = [None] * n
    for _ in range(ROUNDS):
        models = [
            _fit(feats[_draw(_weights(label, given, fixed, near, share) * clear[label], rng)], rng, floor, start)
            for label, start in enumerate(models)
        ]
        p = _posteriors(models, feats, fixed.shape) * lean
        p /= p.sum(axis=0, keepdims=True)
        given, share = p.argmax(axis=0), 1.0
        given[fixed >= 0] = fixed[fixed >= 0]
    zoom = (h / p.shape[1], w / p.shape[2])
    return np.stack([ndimage.zoom(plane, zoom, order=1, mode="nearest", grid_mode=True) for plane in p])


def _cells(fixed: np.ndarray) -> np.ndarray:
    """`fixed` on the STRIDE grid, each cell prompted when any pixel of its block is (the image's
    last row and column of a 1 px frame fall between the grid's points)."""
    cells = fixed[::STRIDE, ::STRIDE].copy()
    for dr in range(STRIDE):
        for dc in range(STRIDE):
            block = fixed[dr::STRIDE, dc::STRIDE]
            part = cells[: block.shape[0], : block.shape[1]]
            np.copyto(part, block, where=(part < 0) & (block >= 0))
    return cells


def _clear_of_prompts(fixed: np.ndarray, n: int) -> np.ndarray:
    """(n, N): how far each pixel is from every other label's prompts, in [0, 1]: a pixel the
    labels give to `label` near another label's click is likely the part that click corrects (a
    missed white cup body stays "background" until the model has learned it), so it teaches less."""
    from scipy import ndimage

    reach = CLEAR_REACH * max(fixed.shape)
    far = np.ones((n, *fixed.shape), np.float32)
    for k in range(n):
        if (fixed == k).any():
            d = ndimage.distance_transform_edt(fixed != k)
            away = 1.0 - np.exp(-0.5 * (d / reach) ** 2)
            for label in range(n):
                if label != k:
                    far[label] *= away
    return far


def _weights(label: int, given: np.ndarray, fixed: np.ndarray, near: list[np.ndarray], share: float) -> np.ndarray:
    """Each pixel's weight in `label`'s model: the pixels around its prompts weigh PROMPT_SHARE
    together, the pixels it is given `share` of the rest (the user's word outweighs the maps')."""
    others = np.logical_or.reduce([m for k, m in enumerate(near) if k != label] or [np.zeros(fixed.shape, bool)])
    base = (given == label) & (fixed < 0) & ~others
    if not base.any() and not near[label].any():
        base = (fixed < 0) & ~others
    weights = np.zeros(fixed.shape, np.float64)
    prompted = near[label].any()
    for part, part_share in ((base, (1.0 - PROMPT_SHARE) * share if prompted else 1.0), (near[label], PROMPT_SHARE)):
        if part.any():
            weights[part] += part_share / part.sum()
    return weights.ravel()


def _draw(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """MAX_SAMPLES pixels drawn by weight (all of them, once each, when there are fewer)."""
    chosen = np.flatnonzero(weights)
    if len(chosen) <= MAX_SAMPLES and np.ptp(weights[chosen]) == 0:
        return chosen
    return rng.choice(chosen, MAX_SAMPLES, p=weights[chosen] / weights[chosen].sum())


def _posteriors(models: list[_Mixture], feats: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Each pixel's posterior (clipped, so one pixel's vote is bounded), its log smoothed over
    its neighbourhood and counted EVIDENCE_GAIN times."""
    from scipy import ndimage

    log_p = np.stack([m.log_density(feats).reshape(shape) for m in models]).astype(np.float32)
    log_p -= log_p.max(axis=0, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=0, keepdims=True))
    np.maximum(log_p, np.log(VOTE_FLOOR), out=log_p)
    for plane in log_p:
        ndimage.gaussian_filter(plane, SMOOTH_SIGMA / STRIDE, output=plane)
    log_p *= EVIDENCE_GAIN
    log_p -= log_p.max(axis=0, keepdims=True)
    p = np.exp(log_p)
    return p / p.sum(axis=0, keepdims=True)


class _Mixture:
    """A Gaussian mixture with diagonal covariances."""

    def __init__(self, weights: np.ndarray, means: np.ndarray, variances: np.ndarray) -> None:
        self.weights, self.means, self.variances = weights, means, variances

    def component_log(self, x: np.ndarray) -> np.ndarray:
        """(N, M): log of weight × density of each component, as two sums of products (einsum, not
        BLAS: see the module's docstring)."""
        inv = 1.0 / self.variances
        both = np.concatenate([x * x, x], axis=1)
        z = np.einsum("nd,md->nm", both, np.concatenate([inv, -2.0 * self.means * inv], axis=1))
        z += (self.means**2 * inv).sum(axis=1)
        constant = np.log(self.weights) - 0.5 * (np.log(self.variances).sum(axis=1) + x.shape[1] * np.log(2 * np.pi))
        return (constant - 0.5 * z).astype(np.float32)

    def log_density(self, x: np.ndarray) -> np.ndarray:
        logs = self.component_log(x)
        top = logs.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(logs - top).sum(axis=1, keepdims=True)))[:, 0]


def _fit(x: np.ndarray, rng: np.random.Generator, floor: np.ndarray, start: _Mixture | None = None) -> _Mixture:
    """EM: REFIT_STEPS from `start` (the same label's mixture of the round before), or EM_STEPS from
    means drawn farthest-first (k-means++ without randomness beyond the first)."""
    model, steps = start, REFIT_STEPS
    if model is None:
        m = min(COMPONENTS, len(x))
        means = [x[rng.integers(len(x))]]
        for _ in range(1, m):
            far = np.min([((x - mu) ** 2).sum(axis=1) for mu in means], axis=0)
            means.append(x[int(np.argmax(far))])
        spread = np.maximum(x.var(axis=0), floor)
        model, steps = _Mixture(np.full(m, 1.0 / m, np.float32), np.array(means), np.tile(spread, (m, 1))), EM_STEPS
    for _ in range(steps):
        logs = model.component_log(x)
        resp = np.exp(logs - logs.max(axis=1, keepdims=True))
        resp /= resp.sum(axis=1, keepdims=True)
        mass = resp.sum(axis=0) + 1e-6
        sums = np.einsum("nm,nd->md", resp, np.concatenate([x, x * x], axis=1)) / mass[:, None]
        means = sums[:, : x.shape[1]]
        variances = np.maximum(sums[:, x.shape[1] :] - means**2, floor)
        model = _Mixture((mass / mass.sum()).astype(np.float32), means, variances)
    return model
