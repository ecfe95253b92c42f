"""Ours in the click protocol: the project's CRF with prompts (issue 38), through the public API.

Each click is a point prompt of CLICK_RADIUS px on the scene's one target, positive or negative,
after one negative prompt on the image's frame (the background seeds every method gets);
after each click `Session.recrf` reruns the CRF from the saliency map the job already holds, with
all the prompts so far, at the CRF's defaults. Kept apart from the protocol and the anchors: it is
the one part that needs the prompts API (`core.segment.prompts`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from click_protocol import CLICK_RADIUS, Click, Predict, frame

TARGET = "object"


def available() -> str | None:
    """None when the prompts API is there, else the one line saying why ours cannot run."""
    try:
        from napari_partial_style.core.segment.prompts import Prompt, Prompts  # noqa: F401
    except ImportError as error:
        return f"ours skipped: the prompts API is missing ({error}); merge the prompts branch first"
    return None


def _prompts(shape: tuple[int, int], clicks: Sequence[Click]):
    from napari_partial_style.core.segment.prompts import Prompt, Prompts

    prompts = Prompts((Prompt(False, TARGET, *np.nonzero(frame(shape))),))
    for click in clicks:
        prompts = prompts.add(
            Prompt(click.positive, TARGET, np.array([click.row]), np.array([click.col]), CLICK_RADIUS)
        )
    return prompts


def variants() -> dict[str, dict]:
    """Ours at the CRF's defaults and, where the CRF has the prompts' appearance model (issue 38:
    measure with and without it), with that model off: name -> CRFParams changes."""
    from dataclasses import fields

    from napari_partial_style.core.params import CRFParams

    out = {"ours: CRF with prompts": {}}
    if "appearance" in {f.name for f in fields(CRFParams)}:
        out["ours, appearance model off"] = {"appearance": 0.0}
    return out


def labels(session, image: np.ndarray, saliency: np.ndarray, crf, clicks: Sequence[Click]) -> np.ndarray:
    """The object's mask after the CRF with the frame and these clicks as prompts (no click: the
    saliency and the frame)."""
    prompts = _prompts(saliency.shape, clicks)
    segmentation = session.recrf(image, saliency[None], [TARGET], crf, prompts=prompts).result()
    return segmentation.labels == 1


def crf_with_prompts(image: np.ndarray, saliency: np.ndarray, changes: dict) -> Predict:
    from napari_partial_style.api import Session
    from napari_partial_style.core.params import CRFParams

    session, crf = Session(), CRFParams(**changes)
    return lambda clicks: labels(session, image, saliency, crf, clicks)
