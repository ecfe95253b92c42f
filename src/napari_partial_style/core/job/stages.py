"""The job's stages as generators over a `Runtime`: each checks its inputs at the door, yields
progress and returns its result. The pipeline (core/job/pipeline.py) and `api.Session` call these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import SourceImage
from napari_partial_style.core.job.rules import each_style, source, style_images
from napari_partial_style.core.job.runtime import Runtime
from napari_partial_style.core.params import CompositeParams, CRFParams, SegmentParams, StyleParams
from napari_partial_style.core.segment.prompts import Prompts, check_prompts
from napari_partial_style.core.style.regions import StyleRegion, has_region, region_coverage, with_style_region

Image = np.ndarray | SourceImage


def check_map(array: np.ndarray | None, shape: tuple[int, int], what: str) -> None:
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


def check_classes(segment: SegmentParams) -> None:
    """Named targets and subtracted classes exist: an unknown one fails now, not after VGG16 loads."""
    from napari_partial_style.core.segment.classifier import class_names
    from napari_partial_style.core.segment.targets import check_named

    check_named(class_names(segment.classifier), segment.saliency.targets, segment.saliency.subtract)


def segment(rt: Runtime, image: Image, params: SegmentParams, prompts: Prompts | None = None):
    """DCSM saliency maps and CRF labels of `image` (a Segmentation at its resolution), the CRF
    obeying `prompts`."""
    from napari_partial_style.core.segment.segmentation import segment_stage

    image = source(image, "image")
    check_classes(params)
    if prompts:
        check_prompts(prompts, image.shape)
    model = yield from rt.classifier(params.classifier)
    return (yield from segment_stage(model, image, params, rt.size_for(image.shape), rt.device, prompts=prompts))


def recrf(
    rt: Runtime,
    image: Image,
    maps: np.ndarray,
    targets: Sequence[str],
    crf: CRFParams,
    prompts: Prompts | None = None,
    work_maps: np.ndarray | None = None,
):
    """New labels from saliency maps already computed (T×H×W at the image's size); no network runs.
    The CRF obeys `prompts`; `work_maps` (the maps at the working size, as the segmentation made
    them) spare their resizing and give exactly the labels a full segmentation gives."""
    from napari_partial_style.core.images import working_shape
    from napari_partial_style.core.segment.segmentation import Segmentation, labels_from_maps, resize_stack

    image = source(image, "image")
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3 or maps.shape[1:] != image.shape or len(maps) != len(targets):
        raise InputError(
            f"give one saliency map per target at the image's size {image.shape}; "
            f"got {maps.shape} for {len(targets)} target(s)."
        )
    if not np.isfinite(maps).all():
        raise InputError("the saliency maps contain NaN or infinite values; replace them (or segment again).")
    if prompts:
        check_prompts(prompts, image.shape, targets)
    shape = working_shape(image.shape, rt.size_for(image.shape))
    if work_maps is None or work_maps.shape != (len(maps), *shape):
        work_maps = resize_stack(maps, shape)
    labels, probabilities = yield from labels_from_maps(
        image.resized(shape), work_maps, crf, image.shape, rt.device, prompts, list(targets)
    )
    return Segmentation(maps, labels, probabilities, list(targets), [], None, [], work_maps=work_maps)


def classes_at(rt: Runtime, image: Image, point: tuple[float, float], segment: SegmentParams, count: int):
    """The classes the classifier sees at `point` (row, column in the image's pixels), best first."""
    from napari_partial_style.core.images import working_shape
    from napari_partial_style.core.segment.point_class import classes_at as at

    image = source(image, "image")
    model = yield from rt.classifier(segment.classifier)
    shape = working_shape(image.shape, rt.size_for(image.shape))
    scale = shape[0] / image.shape[0]
    return at(model, image.resized(shape), (point[0] * scale, point[1] * scale), rt.device, count)


def style_regions_of(content: SourceImage, style, mask: np.ndarray | None) -> list[StyleRegion]:
    """One style image (with `mask`) or a list of StyleRegions, each checked against the content."""
    if isinstance(style, (np.ndarray, SourceImage)):
        regions = [StyleRegion(source(style, "style"), mask)]
    else:
        regions = [
            replace(
                r,
                style=source(r.style, f"style {r.name}".strip()),
                blend=tuple((source(s, f"style {r.name}".strip()), w) for s, w in r.blend),
            )
            for r in style
        ]
    for region in regions:
        check_map(region.mask, content.shape, f"the mask of {region.name or 'the region'}")
    return regions


def stylize(
    rt: Runtime,
    content: Image,
    regions: list[StyleRegion],
    params: StyleParams,
    segment_params: SegmentParams | None = None,
    preview_every: int = 0,
    start: Image | None = None,
    temporal=None,
):
    """The content with its regions in their styles (a `Stylized`, at the content's resolution);
    `temporal` (core/video/temporal.py's TemporalTarget) pulls the region towards a clip's previous result."""
    from napari_partial_style.core.progress import map_events
    from napari_partial_style.core.runtime.device import result_size
    from napari_partial_style.core.style import colors
    from napari_partial_style.core.style.pyramid import PyramidRequest, stylize_regions

    content = source(content, "content")
    start = None if start is None else source(start, "start")
    found: dict[int, str] = {}
    if params.style_region:
        regions, found = yield from _select_style_regions(rt, regions, params.style_region, segment_params)
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
        if temporal is not None:
            temporal = replace(temporal, previous=colors.luminance_image(source(temporal.previous, "previous")).rgb)
    net = yield from rt.style_network(params)
    first = rt.size_for(content.shape)
    final = result_size(params.max_size, rt.device, content.shape)
    request = PyramidRequest(
        net, optimised, regions, params, rt.device, min(first, final), final, preview_every, start, temporal
    )
    stage = stylize_regions(request)
    if optimised is not content:  # previews in the content's colours too, as the result will be
        coloured = colors.in_content_chroma(content)
        stage = map_events(stage, lambda e: e if e.preview is None else replace(e, preview=coloured(e.preview)))
    stylized = yield from stage
    if optimised is not content:
        stylized.image = colors.with_content_chroma(stylized.image, optimised, content)
    stylized.style_regions = chosen
    return stylized


def _select_style_regions(rt: Runtime, regions: list[StyleRegion], which: str, segment: SegmentParams | None):
    """The regions with each style image that has no region of its own limited to its region of
    class `which` ("auto": its top class), and {id(new image): class name}."""
    from napari_partial_style.core.segment.style_region import style_region_stage

    segment = segment or SegmentParams()
    model = yield from rt.classifier(segment.classifier)
    done: dict[int, SourceImage] = {}
    found: dict[int, str] = {}
    for region in regions:
        for image in style_images(region):
            if id(image) in done or has_region(image):
                continue
            mask, klass = yield from style_region_stage(
                model, image, which, segment, rt.size_for(image.shape), rt.device
            )
            done[id(image)] = with_style_region(image, mask)
            found[id(done[id(image)])] = klass
    return [each_style(r, lambda s: done.get(id(s), s)) for r in regions], found


def compositing(
    content: Image,
    stylized: np.ndarray,
    mask: np.ndarray,
    params: CompositeParams,
    probability: np.ndarray | None = None,
):
    """The stylized region pasted into the content, and the alpha used; events only while
    `smooth` runs. `probability` is the CRF's probability of the region, which `crf_edge` needs."""
    from napari_partial_style.core.composite import (
        check_region_survives,
        composite,
        crf_edge_alpha,
        edge_aware,
        feather_alpha,
        smoothed,
    )

    content = source(content, "content")
    stylized = source(stylized, "stylized").native  # also refuses NaN, which would paste black; gray: 3 channels
    if stylized.shape[:2] != content.shape:
        raise InputError(
            f"the stylized image is {stylized.shape[1]}×{stylized.shape[0]} but the content is "
            f"{content.shape[1]}×{content.shape[0]}; stylize this content."
        )
    check_map(mask, content.shape, "the mask")
    check_map(probability, content.shape, "the CRF's probability")
    check_region_survives(mask, params)
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


def scorer(rt: Runtime, segment: SegmentParams, expect: str | None, style: Image | None, shape: tuple[int, int]):
    """The classifier and the expected class, resolved before any long work."""
    from napari_partial_style.core.segment.scoring import expected_id

    if expect is None and style is None:
        raise InputError("name the expected class, or give the style image so its top class is used.")
    model = yield from rt.classifier(segment.classifier)
    style = None if style is None else source(style, "style")
    return model, expected_id(model, expect, style, rt.size_for(shape), rt.device)


def score(
    rt: Runtime,
    model,
    expected: int,
    composite: SourceImage,
    mask: np.ndarray,
    segment: SegmentParams,
    original_targets: Sequence[str],
):
    """Segment the composite again and score whether `mask` now reads as class `expected`; the
    scores with the re-segmentation under "rescored_labels"."""
    from napari_partial_style.core.segment.scoring import score_stage
    from napari_partial_style.core.segment.targets import resolve_class

    targets = [resolve_class(t, model.classes) for t in original_targets if t in model.classes]
    scores, labels = yield from score_stage(
        model, composite, mask, expected, targets, segment, rt.size_for(composite.shape), rt.device
    )
    return {**scores, "rescored_labels": labels}


# what the step docks ask of the rules, so that no dock holds one -------------------------------
def regions_by_label(styles, labels: np.ndarray, shape: tuple[int, int], labels_name: str) -> list[StyleRegion]:
    """Each label value's style (`styles`: {value: image or blend}) and its pixels here; a value with
    no pixel is left out (a slice of a stack may have none)."""
    from napari_partial_style.core.job.rules import regions_of, styles_of

    return regions_of(styles_of(styles), labels, shape, labels_name=labels_name, skip_empty=True)
