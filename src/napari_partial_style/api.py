"""The public Python API: the one way the CLI, the napari widgets and scripts reach the core.

A `Session` holds what jobs share: the device, the working size rule, where pretrained weights are
looked for, and the loaded networks (cached per process). Its stages, `segment`, `recrf`,
`stylize`, `score` and `run` (all of them, in order), each return a `Stage`: iterate it for
progress events (a worker or a progress bar does, and may stop between any two), or call
`.result()` to run it to the end. `composite` is instant and returns its array directly.

    from napari_partial_style.api import Session
    from napari_partial_style.core.params import JobParams

    result = Session().run(content, style, JobParams()).result(print)
    result.save("cup.pstyle")

Images are numpy arrays (H×W, H×W×3 or H×W×4; uint8, uint16 or float in [0, 1]) or SourceImages;
results come back at the content's resolution and in its dtype. Nothing here imports Qt.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import SourceImage
from napari_partial_style.core.job import pipeline, stages
from napari_partial_style.core.job.document import JobDocument
from napari_partial_style.core.job.record import job_result
from napari_partial_style.core.job.result import JobResult
from napari_partial_style.core.job.rules import Blend
from napari_partial_style.core.job.rules import source as _source
from napari_partial_style.core.job.runtime import Runtime
from napari_partial_style.core.params import (
    CompositeParams,
    CRFParams,
    JobParams,
    ScoreParams,
    SegmentParams,
    SessionParams,
    StyleParams,
)
from napari_partial_style.core.progress import Progress, drain
from napari_partial_style.core.segment.prompts import Prompt, Prompts
from napari_partial_style.core.style.regions import StyleRegion

T = TypeVar("T")
Image = np.ndarray | SourceImage

__all__ = [
    "JobDocument",
    "JobParams",
    "JobResult",
    "Prompt",
    "Prompts",
    "Session",
    "Stage",
    "StyleRegion",
    "Sweep",
    "run",
]


class Stage(Generic[T]):
    """A stage not yet run: iterate it for `Progress` events (`yield from` gives its result), or
    call `result()`. Stopping the iteration stops the work between two steps."""

    def __init__(self, generator: Generator[Progress, None, T]) -> None:
        self._generator = generator

    def __iter__(self) -> Iterator[Progress]:
        return self._generator

    def result(self, on_progress: Callable[[Progress], Any] | None = None) -> T:
        """Run to the end, passing each event to `on_progress`; the stage's result."""
        return drain(self._generator, on_progress)


def _stage(method: Callable[..., Generator[Progress, None, T]]) -> Callable[..., Stage[T]]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Stage[T]:
        return Stage(method(*args, **kwargs))

    return wrapper


@dataclass
class Sweep:
    """A sweep's contact sheet (uint8 RGB, one labelled tile per weight) and each weight's job."""

    sheet: np.ndarray
    jobs: list[JobResult]
    weights: list[float]


def sweep_job(params: JobParams, weight: float) -> JobParams:
    """One job of a sweep: `params` at this style weight, at most SWEEP_SIZE px."""
    from napari_partial_style.core.job.contact_sheet import SWEEP_SIZE

    style = replace(params.style, style_weight=weight, max_size=min(params.style.max_size or SWEEP_SIZE, SWEEP_SIZE))
    return replace(params, style=style)


class Session:
    """Device, working size, weight lookup and loaded networks, shared by the jobs run through it
    (a door to core/job: `document` and `compute` are the job as a document; the other stages run
    one stage on arrays).

    `weights` maps a weight key ("vgg16", "vgg19") to an explicit file; `weights_folder` (napari's
    setting) is searched before $NAPARI_PARTIAL_STYLE_WEIGHTS and torch's hub cache."""

    def __init__(
        self,
        params: SessionParams | None = None,
        weights: dict[str, str | Path] | None = None,
        weights_folder: str | Path | None = None,
    ) -> None:
        if params is not None and not isinstance(params, SessionParams):
            raise InputError(f"Session takes SessionParams (or nothing), not {type(params).__name__}.")
        if weights is not None and not (
            isinstance(weights, Mapping) and all(isinstance(f, (str, Path)) for f in weights.values())
        ):
            raise InputError(f"weights must map a weight key to a file, e.g. {{'vgg19': PATH}}, not {_kind(weights)}.")
        if weights_folder is not None and not isinstance(weights_folder, (str, Path)):
            raise InputError(f"weights_folder must be a folder's path, not {_kind(weights_folder)}.")
        self.runtime = Runtime(params, weights, [Path(weights_folder)] if weights_folder else [])

    @property
    def params(self) -> SessionParams:
        return self.runtime.params

    @property
    def device(self):
        return self.runtime.device

    def size_for(self, shape: tuple[int, int]) -> int:
        """The working long side for an image of `shape`: the session's, else the device's default."""
        return self.runtime.size_for(_shape(shape))

    def find_weights(self, needed: Sequence[Any]) -> Generator[Progress, None, dict[str, Path]]:
        """Every file in `needed` found, or downloaded with progress, before any work starts."""
        return self.runtime.find_weights(needed)

    def classifier(self, source: str) -> Generator[Progress, None, Any]:
        """The classifier of `source` ("imagenet" or a checkpoint path), loaded once."""
        return self.runtime.classifier(source)

    def style_network(self, style: StyleParams) -> Generator[Progress, None, Any]:
        """The style network truncated after the last layer the style objective reads."""
        return self.runtime.style_network(style)

    # the job as a document -------------------------------------------------------------------
    def document(
        self,
        content: Image,
        style: Image | Blend | Mapping[str | int, Image | Blend] | None = None,
        params: JobParams | None = None,
        labels: np.ndarray | None = None,
        inputs: dict[str, str] | None = None,
        prompts: Prompts | None = None,
    ) -> JobDocument:
        """A job document with this session's settings: edit it (`edit_labels`, `add_prompt`,
        `edit_prompts`, `set_params`, `set_style`, `undo`, `redo`), ask `compute` for its results,
        check `stale()`. `prompts` correct the segmentation (its CRF obeys them)."""
        params = _job_params(params)
        _check_style(style, "style")
        if inputs is not None and not isinstance(inputs, Mapping):
            raise InputError(f"inputs must map an input's name to where it came from, not {_kind(inputs)}.")
        prompts = _typed(prompts, Prompts, "prompts")
        content = _image(content, "content")
        return JobDocument.of(content, style, replace(params, session=self.params), labels, inputs, prompts)

    @_stage
    def compute(self, job: JobDocument, want: str = "score", given: Sequence[str] = (), preview_every: int = 0):
        """Bring `job`'s results up to `want` ("segment", "stylize", "composite" or "score") up to
        date, rerunning only what is missing or stale; the stages that ran. Stages in `given` are
        used as they are (a stylized image the user chose); stylize yields a preview every
        `preview_every` steps."""
        _document(job, "compute")
        if job.params.session != self.params:
            raise InputError("this document was made with other session settings; compute it with a Session of them.")
        if not (isinstance(given, (list, tuple)) and all(isinstance(g, str) for g in given)):
            raise InputError(f"given must be a list of stage names, not {_kind(given)}.")
        if not (
            isinstance(preview_every, (int, np.integer)) and not isinstance(preview_every, bool) and preview_every >= 0
        ):
            raise InputError(f"preview_every must be a whole number of 0 or more, not {preview_every!r}.")
        return (yield from pipeline.compute(job, self.runtime, want, tuple(given), int(preview_every)))

    def result(self, job: JobDocument) -> JobResult:
        """The document's results and record as a JobResult (`.save(path)` writes its bundle)."""
        return job_result(_document(job, "result"), self.runtime)

    # stages on arrays ------------------------------------------------------------------------
    @_stage
    def segment(self, image: Image, params: SegmentParams | None = None):
        """DCSM saliency maps and CRF labels of `image` (a Segmentation at its resolution)."""
        return (
            yield from stages.segment(self.runtime, _image(image, "image"), _typed(params, SegmentParams, "params"))
        )

    @_stage
    def recrf(
        self,
        image: Image,
        maps: np.ndarray,
        targets: Sequence[str],
        crf: CRFParams | None = None,
        prompts: Prompts | None = None,
    ):
        """New labels from saliency maps already computed (T×H×W at the image's size), e.g. after
        changing the CRF settings or adding a prompt (the CRF obeys `prompts`); no network runs."""
        targets = _names(targets, "targets")
        maps = _array(maps, "maps")
        if not targets:
            raise InputError("recrf needs the targets' names, one per saliency map; got none.")
        crf, prompts = _typed(crf, CRFParams, "crf"), _typed(prompts, Prompts, "prompts")
        return (yield from stages.recrf(self.runtime, _image(image, "image"), maps, targets, crf, prompts))

    @_stage
    def classes_at(
        self, image: Image, point: tuple[float, float], segment: SegmentParams | None = None, count: int = 3
    ):
        """The classes the classifier sees at `point` (row, column in the image's pixels), best
        first with their scores: a click picks a target instead of a typed class name."""
        segment = _typed(segment, SegmentParams, "segment")
        if not (isinstance(point, (tuple, list, np.ndarray)) and len(point) == 2 and all(map(_is_number, point))):
            raise InputError(f"point must be (row, column), two finite numbers, not {_kind(point)}.")
        if not (isinstance(count, (int, np.integer)) and not isinstance(count, bool) and count >= 1):
            raise InputError(f"count must be a whole number of 1 or more, not {count!r}.")
        return (yield from stages.classes_at(self.runtime, _image(image, "image"), point, segment, count))

    @_stage
    def stylize(
        self,
        content: Image,
        style: Image | Sequence[StyleRegion],
        params: StyleParams | None = None,
        mask: np.ndarray | None = None,
        preview_every: int = 0,
        start: Image | None = None,
        segment: SegmentParams | None = None,
    ):
        """The content with its region (`mask`, at the content's size) in the style, at the content's
        resolution and dtype (up to `params.max_size`). `style` is one image, or a list of
        `StyleRegion`s, each a style and its own mask. With `params.method` "masked" pixels
        beyond the region's free band keep their values; "composite" stylizes the region's box
        (`crop`) or the whole frame. No mask: the whole frame, either way. `start` (e.g. the previous frame's result)
        replaces the initial image, for temporal stability. With `params.style_region`, each style
        image's statistics come from its region of that class (segmented with `segment`'s settings)
        unless it has a region of its own (an alpha: see `with_style_region`)."""
        params = _typed(params, StyleParams, "params")
        segment = _typed(segment, SegmentParams, "segment")
        content = _image(content, "content")
        start = None if start is None else _image(start, "start")
        if not isinstance(style, (np.ndarray, SourceImage)) and not (
            isinstance(style, (list, tuple)) and all(isinstance(r, StyleRegion) for r in style)
        ):
            raise InputError(f"style must be an image (a numpy array) or a list of StyleRegions, not {_kind(style)}.")
        if (
            not (isinstance(preview_every, (int, np.integer)) and not isinstance(preview_every, bool))
            or preview_every < 0
        ):
            raise InputError(
                f"preview_every must be a whole number of 0 or more (0: no previews), not {preview_every!r}."
            )
        regions = stages.style_regions_of(content, style, None if mask is None else _array(mask, "mask"))
        stylized = yield from stages.stylize(self.runtime, content, regions, params, segment, preview_every, start)
        return stylized.image

    @_stage
    def sweep(
        self,
        content: Image,
        style: Image | Blend,
        weights: Sequence[float],
        params: JobParams | None = None,
        labels: np.ndarray | None = None,
        inputs: dict[str, str] | None = None,
        finished: dict[float, JobResult] | None = None,
        done: Callable[[float, JobResult], None] | None = None,
    ):
        """The same job (`run`) at each style weight, each made at most SWEEP_SIZE px (long side of
        the frame) so a look takes seconds to a minute, and a labelled contact sheet of the region
        side by side: how a user tunes the weight before the full-size job. The region is found once
        (segmented by the first job unless `labels` are given) so every tile shows the same region.
        `finished` holds jobs made before (an interrupted sweep's bundles, read back): they are not
        run again. `done(weight, job)` is called as each new job finishes: the CLI saves its bundle
        then, so an interruption keeps the finished ones. Napari's Preview sweep shows the sheet."""
        from napari_partial_style.core.job.contact_sheet import contact_sheet
        from napari_partial_style.core.progress import relabel

        params = _job_params(params)
        if not isinstance(weights, (list, tuple, np.ndarray)):
            raise InputError(f"weights must be a list of style weights, not {_kind(weights)}.")
        weights = list(dict.fromkeys(weights))
        if not weights or any(not (_is_number(w) and w >= 0) for w in weights):
            raise InputError(f"give one or more style weights, each a finite number of 0 or more (got {weights}).")
        jobs, captions = [], []
        for weight in weights:
            result = (finished or {}).get(weight)
            if result is None:
                result = yield from relabel(
                    iter(self.run(content, style, sweep_job(params, weight), labels, inputs)), f"weight {weight:g}:"
                )
                if done is not None:
                    done(weight, result)
            if labels is None:  # the first job's region for all
                labels = result.mask.astype(np.uint8)
            jobs.append(result)
            score = f", mean IU {result.scores['mean_iu']:.2f}" if result.scores is not None else ""
            captions.append(f"style weight {weight:g}{score}")
        return Sweep(contact_sheet([j.composite for j in jobs], captions, jobs[-1].mask), jobs, weights)

    @staticmethod
    def composite(
        content: Image,
        stylized: np.ndarray,
        mask: np.ndarray,
        params: CompositeParams | None = None,
        probability: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The stylized region pasted into the content, and the alpha used: `compositing` run to
        its end (milliseconds, or seconds per Mpx with `smooth`)."""
        return Session.compositing(content, stylized, mask, params, probability).result()

    @staticmethod
    @_stage
    def compositing(
        content: Image,
        stylized: np.ndarray,
        mask: np.ndarray,
        params: CompositeParams | None = None,
        probability: np.ndarray | None = None,
    ) -> Generator[Progress, None, tuple[np.ndarray, np.ndarray]]:
        """`composite` as a Stage: events only while `smooth` runs (one per conjugate-gradient
        iteration), so a GUI can run it in a worker and cancel it. `probability` is the CRF's
        probability of the region, which `crf_edge` needs."""
        params = _typed(params, CompositeParams, "params")
        mask = _array(mask, "mask")
        probability = None if probability is None else _array(probability, "probability")
        return (
            yield from stages.compositing(
                _image(content, "content"), _image(stylized, "stylized"), mask, params, probability
            )
        )

    @staticmethod
    def target_mask(
        labels: np.ndarray,
        shape: tuple[int, int],
        params: CompositeParams | None = None,
        name: str = "labels",
        allow_empty: bool = False,
    ) -> np.ndarray:
        """The region to change: the labels' nonzero pixels, or those in `params.label_values`."""
        from napari_partial_style.core.images import target_mask

        values = _typed(params, CompositeParams, "params").label_values or None
        return target_mask(_array(labels, name), _shape(shape), name=name, values=values, allow_empty=allow_empty)

    @_stage
    def score(
        self,
        composite: Image,
        mask: np.ndarray,
        style: Image | None = None,
        segment: SegmentParams | None = None,
        score: ScoreParams | None = None,
        original_targets: Sequence[str] = (),
    ):
        """Segment the composite again with the settings that made the labels (`segment`) and score
        whether `mask` now reads as the expected class (the style's top class unless named)."""
        composite = _image(composite, "composite")
        style = None if style is None else _image(style, "style")
        stages.check_map(_array(mask, "mask"), composite.shape, "the mask")
        original_targets = _names(original_targets, "original_targets")
        segment, score = _typed(segment, SegmentParams, "segment"), _typed(score, ScoreParams, "score")
        model, expected = yield from stages.scorer(self.runtime, segment, score.expect, style, composite.shape)
        return (yield from stages.score(self.runtime, model, expected, composite, mask, segment, original_targets))

    @_stage
    def run(
        self,
        content: Image,
        style: Image | Blend | Mapping[str | int, Image | Blend] | None = None,
        params: JobParams | None = None,
        labels: np.ndarray | None = None,
        inputs: dict[str, str] | None = None,
        prompts: Prompts | None = None,
    ):
        """The whole job: segment (unless `labels` are given), stylize (unless `style` is None),
        composite, score. `style` is one image for every target, or a mapping from a target class
        (or a label value) to its own style; a style may be a blend, [(image, weight), ...], whose
        Gram targets are mixed by weight. The segmentation's CRF obeys `prompts`. Every weight file
        is found before any work starts."""
        job = self.document(content, style, params, labels, inputs, prompts)
        yield from pipeline.compute(job, self.runtime)
        return job_result(job, self.runtime)

    # clips -----------------------------------------------------------------------------------
    def clip(
        self,
        frames: Any,
        style: Image | Blend | Mapping[int, Image | Blend],
        params: JobParams | None = None,
        labels: np.ndarray | None = None,
        corrections: Mapping[int, np.ndarray] | None = None,
    ) -> Stage:
        """One region of a clip restyled in every frame (core/video/clip.py's run_clip): `frames`
        is what `core.video.frames.open_frames` takes (a T×H×W×3 array, a folder of frames, a
        multi-page TIFF, a video file); `labels` are frame 0's (else frame 0 is segmented for the
        params' targets), `corrections` {frame: labels} are carried forward from their frame.
        Iterating yields Progress events and a ClipFrame per finished frame; the result is a ClipRecord."""
        from napari_partial_style.core.video.clip import run_clip

        _check_style(style, "style")
        return Stage(run_clip(self, frames, style, _job_params(params), labels, corrections))

    def save_clip(
        self,
        frames: Any,
        style: Image | Blend | Mapping[int, Image | Blend],
        path: str | Path,
        params: JobParams | None = None,
        labels: np.ndarray | None = None,
        corrections: Mapping[int, np.ndarray] | None = None,
        overwrite: bool = False,
        video: str | Path | None = None,
        on_progress: Callable[[Progress], Any] | None = None,
    ) -> Path:
        """`clip(...)` written to the bundle at `path` a frame at a time (every layer with a frame
        axis), and its composites to `video` when given; the bundle's path."""
        from napari_partial_style.core.video.clip_bundle import write_clip

        stage = self.clip(frames, style, params, labels, corrections)
        return write_clip(iter(stage), path, style, None, overwrite, video, on_progress)[0]


def _typed(value: Any, kind: type, name: str) -> Any:
    """`value`, or `kind()` for None; another type is one line naming the argument."""
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise InputError(f"{name} must be {kind.__name__} (or None), not {type(value).__name__}.")
    return value


def _job_params(params: Any) -> JobParams:
    return _typed(params, JobParams, "params")


def _kind(value: Any) -> str:
    """The value itself when short and plain, else its type's name."""
    plain = value is None or isinstance(value, (int, float, str, tuple)) and len(repr(value)) <= 40
    return repr(value) if plain else type(value).__name__


def _image(value: Any, name: str) -> SourceImage:
    if value is None or isinstance(value, (Mapping, str, bytes, Path)):
        raise InputError(f"{name} must be an image (a numpy array or a SourceImage), not {_kind(value)}.")
    return _source(value, name)


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and np.isfinite(value)
    )


def _array(value: Any, name: str) -> np.ndarray:
    """`value` as an array of numbers; anything else is one line naming the argument."""
    if value is None or isinstance(value, (Mapping, str, bytes)):
        raise InputError(f"{name} must be an array, not {_kind(value)}.")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise InputError(f"{name} must be an array of numbers ({error}).") from None
    if array.dtype.kind not in "biuf":
        raise InputError(f"{name} must be an array of numbers, not of {array.dtype}.")
    return array


def _shape(shape: Any) -> tuple[int, int]:
    if not (
        isinstance(shape, (tuple, list)) and len(shape) == 2 and all(isinstance(v, (int, np.integer)) for v in shape)
    ):
        raise InputError(f"shape must be (height, width), two whole numbers, not {_kind(shape)}.")
    return int(shape[0]), int(shape[1])


def _names(names: Any, name: str) -> list[str]:
    if not (isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names)):
        raise InputError(f"{name} must be a list of class names, not {_kind(names)}.")
    return list(names)


def _document(job: Any, method: str) -> JobDocument:
    if not isinstance(job, JobDocument):
        raise InputError(f"{method} takes a JobDocument (Session.document), not {type(job).__name__}.")
    return job


def _check_style(style: Any, name: str, mapping: bool = True) -> None:
    """A style argument is an image, a blend [(image, weight), ...], or a mapping of them."""
    if isinstance(style, Mapping) and mapping:
        for key, value in style.items():
            _check_style(value, f"{name} for {key}", mapping=False)
    elif not (
        style is None
        or isinstance(style, (np.ndarray, SourceImage))
        or isinstance(style, (list, tuple))
        and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in style)
    ):
        raise InputError(
            f"{name} must be an image (a numpy array), a blend [(image, weight), ...] or a mapping of "
            f"them, not {_kind(style)}; read an image file first."
        )


def run(
    content: Image,
    style: Image | Blend | Mapping[str | int, Image | Blend] | None = None,
    params: JobParams | None = None,
    labels: np.ndarray | None = None,
    **session: Any,
) -> Stage[JobResult]:
    """`Session(params.session, **session).run(...)`: the whole job in one call."""
    params = _job_params(params)
    return Session(params.session, **session).run(content, style, params, labels)
