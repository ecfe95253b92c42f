"""The region followed through a clip (core/video/track.py) along the flow (core/video/flow.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import binary_dilation
from video_clips import iou, moving_object

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.video import flow
from napari_partial_style.core.video.track import TrackParams, track


@pytest.fixture(scope="module")
def clip():
    return moving_object(frames=12)


def test_warp_follows_a_known_shift():
    image = np.random.default_rng(0).random((32, 40)).astype(np.float32)
    shift = np.zeros((2, 32, 40), np.float32)
    shift[1] = 3.0  # each pixel takes the value 3 columns to its right
    assert np.allclose(flow.warp(image, shift)[:, :30], image[:, 3:33])


@pytest.mark.parametrize("method", ["ilk", "tvl1"])
def test_the_flow_between_two_frames_is_the_known_motion(clip, method):
    found = flow.flow(clip.frames[6], clip.frames[5], method)
    error = np.sqrt(((found - clip.flows[5]) ** 2).sum(0))
    assert np.median(error) < 0.3


def test_occlusion_marks_the_background_uncovered_behind_the_object(clip):
    t = 6
    backward = flow.flow(clip.frames[t], clip.frames[t - 1])
    occluded = flow.occlusion(backward, flow.flow(clip.frames[t - 1], clip.frames[t]))
    uncovered = clip.masks[t - 1] & ~clip.masks[t]  # where the object was and no longer is
    assert occluded[uncovered].mean() > 0.5
    far = ~binary_dilation(clip.masks[t] | clip.masks[t - 1], iterations=6)
    far[:4], far[-4:], far[:, :4], far[:, -4:] = False, False, False, False  # the pan brings new pixels in at the edges
    assert (
        occluded[far].mean() < 0.2
    )  # 0.13 here: ILK is noisy on small frames, and Ruder's motion-boundary test is strict


def test_the_region_is_followed_to_the_last_frame(clip):
    tracked = list(track(clip.frames, clip.masks[0].astype(np.uint8)))
    assert [f.index for f in tracked] == list(range(12))
    assert iou(tracked[-1].labels > 0, clip.masks[-1]) >= 0.9
    assert iou(clip.masks[0], clip.masks[-1]) < 0.6  # the object moved: standing still would fail
    assert tracked[0].flow is None and tracked[-1].flow.shape == (2, 96, 128)
    assert tracked[-1].occluded.dtype == bool and not tracked[-1].given


def test_a_correction_on_frame_k_is_carried_forward_from_there(clip):
    wrong = np.zeros(clip.masks[0].shape, np.uint8)
    wrong[:10, :10] = 1  # a region in the wrong place
    k = 4
    tracked = list(track(clip.frames[:8], wrong, corrections={k: clip.masks[k].astype(np.uint8)}))
    assert iou(tracked[k - 1].labels > 0, clip.masks[k - 1]) < 0.2
    assert tracked[k].given and np.array_equal(tracked[k].labels, clip.masks[k])
    assert all(iou(f.labels > 0, clip.masks[f.index]) >= 0.9 for f in tracked[k:])


def test_saliency_given_per_frame_joins_the_prior_where_the_flow_is_not_trusted(clip):
    """Saliency decides the uncovered pixels and the motion boundaries: maps that tell the truth
    follow the object better than maps that say the opposite."""
    start = clip.masks[0].astype(np.uint8)
    truthful = [m[None].astype(np.float32) * 0.98 + 0.01 for m in clip.masks[:5]]
    lying = [1.0 - m for m in truthful]
    last = [list(track(clip.frames[:5], start, saliency=maps))[-1].labels > 0 for maps in (truthful, lying)]
    assert iou(last[0], clip.masks[4]) >= 0.9
    assert iou(last[0], clip.masks[4]) > iou(last[1], clip.masks[4]) + 0.02


def test_bad_inputs_are_one_line_each(clip):
    labels = clip.masks[0].astype(np.uint8)
    mixed = [clip.frames[0], clip.frames[1][:60]]
    with pytest.raises(InputError, match="frame 1 is 128×60 px but frame 0 is 128×96"):
        list(track(mixed, labels))
    with pytest.raises(InputError, match="labels given for frame 0 are 40×32"):
        list(track(clip.frames[:2], labels[:32, :40]))
    with pytest.raises(InputError, match="given for frame 20 but the clip has 3 frames"):
        list(track(clip.frames[:3], labels, corrections={20: labels}))
    with pytest.raises(InputError, match="tracking needs 1 maps"):
        list(track(clip.frames[:2], labels, saliency=[None, np.zeros((2, 96, 128), np.float32)]))
    with pytest.raises(InputError, match="flow method 'raft' is unknown"):
        TrackParams(flow="raft")
