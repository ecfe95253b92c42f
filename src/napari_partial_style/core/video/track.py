"""The region followed through a clip: labels carried along the optical flow, refit by the CRF.

What is carried is a soft region, one channel per label: the backward flow (t+1 → t) warps frame
t's channels onto frame t+1 bilinearly. Carrying hard labels instead rounds the boundary to whole
pixels every frame, and the rounding piles up (the coffee clip with the true flow: IoU 0.59 at
frame 30 carried hard, 0.965 soft; docs/quality.md). Where forward and backward flow disagree, or
the flow changes sharply (flow.occlusion: a pixel uncovered by the motion, a motion boundary), the flow is not trusted and the dense CRF (the
project's back end, torch by default) decides: its unary is the carried region, trusted as much as
`prior` says where the flow is trusted and not at all where it is not, times the frame's saliency
probabilities when given; its appearance kernel puts the boundary on frame t+1's own edges. The
CRF's marginals replace the carried region where the flow was not trusted, and the frame's labels
are the region's argmax. Taking the CRF's labels everywhere instead lost 0.035 IoU at frame 30 on
the coffee clip (0.843 against 0.878) and gained 0.009 on the object clip: where the flow holds, it
is the better witness. A frame whose labels are given (the first, and any correction) takes them as
they are, and tracking goes on from there. Frames, saliency and results are streamed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import SourceImage, as_source_image, to_uint8
from napari_partial_style.core.params import CRFParams
from napari_partial_style.core.registry import NO_CRF
from napari_partial_style.core.segment import crf_backends
from napari_partial_style.core.segment.crf import calibrate, class_probabilities, unaries
from napari_partial_style.core.video import flow as flows

# The CRF that refits the carried region: PSA's kernels (the segmentation's default) are made for
# coarse saliency maps and pull a precise region onto neighbouring edges (the coffee clip's cup onto
# the saucer); a short, weak appearance kernel only settles the boundary (bench/bench_video_tracking.py).
REFIT_CRF = CRFParams(gaussian=(3.0, 1.0), bilateral=(10.0, 13.0, 2.0), iterations=5)


@dataclass(frozen=True)
class TrackParams:
    """`flow`: one of flow.FLOW_METHODS; `prior`: how far the carried region is trusted where the
    flow is consistent (0: not at all, 1: fully); `crf`: the CRF that refits it (its calibration
    and background exponent apply to the saliency maps only)."""

    flow: str = "ilk"
    prior: float = 0.95
    crf: CRFParams = field(default_factory=lambda: REFIT_CRF)

    def __post_init__(self) -> None:
        if self.flow not in flows.FLOW_METHODS:
            raise InputError(f"flow method {self.flow!r} is unknown; use {', '.join(flows.FLOW_METHODS)}.")
        if not 0.0 <= self.prior <= 1.0:
            raise InputError(f"the tracking prior must lie in [0, 1], not {self.prior}.")


@dataclass(frozen=True)
class TrackedFrame:
    """One frame's labels (H, W int32); from the second frame on, the backward flow to the previous
    frame and its occlusion mask (what the temporal style loss needs); `given`: the labels were
    given for this frame (the first, or a correction), not carried."""

    index: int
    labels: np.ndarray
    flow: np.ndarray | None
    occluded: np.ndarray | None
    given: bool


def track(
    frames: Iterable[SourceImage | np.ndarray],
    labels: np.ndarray,
    corrections: Mapping[int, np.ndarray] | None = None,
    saliency: Iterable[np.ndarray | None] | None = None,
    params: TrackParams = TrackParams(),
    device=None,
) -> Iterator[TrackedFrame]:
    """Frame 0's `labels` (0 = background, k = the k-th target) carried through `frames`; frames
    whose index is in `corrections` take those labels instead. `saliency`, if given, is one (K, H, W)
    map stack in [0, 1] per frame (None for a frame without), K the number of targets."""
    given = {0: labels, **(corrections or {})}
    if any(not isinstance(k, (int, np.integer)) or k < 0 for k in given):
        raise InputError(f"corrections are keyed by frame number (0, 1, ...), not {sorted(map(repr, given))}.")
    n_labels = 1 + max(_label_count(g, index) for index, g in given.items())
    maps_per_frame = iter(saliency) if saliency is not None else None
    previous, count = None, 0
    for index, frame in enumerate(frames):
        rgb8 = _rgb8(frame, index)
        maps = next(maps_per_frame, None) if maps_per_frame is not None else None
        if previous is None:
            region = _one_hot(_given_labels(given[0], rgb8.shape[:2], 0), n_labels)
            yield TrackedFrame(0, region.argmax(0).astype(np.int32), None, None, True)
        else:
            prev_rgb8, prev_region = previous
            _check_size(rgb8, prev_rgb8, index)
            backward = flows.flow(rgb8, prev_rgb8, params.flow)
            occluded = flows.occlusion(backward, flows.flow(prev_rgb8, rgb8, params.flow))
            if index in given:
                region = _one_hot(_given_labels(given[index], rgb8.shape[:2], index), n_labels)
                current = region.argmax(0).astype(np.int32)
            else:
                carried = carry(prev_region, backward)
                marginals = refit(rgb8, prior_of(carried, occluded, params.prior), maps, params.crf, device)
                region = np.where(occluded, marginals, carried)
                current = region.argmax(0).astype(np.int32)
            yield TrackedFrame(index, current, backward, occluded, index in given)
        previous, count = (rgb8, region), index + 1
    if count == 0:
        raise InputError("the clip has no frames; give at least one.")
    if max(given) >= count:
        raise InputError(
            f"labels were given for frame {max(given)} but the clip has {count} frames (0 to {count - 1})."
        )


def carry(region: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """The soft region (n_labels, H, W) of the previous frame warped onto this one, summing to 1."""
    carried = np.clip(flows.warp(region.transpose(1, 2, 0), backward), 0.0, 1.0).transpose(2, 0, 1)
    return carried / np.maximum(carried.sum(0, keepdims=True), 1e-6)


def prior_of(carried: np.ndarray, occluded: np.ndarray, trust: float) -> np.ndarray:
    """The carried region mixed with a uniform share by `trust`; uniform where the flow is not trusted."""
    n_labels = carried.shape[0]
    prior = trust * carried + (1.0 - trust) / n_labels
    prior[:, occluded] = 1.0 / n_labels
    return prior


def refit(rgb8: np.ndarray, prior: np.ndarray, maps: np.ndarray | None, crf: CRFParams, device=None) -> np.ndarray:
    """Marginals (n_labels, H, W) of one frame from the carried prior (times the saliency's class
    probabilities when given) through the dense CRF: its appearance kernel puts the boundary on this
    frame's edges."""
    probabilities = prior
    if maps is not None:
        if maps.shape != (prior.shape[0] - 1, *prior.shape[1:]):
            raise InputError(
                f"the saliency of a frame is {maps.shape} but tracking needs {prior.shape[0] - 1} maps of "
                f"{prior.shape[1]}×{prior.shape[2]} (one per target, at the frame's size)."
            )
        evidence = class_probabilities(calibrate(maps, crf.calibration), crf.background_alpha)
        probabilities = prior * (evidence / np.maximum(evidence.sum(0, keepdims=True), 1e-6))
        probabilities /= np.maximum(probabilities.sum(0, keepdims=True), 1e-12)
    if crf.method == NO_CRF:
        return probabilities
    model = crf_backends.get(crf.method).model(rgb8, unaries(probabilities), crf.gaussian, crf.bilateral, device)
    for _ in range(crf.iterations):
        model.step()
    return model.marginals().reshape(probabilities.shape)


def _check_size(rgb8: np.ndarray, previous: np.ndarray, index: int) -> None:
    if rgb8.shape != previous.shape:
        raise InputError(
            f"frame {index} is {rgb8.shape[1]}×{rgb8.shape[0]} px but frame {index - 1} is "
            f"{previous.shape[1]}×{previous.shape[0]}; all frames of a clip need one size."
        )


def _one_hot(labels: np.ndarray, n_labels: int) -> np.ndarray:
    return (labels[None] == np.arange(n_labels)[:, None, None]).astype(np.float32)


def _label_count(labels: np.ndarray, index: int) -> int:
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype.kind not in "iub" or (labels.size and labels.min() < 0):
        raise InputError(
            f"the labels given for frame {index} are {labels.shape} {labels.dtype}; give an H×W array of "
            "non-negative integers (0 = background, k = the k-th target)."
        )
    return int(labels.max()) if labels.size else 0


def _rgb8(frame: SourceImage | np.ndarray, index: int) -> np.ndarray:
    source = frame if isinstance(frame, SourceImage) else as_source_image(frame, f"frame {index}")
    return source.native if source.dtype == np.uint8 else to_uint8(source.rgb)


def _given_labels(labels: np.ndarray, shape: tuple[int, int], index: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != shape:
        raise InputError(
            f"the labels given for frame {index} are {labels.shape[1]}×{labels.shape[0]} but the frame is "
            f"{shape[1]}×{shape[0]}; give labels at the frame's size."
        )
    return labels.astype(np.int32)
