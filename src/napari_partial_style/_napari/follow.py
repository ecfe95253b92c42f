"""Segment on all frames of a clip: the region followed from the frame shown, not found afresh in each.

The frame shown is segmented (or, when the user painted the clip's labels layer, its labels there are
taken as given: a correction), then its labels are carried along the optical flow to every later
frame and refit by the CRF to that frame's edges where the flow is not trusted (core/video/track.py,
as the clip job of the command line does). Frames before the one shown keep the labels an earlier
run gave them (a correction on frame k changes frames k onwards only); without such a run the region
is followed back to the first frame too. Each finished frame is kept as it is done, so Cancel loses
none of them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from napari_partial_style._napari import layer_names as names
from napari_partial_style._napari.layers import slice_index, was_painted
from napari_partial_style.core.errors import InputError
from napari_partial_style.core.params import JobParams
from napari_partial_style.core.progress import Progress, relabel
from napari_partial_style.core.registry import NO_CRF


class FollowedClip:
    """One run's frames: prepared on the GUI thread (bad input raises there), computed by `job()` in
    the worker, which fills `labels`, `maps` and `done` frame by frame."""

    def __init__(self, viewer, layer, params: JobParams, word: str) -> None:
        from napari_partial_style._napari.common import session, stack_sources
        from napari_partial_style.core.segment.classifier import class_names

        leading, self.sources = stack_sources(layer)
        if len(leading) != 1:
            raise InputError(
                f"{layer.name} has {len(leading)} stack axes {tuple(leading)}; following the region needs one "
                f"{word} axis: untick 'follow the region' to segment each slice on its own."
            )
        self.word, self.params, self.session = word, params, session(params.session)
        self.start = slice_index(viewer, layer)[0]
        count, shape = len(self.sources), self.sources[0].shape
        earlier = _stack_labels(viewer, layer, (count, *shape))
        self.kept = None if earlier is None else np.asarray(earlier.data)
        self.given = None if earlier is None or not was_painted(earlier) else self.kept[self.start].copy()
        self.targets = _classes_of(earlier) if self.given is not None else []
        if self.given is not None and not self.given.any():
            painted = [i for i in range(count) if self.kept[i].any()]
            raise InputError(
                f"{word} {self.start} of '{earlier.name}' has no labels to follow"
                + (f" (frames with labels: {_listed(painted)})" if painted else "")
                + f": paint the region on it, or show the {word} you painted and press Segment again."
            )
        # a painted layer's classes give each frame its saliency only when the classifier knows them all
        self.with_saliency = self.given is None or (
            bool(self.targets) and set(self.targets) <= set(class_names(params.segment.classifier))
        )
        self.labels = np.zeros((count, *shape), np.int32) if self.kept is None else self.kept.astype(np.int32)
        self.done = np.zeros(count, bool)
        self.done[: self.start] = self.kept is not None
        self.maps: np.ndarray | None = None
        self.segmentation = None  # the start frame's, when it was segmented (its class scores)
        self._earlier_maps = {
            target: np.asarray(viewer.layers[name].data)
            for target in self.targets
            if (name := names.saliency(layer.name, target)) in viewer.layers
            and np.shape(viewer.layers[name].data) == (count, *shape)
        }
        self.layer_name = layer.name

    def job(self):
        """The worker's generator: the start frame's events, then one "frames" event per frame."""
        from napari_partial_style.core.video.track import REFIT_CRF, TrackParams, track

        k, count = self.start, len(self.sources)
        stage = f"{self.word}s"
        if self.given is None:
            seg = yield from relabel(
                iter(self.session.segment(self.sources[k], self.params.segment)), f"{self.word} {k}"
            )
            self.segmentation, self.targets, start_labels = seg, list(seg.targets), seg.labels
        else:
            seg, start_labels = None, self.given
        self._start_maps(seg)
        yield Progress(stage, int(self.done.sum()), count, f"following the region from {self.word} {k}")
        tracking = TrackParams(crf=replace(REFIT_CRF, method=self.params.segment.crf.method))
        orders = [range(k, count)] + ([range(k, -1, -1)] if self.kept is None and k > 0 else [])
        for order in orders:
            frames = [self.sources[i] for i in order]
            for tracked in track(frames, start_labels, params=tracking, device=self.session.device):
                i = order[tracked.index]
                self.labels[i] = tracked.labels
                self._saliency(i)
                if not self.done[i]:
                    self.done[i] = True
                    yield Progress(stage, int(self.done.sum()), count, f"{self.word} {i} done")
        return self

    def _start_maps(self, seg) -> None:
        """The maps of every frame, (targets, frames, H, W): the start frame's own, the kept frames'
        from the saliency layers an earlier run left, the rest filled as the region is followed."""
        if not (self.targets and self.with_saliency):
            return
        count, shape = len(self.sources), self.sources[0].shape
        self.maps = np.zeros((len(self.targets), count, *shape), np.float32)
        for t, target in enumerate(self.targets):
            if target in self._earlier_maps:
                self.maps[t] = self._earlier_maps[target]
        if seg is not None:
            self.maps[:, self.start] = seg.maps
        self.have_maps = np.zeros(count, bool)
        self.have_maps[self.start] = seg is not None
        self.have_maps[: self.start] = self.kept is not None and len(self._earlier_maps) == len(self.targets)

    def _saliency(self, i: int) -> None:
        """Frame i's maps for its saliency layers (a classifier pass, no CRF), so the slider shows
        what the classifier sees in each frame. They do not steer the tracking: the labels are the
        ones the clip job of the command line and the API carries (core/video/clip.py tracks on the
        flow and each frame's edges), and an unsure classifier would pull them off the object."""
        if self.maps is None or self.have_maps[i]:
            return
        segment = self.params.segment
        saliency_only = replace(
            segment,
            saliency=replace(segment.saliency, targets=tuple(self.targets)),
            crf=replace(segment.crf, method=NO_CRF),
        )
        self.maps[:, i] = self.session.segment(self.sources[i], saliency_only).result().maps
        self.have_maps[i] = True

    def result(self):
        """The clip's Segmentation: labels and maps with the frame axis, the start frame's class scores."""
        from napari_partial_style.core.segment.segmentation import Segmentation

        labels = self.labels.astype(np.uint8 if self.labels.max() < 256 else np.uint16)
        maps = self.maps if self.maps is not None else np.zeros((0, *self.labels.shape), np.float32)
        seg = self.segmentation
        if seg is None:
            return Segmentation(maps, labels, None, list(self.targets), [], None, [])
        return Segmentation(maps, labels, None, seg.targets, seg.target_ids, seg.scores, seg.classes, seg.threshold)

    def summary(self) -> str:
        """What the labels now hold, for the status line."""
        done, count, word = int(self.done.sum()), len(self.sources), self.word
        if done == count:
            return f"the region followed through {count} {word}s from {word} {self.start}"
        return f"{done} of {count} {word}s have labels (the rest as they were)"


def _stack_labels(viewer, layer, shape: tuple[int, ...]):
    """The newest `<content> labels` layer with the clip's shape (an earlier run's, maybe painted), else None."""
    from napari.layers import Labels

    base = names.base_name(layer.name)
    found = [
        lyr
        for lyr in viewer.layers
        if isinstance(lyr, Labels) and names.is_labels(base, lyr.name) and np.shape(lyr.data) == shape
    ]
    return found[-1] if found else None


def _listed(frames: list[int]) -> str:
    """ "0, 3, 7" (the first ten, then "...")."""
    return ", ".join(map(str, frames[:10])) + (", ..." if len(frames) > 10 else "")


def _classes_of(labels_layer) -> list[str]:
    """The target classes a labels layer's values stand for (its features' class names, background first)."""
    classes = labels_layer.features.get("class") if len(labels_layer.features) else None
    return [str(c) for c in list(classes)[1:]] if classes is not None else []
