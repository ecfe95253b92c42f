"""Ours in the click protocol: the project's CRF with prompts (issue 38), through the public API.

Each click is a point prompt of CLICK_RADIUS px on the scene's one target, positive or negative;
after each click `Session.recrf` reruns the CRF from the saliency map the job already holds, with
all the prompts so far, at the CRF's defaults. Kept apart from the protocol and the anchors: it is
the one part that needs the prompts API (`core.segment.prompts`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from click_protocol import CLICK_RADIUS, Click, Predict

TARGET = "object"


def available() -> str | None:
    """None when the prompts API is there, else the one line saying why ours cannot run."""
    try:
        from napari_partial_style.core.segment.prompts import Prompt, Prompts  # noqa: F401
    except ImportError as error:
        return f"ours skipped: the prompts API is missing ({error}); merge the prompts branch first"
    return None


def _prompts(clicks: Sequence[Click]):
    from napari_partial_style.core.segment.prompts import Prompt, Prompts

    prompts = Prompts()
    for click in clicks:
        point = Prompt(click.positive, TARGET, np.array([click.row]), np.array([click.col]), radius=CLICK_RADIUS)
        prompts = prompts.add(point) or prompts  # add may return the new Prompts or grow this one
    return prompts


def labels(session, image: np.ndarray, saliency: np.ndarray, clicks: Sequence[Click]) -> np.ndarray:
    """The object's mask after the CRF with these clicks as prompts (none: the saliency alone)."""
    segmentation = session.recrf(image, saliency[None], [TARGET], prompts=_prompts(clicks)).result()
    return segmentation.labels == 1


def crf_with_prompts(image: np.ndarray, saliency: np.ndarray) -> Predict:
    from napari_partial_style.api import Session

    session = Session()
    return lambda clicks: labels(session, image, saliency, clicks)
