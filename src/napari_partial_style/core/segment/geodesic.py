"""How far each pixel is from each label's prompts, walking around the image's edges.

A click says "this is the region" for the pixels it touches and, less surely, for what lies on
its side of the next colour or texture edge. The geodesic distance measures that: the least cost
of a path from the label's prompted pixels, each step costing 1 plus EDGE_GAIN times the features'
change there (core/segment/texture.py), so crossing a texture boundary costs as much as a walk of
several pixels inside one texture. The appearance model (core/segment/appearance.py) learns from
the pixels geodesically near each label's prompts and, where the maps say nothing, prefers for
each pixel the labels whose prompts are geodesically near it (bench/bench_prompts_noc.py).
"""

from __future__ import annotations

import numpy as np

EDGE_GAIN = 4.0  # a step across an edge of the mean strength costs 1 + EDGE_GAIN


def step_cost(feats: np.ndarray) -> np.ndarray:
    """(h, w) float64 from (h, w, D) features: 1 + EDGE_GAIN × the features' gradient strength over its mean."""
    grads = np.gradient(feats, axis=(0, 1))
    edge = np.sqrt((grads[0] ** 2).sum(axis=2) + (grads[1] ** 2).sum(axis=2)).astype(np.float64)
    return 1.0 + EDGE_GAIN * edge / max(float(edge.mean()), 1e-6)


def distances(cost: np.ndarray, fixed: np.ndarray, n: int) -> np.ndarray:
    """(n, h, w): each pixel's least path cost to label k's prompted pixels (`fixed` == k); a label
    without prompts is as near as the nearest prompted one (it is everything else)."""
    from skimage.graph import MCP_Geometric

    out = np.full((n, *fixed.shape), np.inf)
    for label in range(n):
        starts = np.argwhere(fixed == label)
        if len(starts):
            out[label] = MCP_Geometric(cost).find_costs(starts)[0]
    nearest = out.min(axis=0)
    return np.where(np.isinf(out), nearest, out)
