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
from napari_partial_style.core.job import USER_TARGET, JobResult, Stopwatch, record_of
from napari_partial_style.core.job_plan import (
    Blend,
    combined_scores,
    each_style,
    guides,
    region_probability,
    regions_of,
    segmented_mask,
    style_images,
    styles_of,
)
from napari_partial_style.core.job_plan import source as _source
from napari_partial_style.core.params import (
    CompositeParams,
    CRFParams,
    JobParams,
    ScoreParams,
    SegmentParams,
    SessionParams,
    StyleParams,
)
from napari_partial_style.core.progress import Progress, drain, map_events
from napari_partial_style.core.style.regions import StyleRegion, has_region, region_coverage, with_style_region

T = TypeVar("T")
Image = np.ndarray | SourceImage

__all__ = ["JobParams", "JobResult", "Session", "Stage", "StyleRegion", "Sweep", "run"]


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
    from napari_partial_style.core.contact_sheet import SWEEP_SIZE

    style = replace(params.style, style_weight=weight, max_size=min(params.style.max_size or SWEEP_SIZE, SWEEP_SIZE))
    return replace(params, style=style)


class Session:
    """Device, working size, weight lookup and loaded networks, shared by the jobs run through it.

    `weights` maps a weight key ("vgg16", "vgg19") to an explicit file; `weights_folder` (napari's
    setting) is searched before $NAPARI_PARTIAL_STYLE_WEIGHTS and torch's hub cache."""

    def __init__(
        self,
        params: SessionParams | None = None,
        weights: dict[str, str | Path] | None = None,
        weights_folder: str | Path | None = None,
    ) -> None:
        from napari_partial_style.core.runtime.device import get_device

        self.params = params or SessionParams()
        self.device = get_device(self.params.device)
        self.weights = dict(weights or {})
        self.folders = [Path(weights_folder)] if weights_folder else []

    def size_for(self, shape: tuple[int, int]) -> int:
        """The working long side for an image of `shape`: the session's, else the device's default."""
        from napari_partial_style.core.runtime.device import working_size

        return working_size(self.params.size, self.device, shape)

    # networks --------------------------------------------------------------------------------
    def find_weights(self, needed: Sequence[Any]) -> Generator[Progress, None, dict[str, Path]]:
        """Every file in `needed` found, or downloaded with progress, before any work starts."""
        from napari_partial_style.core.io import weights

        return (yield from weights.ensure_steps(needed, self.weights, self.folders))

    def classifier(self, source: str) -> Generator[Progress, None, Any]:
        """The classifier of `source` ("imagenet" or a checkpoint path), loaded once."""
        from napari_partial_style.core.segment.classifier import load_classifier, required_weights

        found = yield from self.find_weights(required_weights(source))
        yield Progress("load", 0, 1, message="loading the classifier")
        model = load_classifier(source, self.device, found)
        yield Progress("load", 1, 1, message="classifier loaded")
        return model

    def style_network(self, style: StyleParams) -> Generator[Progress, None, Any]:
        """The style network (VGG19 unless `style.network` names another) truncated after the last
        layer the style objective reads."""
        from napari_partial_style.core.style import networks
        from napari_partial_style.core.style.objectives import get

        network = networks.get(style.network)
        found = yield from self.find_weights(list(network.WEIGHTS))
        yield Progress("load", 0, 1, message=f"loading the style network {style.network}")
        net = network.load(found, tuple(get(style.objective).TAPS), self.device)
        yield Progress("load", 1, 1, message=f"style network {style.network} loaded")
        return net

    # stages ----------------------------------------------------------------------------------
    @_stage
    def segment(self, image: Image, params: SegmentParams | None = None):
        """DCSM saliency maps and CRF labels of `image` (a Segmentation at its resolution)."""
        from napari_partial_style.core.segment.segmentation import segment_stage

        image = _source(image, "image")
        params = params or SegmentParams()
        _check_classes(params)
        model = yield from self.classifier(params.classifier)
        return (yield from segment_stage(model, image, params, self.size_for(image.shape), self.device))

    @_stage
    def recrf(self, image: Image, maps: np.ndarray, targets: Sequence[str], crf: CRFParams | None = None):
        """New labels from saliency maps already computed (T×H×W at the image's size), e.g. after
        changing the CRF settings; no network runs."""
        from napari_partial_style.core.images import working_shape
        from napari_partial_style.core.segment.segmentation import Segmentation, labels_from_maps, resize_stack

        image = _source(image, "image")
        maps = np.asarray(maps, dtype=np.float32)
        if maps.ndim != 3 or maps.shape[1:] != image.shape or len(maps) != len(targets):
            raise InputError(
                f"give one saliency map per target at the image's size {image.shape}; "
                f"got {maps.shape} for {len(targets)} target(s)."
            )
        if not np.isfinite(maps).all():
            raise InputError("the saliency maps contain NaN or infinite values; replace them (or segment again).")
        shape = working_shape(image.shape, self.size_for(image.shape))
        labels, probabilities = yield from labels_from_maps(
            image.resized(shape), resize_stack(maps, shape), crf or CRFParams(), image.shape, self.device
        )
        return Segmentation(maps, labels, probabilities, list(targets), [], None, [])

    @_stage
    def classes_at(
        self, image: Image, point: tuple[float, float], segment: SegmentParams | None = None, count: int = 3
    ):
        """The classes the classifier sees at `point` (row, column in the image's pixels), best
        first with their scores: a click picks a target instead of a typed class name."""
        from napari_partial_style.core.images import working_shape
        from napari_partial_style.core.segment.point_class import classes_at

        image = _source(image, "image")
        model = yield from self.classifier((segment or SegmentParams()).classifier)
        shape = working_shape(image.shape, self.size_for(image.shape))
        scale = shape[0] / image.shape[0]
        return classes_at(model, image.resized(shape), (point[0] * scale, point[1] * scale), self.device, count)

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
        return (yield from self._stylize(content, style, params, mask, preview_every, start, segment)).image

    def _stylize(
        self,
        content: Image,
        style: Image | Sequence[StyleRegion],
        params: StyleParams | None,
        mask: np.ndarray | None,
        preview_every: int = 0,
        start: Image | None = None,
        segment: SegmentParams | None = None,
    ):
        from napari_partial_style.core.runtime.device import result_size
        from napari_partial_style.core.style import colors
        from napari_partial_style.core.style.pyramid import PyramidRequest, stylize_regions

        content = _source(content, "content")
        params = params or StyleParams()
        if isinstance(style, (np.ndarray, SourceImage)):
            regions = [StyleRegion(_source(style, "style"), mask)]
        else:
            regions = [
                replace(
                    r,
                    style=_source(r.style, f"style {r.name}".strip()),
                    blend=tuple((_source(s, f"style {r.name}".strip()), w) for s, w in r.blend),
                )
                for r in style
            ]
        for region in regions:
            _check_map(region.mask, content.shape, f"the mask of {region.name or 'the region'}")
        start = None if start is None else _source(start, "start")
        found: dict[int, str] = {}
        if params.style_region:
            regions, found = yield from self._select_style_regions(
                regions, params.style_region, segment or SegmentParams()
            )
        chosen = [
            [{"class": found.get(id(s)), "coverage": round(region_coverage(s), 4)} for s in style_images(r)]
            for r in regions
        ]
        optimised = content
        if params.colors == "match":
            regions = [each_style(r, lambda s, r=r: colors.match_colors(s, content, r.mask)) for r in regions]
        elif params.colors == "content":  # the transfer sees luminance only; the chroma comes back after
            optimised = colors.luminance_image(content)
            regions = [each_style(r, lambda s, r=r: colors.luminance_style(s, content, r.mask)) for r in regions]
            start = None if start is None else colors.luminance_image(start)
        net = yield from self.style_network(params)
        first = self.size_for(content.shape)
        final = result_size(params.max_size, self.device, content.shape)
        stage = stylize_regions(
            PyramidRequest(net, optimised, regions, params, self.device, min(first, final), final, preview_every, start)
        )
        if optimised is not content:  # previews in the content's colours too, as the result will be
            coloured = colors.in_content_chroma(content)
            stage = map_events(stage, lambda e: e if e.preview is None else replace(e, preview=coloured(e.preview)))
        stylized = yield from stage
        if optimised is not content:
            stylized.image = colors.with_content_chroma(stylized.image, optimised, content)
        stylized.style_regions = chosen
        return stylized

    def _select_style_regions(self, regions: list[StyleRegion], which: str, segment: SegmentParams):
        """The regions with each style image that has no region of its own limited to its region of
        class `which` ("auto": its top class), and {id(new image): class name}."""
        from napari_partial_style.core.segment.style_region import style_region_stage

        model = yield from self.classifier(segment.classifier)
        done: dict[int, SourceImage] = {}
        found: dict[int, str] = {}
        for region in regions:
            for image in style_images(region):
                if id(image) in done or has_region(image):
                    continue
                mask, klass = yield from style_region_stage(
                    model, image, which, segment, self.size_for(image.shape), self.device
                )
                done[id(image)] = with_style_region(image, mask)
                found[id(done[id(image)])] = klass
        return [each_style(r, lambda s: done.get(id(s), s)) for r in regions], found

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
        from napari_partial_style.core.contact_sheet import contact_sheet
        from napari_partial_style.core.progress import relabel

        params = params or JobParams()
        weights = list(dict.fromkeys(weights))
        if not weights or any(not (np.isfinite(w) and w >= 0) for w in weights):
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
        from napari_partial_style.core.composite import (
            composite,
            crf_edge_alpha,
            edge_aware,
            feather_alpha,
            smoothed,
        )

        content = _source(content, "content")
        params = params or CompositeParams()
        stylized = np.asarray(stylized)
        if _source(stylized, "stylized").shape != content.shape:  # also refuses NaN, which would paste black
            raise InputError(
                f"the stylized image is {stylized.shape[1]}×{stylized.shape[0]} but the content is "
                f"{content.shape[1]}×{content.shape[0]}; stylize this content."
            )
        _check_map(mask, content.shape, "the mask")
        _check_map(probability, content.shape, "the CRF's probability")
        alpha = feather_alpha(mask, params.feather, params.grow)
        if params.crf_edge:
            if probability is None:
                raise InputError(
                    f"a CRF soft edge ({params.crf_edge:g} px) needs the CRF's probabilities, and these "
                    "labels have none (painted or loaded): set the CRF soft edge to 0, or segment."
                )
            alpha = crf_edge_alpha(alpha, mask, probability, params.crf_edge)
        if params.edge_radius:
            alpha = edge_aware(alpha, content.rgb.mean(axis=2), params.edge_radius)
        if params.smooth:
            stylized = yield from smoothed(content, stylized, alpha, params.smooth)
        return composite(content, stylized, alpha), alpha

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

        values = (params or CompositeParams()).label_values or None
        return target_mask(labels, shape, name=name, values=values, allow_empty=allow_empty)

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
        composite = _source(composite, "composite")
        segment, score = segment or SegmentParams(), score or ScoreParams()
        model, expected = yield from self._scorer(segment, score, style, composite.shape)
        return (yield from self._score(model, expected, composite, mask, segment, original_targets))

    def _scorer(self, segment: SegmentParams, score: ScoreParams, style: Image | None, shape: tuple[int, int]):
        """The classifier and the expected class, resolved before any long work."""
        from napari_partial_style.core.segment.scoring import expected_id

        if score.expect is None and style is None:
            raise InputError("name the expected class, or give the style image so its top class is used.")
        model = yield from self.classifier(segment.classifier)
        style = None if style is None else _source(style, "style")
        return model, expected_id(model, score.expect, style, self.size_for(shape), self.device)

    def _score(
        self,
        model,
        expected: int,
        composite: SourceImage,
        mask: np.ndarray,
        segment: SegmentParams,
        original_targets: Sequence[str],
    ):
        from napari_partial_style.core.segment.scoring import score_stage
        from napari_partial_style.core.segment.targets import resolve_class

        targets = [resolve_class(t, model.classes) for t in original_targets if t in model.classes]
        scores, labels = yield from score_stage(
            model, composite, mask, expected, targets, segment, self.size_for(composite.shape), self.device
        )
        return {**scores, "rescored_labels": labels}

    @_stage
    def run(
        self,
        content: Image,
        style: Image | Blend | Mapping[str | int, Image | Blend] | None = None,
        params: JobParams | None = None,
        labels: np.ndarray | None = None,
        inputs: dict[str, str] | None = None,
    ):
        """The whole job: segment (unless `labels` are given), stylize (unless `style` is None),
        composite, score. `style` is one image for every target, or a mapping from a target class
        (or a label value) to its own style; a style may be a blend, [(image, weight), ...], whose
        Gram targets are mixed by weight. Every weight file is found before any work starts."""
        from napari_partial_style.core.segment.classifier import required_weights
        from napari_partial_style.core.segment.style_region import AUTO
        from napari_partial_style.core.style import networks

        params = replace(params or JobParams(), session=self.params)  # the session's own settings are used
        content = _source(content, "content")
        styles = styles_of(style)
        scoring = bool(styles) and params.score.enabled
        clock = Stopwatch()
        labels_name = f"labels ({inputs['labels']})" if inputs and "labels" in inputs else "labels"
        mask = None if labels is None else self.target_mask(labels, content.shape, params.composite, labels_name)
        needed = list(networks.get(params.style.network).WEIGHTS) if styles else []
        style_region = params.style.style_region if styles else None
        if style_region and style_region != AUTO:  # an unknown class fails now, not after the segmentation
            from napari_partial_style.core.segment.classifier import class_names
            from napari_partial_style.core.segment.targets import resolve_class

            resolve_class(style_region, class_names(params.segment.classifier))
        if labels is None:
            _check_classes(params.segment)
        if labels is None or scoring or style_region:
            needed += required_weights(params.segment.classifier)
        with clock.time("weights"):
            yield from self.find_weights(needed)
        model = None
        expected: list[int] = []
        if scoring:  # an unknown --expect fails now, not after the style transfer
            with clock.time("load classifier"):
                for _, mix in styles:  # a blend's expected class is its first style's
                    model, found = yield from self._scorer(params.segment, params.score, mix[0][0], content.shape)
                    expected.append(found)
        targets = [USER_TARGET]
        segmentation = None
        if labels is None:
            with clock.time("segment"):
                segmentation = yield from self.segment(content, params.segment)
            targets = segmentation.targets
            labels = segmentation.labels
            mask = segmented_mask(segmentation.labels, segmentation.targets, params.composite)
        result = JobResult(content=content, record={}, mask=mask, segmentation=segmentation)
        if params.composite.crf_edge and segmentation is None:
            raise InputError(
                f"a CRF soft edge ({params.composite.crf_edge:g} px) needs the CRF's probabilities, which "
                "a job with --labels has none of: drop --crf-edge or --labels."
            )
        if styles:
            regions = regions_of(
                styles,
                labels,
                content.shape,
                mask,
                targets if segmentation is not None else None,
                params.composite.label_values,
            )
            result.mask = mask = np.logical_or.reduce([r.mask for r in regions])
            probability = None
            if params.composite.crf_edge:
                probability = region_probability(segmentation.probabilities, [v for r in regions for v in r.values])
            with clock.time("style"):
                probabilities = None if segmentation is None else segmentation.probabilities
                shaped = guides(regions, probabilities, params.composite.crf_edge, params.style.method)
                stylized = yield from self._stylize(content, shaped, params.style, None, segment=params.segment)
            result.stylized = stylized.image
            with clock.time("composite"):
                yield Progress("composite", 0, 1)
                result.composite, result.alpha = yield from self.compositing(
                    content, result.stylized, mask, params.composite, probability
                )
                yield Progress("composite", 1, 1)
            result.style = regions[0].style
            if scoring:
                with clock.time("score"):
                    result.scores, result.rescored_labels = yield from self._score_regions(
                        model,
                        expected,
                        _source(result.composite, "composite"),
                        regions,
                        params.segment,
                        targets if segmentation is not None else (),
                    )
        classes = segmentation.classes if segmentation is not None else (model.classes if model is not None else None)
        result.record = record_of(
            params, self.device, self.size_for(content.shape), clock.timings, inputs or {}, targets, classes
        )
        if styles:
            from napari_partial_style.core.composite import changed_outside, seam_score

            result.record["style"] = {
                "levels": stylized.levels,
                "boxes": [list(b) for b in stylized.boxes],
                "regions": [r.name for r in regions],
                "style_regions": stylized.style_regions,
            }
            result.record["composite"] = {
                "seam_score": round(seam_score(result.composite, mask), 4),
                "seam_score_original": round(seam_score(content.native, mask), 4),
                "changed_outside_alpha": changed_outside(content.native, result.composite, result.alpha),
            }
        if segmentation is not None:
            result.record["class_scores"] = segmentation.class_scores()
        if result.scores is not None:
            result.record["scores"] = result.scores
        return result

    def _score_regions(
        self,
        model,
        expected: list[int],
        composite: SourceImage,
        regions: list[StyleRegion],
        segment: SegmentParams,
        original_targets: Sequence[str],
    ):
        """Each region scored against its style's class (combined as `combined_scores` says), and
        the first one's re-segmentation."""
        each = []
        for region, klass in zip(regions, expected):
            each.append((yield from self._score(model, klass, composite, region.mask, segment, original_targets)))
        rescored = [scores.pop("rescored_labels") for scores in each][0]
        return combined_scores(regions, each), rescored


def _check_map(array: np.ndarray | None, shape: tuple[int, int], what: str) -> None:
    """A mask or probability map lies on the image and holds finite values (None: nothing to check)."""
    if array is None:
        return
    array = np.asarray(array)
    if array.shape != tuple(shape):
        raise InputError(
            f"{what} has shape {array.shape}, but the image is {shape[1]}×{shape[0]}: give an H×W "
            f"array of shape {tuple(shape)}."
        )
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InputError(f"{what} contains NaN or infinite values; replace them first.")


def _check_classes(segment: SegmentParams) -> None:
    """Named targets and subtracted classes exist: an unknown one fails now, not after VGG16 loads."""
    from napari_partial_style.core.segment.classifier import class_names
    from napari_partial_style.core.segment.targets import check_named

    check_named(class_names(segment.classifier), segment.saliency.targets, segment.saliency.subtract)


def run(
    content: Image,
    style: Image | Blend | Mapping[str | int, Image | Blend] | None = None,
    params: JobParams | None = None,
    labels: np.ndarray | None = None,
    **session: Any,
) -> Stage[JobResult]:
    """`Session(params.session, **session).run(...)`: the whole job in one call."""
    params = params or JobParams()
    return Session(params.session, **session).run(content, style, params, labels)
