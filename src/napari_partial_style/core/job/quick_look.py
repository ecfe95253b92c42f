"""A quick look at the whole job before the full one, and from its timings the full job's time.

The quick look is the same job (`Session.run`) with the costly settings turned down: one saliency
scale, the style at 128 px with 30 steps and no finer level, no score. The full job's time is its
stage timings scaled by how much more work the full settings give each stage: for segmentation the
pixels of its canvases (one per saliency scale), for style the pixel-steps of its pyramid levels.
Segmentation and each style step also have a part that does not grow with their pixels (small
tensors use the cores less well; the CRF, the optimiser's bookkeeping), counted as a fixed number of
pixels, and scoring costs more than one segmentation; without these the estimate was 1.5–2.5× high,
as the quick look's small images pay the fixed parts most. The constants are fitted to measured runs
of several sizes (bench/calibrate_quick_look.py; docs/benchmarks.md#quick-look-and-the-full-jobs-time).
A step's fixed part grows with the machine's load (35,000 px fitted on a loaded 2-core CPU, about
5,000 from quiet per-step times), so STEP_PIXELS is their geometric mean: within 1.5× of either.
"""

from __future__ import annotations

from dataclasses import replace

from napari_partial_style.core.params import JobParams, StyleParams
from napari_partial_style.core.segment.canvas import min_canvas
from napari_partial_style.core.style.pyramid import level_sizes

QUICK_SIZE = 128
QUICK_STEPS = 30
CLASSIFIER_MIN_INPUT = 224  # VGG16's fc6 window: the smallest canvas side segmentation uses
SEGMENT_PIXELS = 71_000.0  # segmentation's fixed part, in canvas pixels (fitted)
STEP_PIXELS = 13_600.0  # a style step's fixed part, in long side² pixels (see above)
SCORE_SEGMENTATIONS = 2.4  # scoring the composite, in segmentations of the content (measured)


def quick_params(params: JobParams) -> JobParams:
    """`params` with the costly settings turned down; what the job does (targets, styles, method,
    weights, colours, compositing) is unchanged."""
    saliency = replace(params.segment.saliency, scales=(1.0,))
    return replace(
        params,
        session=replace(params.session, size=QUICK_SIZE),
        segment=replace(params.segment, saliency=saliency),
        style=replace(params.style, steps=min(params.style.steps, QUICK_STEPS), max_size=QUICK_SIZE, tile=None),
        score=replace(params.score, enabled=False),
    )


def segment_work(size: int, scales: tuple[float, ...]) -> float:
    """Canvas pixels segmentation classifies at working size `size` (core/segment/saliency.py), plus
    its fixed part."""
    side = max(size, min_canvas(CLASSIFIER_MIN_INPUT, scales))
    return SEGMENT_PIXELS + sum((side * scale) ** 2 for scale in scales)


def style_work(style: StyleParams, size: int, long_side: int) -> float:
    """Pixel-steps of the style pyramid from working size `size` to the result's long side, with each
    step's fixed part."""
    final = min(style.max_size or long_side, long_side)
    levels = level_sizes(size, final)
    return sum((style.steps if i == 0 else style.fine_steps) * (side**2 + STEP_PIXELS) for i, side in enumerate(levels))


def full_job_seconds(
    timings: dict[str, float], params: JobParams, long_side: int, segment_size: int, style_size: int, segments: bool
) -> float:
    """The full job's seconds from the quick look's stage `timings` (the manifest's `timings_s`), for
    `params` with segmentation at working size `segment_size` (when it `segments`; scoring segments
    the composite once more) and style at `style_size`, on a content whose long side is `long_side`.
    Networks are loaded by then, so only the stages count."""
    quick = quick_params(params)
    quick_size = min(QUICK_SIZE, long_side)
    seconds = timings.get("composite", 0.0)
    per_segment = timings.get("segment", 0.0) * (
        segment_work(segment_size, params.segment.saliency.scales)
        / segment_work(quick_size, quick.segment.saliency.scales)
    )
    seconds += per_segment * (int(segments) + SCORE_SEGMENTATIONS * int(params.score.enabled))
    if "style" in timings:
        seconds += timings["style"] * (
            style_work(params.style, style_size, long_side) / style_work(quick.style, quick_size, long_side)
        )
    return seconds
