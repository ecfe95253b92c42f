"""Peak memory of a job follows the input's size with a small factor: no full-resolution float copies."""

import tracemalloc

import numpy as np

from napari_partial_style.api import run
from napari_partial_style.core.images import as_source_image
from napari_partial_style.core.params import JobParams, ScoreParams, SessionParams, StyleParams


def test_a_6_megapixel_job_allocates_under_20_bytes_per_pixel(hub):
    """numpy's allocations (what tracemalloc sees) while stylizing, compositing and previewing a
    3000×2000 photo at a small working size. Before, full-size float32 and float64 copies made this
    about 59 bytes per pixel, then 21; the output arrays alone (stylized, composite, half-float alpha, mask)
    are 9, and the job peaks at 18."""
    h, w = 2000, 3000
    rng = np.random.default_rng(0)
    content = as_source_image(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    style = as_source_image(rng.integers(0, 256, (300, 300, 3), dtype=np.uint8))
    labels = np.zeros((h, w), np.uint8)
    labels[500:1500, 1000:2000] = 1
    params = JobParams(
        session=SessionParams(device="cpu", size=64),
        style=StyleParams(steps=1, fine_steps=1, max_size=128),
        score=ScoreParams(enabled=False),
    )
    tracemalloc.start()
    try:
        result = run(content, style, params, labels).result()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.composite.shape == (h, w, 3) and result.stylized.dtype == np.uint8
    assert peak / (h * w) < 20, f"{peak / (h * w):.1f} bytes per pixel"
