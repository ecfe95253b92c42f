"""The rules between a job's stages, in one place.

Which pixels each style reaches (every target, a target class or a label value), how a blend's
styles mix, the masked method's soft guides, the CRF's probability of a region and how several
regions' scores combine. `Session.run` (the CLI, batches, evaluate, sweeps) and the napari docks
(stage by stage) call these, so a job put together in napari computes what `run` computes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.images import SourceImage, as_source_image, target_mask
from napari_partial_style.core.params import CompositeParams
from napari_partial_style.core.style.regions import StyleRegion

Image = np.ndarray | SourceImage
Blend = Sequence[tuple[Image, float]]  # style images and their weights
Mix = list[tuple[SourceImage, float]]
EVERY_TARGET = ""  # the selector of a style for every target


@dataclass(frozen=True)
class JobRegion(StyleRegion):
    """A job's style region with the label values it covers (for the CRF's probability of it)."""

    values: tuple[int, ...] = ()


def source(image: Image, name: str) -> SourceImage:
    return image if isinstance(image, SourceImage) else as_source_image(image, name=name)


def style_mix(style: Image | Blend, what: str) -> Mix:
    """One style, or a blend's checked images and weights (each finite and above 0)."""
    if isinstance(style, (np.ndarray, SourceImage)):
        return [(source(style, what), 1.0)]
    pairs = list(style)
    if not pairs:
        raise InputError(f"{what}: a blend needs at least one (image, weight) pair.")
    mix = []
    for index, (image, weight) in enumerate(pairs, start=1):
        if not (isinstance(weight, (int, float)) and np.isfinite(weight) and weight > 0):
            raise InputError(f"{what}: blend weight {weight!r} of style {index} must be a finite number above 0.")
        mix.append((source(image, f"{what} #{index}"), float(weight)))
    return mix


def styles_of(style: Image | Blend | Mapping[str | int, Image | Blend] | None) -> list[tuple[str, Mix]]:
    """(region selector, mix) pairs; EVERY_TARGET selects every target. A style is one image or a
    blend: a list of (image, weight) pairs; a mapping gives each target class or label value its own."""
    if style is None:
        return []
    if isinstance(style, Mapping):
        if not style:
            raise InputError("give at least one style.")
        return [(str(key), style_mix(value, f"style for {key}")) for key, value in style.items()]
    return [(EVERY_TARGET, style_mix(style, "style"))]


def each_style(region: StyleRegion, change: Callable[[SourceImage], SourceImage]) -> StyleRegion:
    """The region with `change` applied to each of its style images (a blend's too)."""
    return replace(region, style=change(region.style), blend=tuple((change(s), w) for s, w in region.blend))


def style_images(region: StyleRegion) -> list[SourceImage]:
    return [region.style, *(s for s, _ in region.blend)]


def _region(mix: Mix, mask: np.ndarray, name: str, values: tuple[int, ...]) -> JobRegion:
    (first, weight), *rest = mix
    return JobRegion(first, mask, name, weight=weight, blend=tuple(rest), values=values)


def regions_of(
    styles: list[tuple[str, Mix]],
    labels: np.ndarray,
    shape: tuple[int, int],
    mask: np.ndarray | None = None,
    targets: list[str] | None = None,
    label_values: tuple[int, ...] = (),
    labels_name: str = "labels",
    skip_empty: bool = False,
) -> list[JobRegion]:
    """Each style's region and its label values on an image of `shape`: `mask` (the job's region)
    for a single style for every target, else
    the label value its selector names (a target class of the segmentation, or a number). With
    `skip_empty` a value with no pixel here is left out instead of refused (a slice may have none)."""
    if len(styles) == 1 and styles[0][0] == EVERY_TARGET:
        values = label_values or tuple(range(1, len(targets) + 1)) if targets else label_values
        return [_region(styles[0][1], mask, "all targets", values)]
    regions = []
    for selector, mix in styles:
        if selector.isdigit():
            value = int(selector)
        elif targets is not None and selector.lower() in (t.lower() for t in targets):
            value = [t.lower() for t in targets].index(selector.lower()) + 1
        else:
            known = f"this job's targets are {', '.join(targets)}" if targets else "painted labels have no names"
            raise InputError(
                f"style region {selector!r} is neither a label value nor a target class ({known}); "
                "use CLASS=STYLE with a target class or N=STYLE with a label value."
            )
        region = target_mask(labels, shape, f"{labels_name} for {selector}", (value,), allow_empty=skip_empty)
        if region.any():
            regions.append(_region(mix, region, selector, (value,)))
    return regions


def region_probability(probabilities: np.ndarray, values: Sequence[int]) -> np.ndarray:
    """The CRF's probability (K+1 marginals, background first) that a pixel is one of `values`."""
    chosen = sorted({int(v) for v in values if 0 < int(v) < len(probabilities)})
    return probabilities[chosen].sum(axis=0)


def guides(
    regions: list[JobRegion], probabilities: np.ndarray | None, crf_edge: float, method: str
) -> list[StyleRegion]:
    """The regions as the style stage sees them: masked's guides take the CRF soft edge too."""
    from napari_partial_style.core.composite import crf_edge_alpha

    if not crf_edge or method != "masked" or probabilities is None:
        return list(regions)
    return [
        replace(
            r,
            mask=crf_edge_alpha(
                r.mask.astype(np.float32), r.mask, region_probability(probabilities, r.values), crf_edge
            ),
        )
        for r in regions
    ]


def segmented_mask(labels: np.ndarray, targets: list[str], params: CompositeParams) -> np.ndarray:
    """The pixels a segmentation gives the chosen label values (every target by default)."""
    values = params.label_values or range(1, len(targets) + 1)
    mask = np.isin(labels, list(values))
    if not mask.any():
        raise InputError(
            f"the CRF labelled no pixel as {', '.join(targets)}: the background won everywhere. "
            "Raise the background exponent (--bg-alpha 2 or 4), keep --calibrate otsu, or paint the region "
            "and pass --labels."
        )
    return mask


def combined_scores(regions: Sequence[StyleRegion], each: list[dict[str, Any]]) -> dict[str, Any]:
    """One region's scores as they are; several regions' means, their classes and each one's scores."""
    if len(each) == 1:
        return each[0]
    means = {key: round(float(np.mean([s[key] for s in each])), 4) for key in ("pixel_accuracy", "mean_iu")}
    return {
        **means,
        "expected_class": ", ".join(s["expected_class"] for s in each),
        "regions": {r.name: s for r, s in zip(regions, each)},
    }
