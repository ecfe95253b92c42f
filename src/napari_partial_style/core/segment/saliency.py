"""DCSM: Distinct Class-specific Saliency Maps (Shimoda & Yanai 2016), as method-spec A.3.

Per scale, guided backprop of the summed fc8 map of each class in K to the nine inputs of
conv3_1 ... conv5_3; |·| and a max over channels; bilinear upsampling to the canvas; for each
target, the other classes' maps subtracted pairwise with tanh(3·) normalisation; summed over
scales, layers and pairs; cropped to the image and normalised to (0, 1] with tanh(3·)/tanh(3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.nets.tensors import to_tensor
from napari_partial_style.core.params import SaliencyParams
from napari_partial_style.core.progress import Progress, StageGenerator, drain
from napari_partial_style.core.segment import thresholds
from napari_partial_style.core.segment.canvas import canvas, min_canvas
from napari_partial_style.core.segment.guided_relu import guided
from napari_partial_style.core.segment.targets import select_targets, subtraction_set

TANH_GAIN = 3.0
# Per-class gradients batched (is_grads_batched) or looped: whichever bench/bench_dcsm.py measured faster.
BATCHED_DEFAULT = {"cpu": False, "cuda": True, "mps": False}


class TappedClassifier(Protocol):
    """What DCSM needs of a network: the fc8 logit map and the tapped feature tensors."""

    classes: list[str]
    score_kind: str
    mean: tuple[float, float, float]  # the colour its input normalisation maps to zero
    min_input: int  # the smallest input side it classifies (px)
    grid: tuple[float, float]  # its logit cells on the input: spacing and the first cell's centre (px)

    def forward_taps(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]: ...

    def scores(self, logits: torch.Tensor) -> torch.Tensor: ...


@dataclass
class SaliencyResult:
    maps: np.ndarray  # (T, h, w) float32 in (0, 1], one per target, at the input's size
    targets: list[int]  # class indices of the maps
    subtracted: list[int]  # the set K (targets first)
    scores: np.ndarray  # (scales, classes)
    classes: list[str]
    threshold: float  # the class score a target was held to

    @property
    def target_names(self) -> list[str]:
        return [self.classes[i] for i in self.targets]


def default_threshold(model: TappedClassifier) -> float:
    return thresholds.default_threshold(model.score_kind)


def scaled(canvas_t: torch.Tensor, scale: float) -> torch.Tensor:
    side = round(scale * canvas_t.shape[-1])
    if side == canvas_t.shape[-1]:
        return canvas_t
    return F.interpolate(
        canvas_t, size=(side, side), mode="bilinear", align_corners=False, antialias=side < canvas_t.shape[-1]
    ).clamp(0, 1)


def scores_per_scale(model: TappedClassifier, canvas_t: torch.Tensor, scales: Sequence[float]) -> np.ndarray:
    """(scales, classes) scores, without building any graph."""
    with torch.no_grad():
        return np.stack([model.scores(model.forward_taps(scaled(canvas_t, s))[0])[0].cpu().numpy() for s in scales])


def tap_gradient_steps(
    logits: torch.Tensor, taps: list[torch.Tensor], classes: Sequence[int], batched: bool, label: str = ""
) -> StageGenerator[list[torch.Tensor]]:
    """∂(Σ_xy fc8_k)/∂tap for each k in `classes`: one (K, C_l, h_l, w_l) tensor per tap.

    Looped, it yields after each class's backward pass, so a job can stop between two of them.
    """
    if batched:
        seeds = torch.zeros((len(classes), *logits.shape), device=logits.device, dtype=logits.dtype)
        for row, k in enumerate(classes):
            seeds[row, :, k] = 1.0
        grads = torch.autograd.grad(logits, taps, grad_outputs=seeds, is_grads_batched=True)
        yield Progress("saliency", len(classes), len(classes), message=label)
        return [g[:, 0] for g in grads]
    per_class = []
    for done, k in enumerate(classes, start=1):
        per_class.append(torch.autograd.grad(logits[:, k].sum(), taps, retain_graph=True))
        yield Progress("saliency", done, len(classes), message=label)
    return [torch.cat([per_class[i][layer] for i in range(len(classes))]) for layer in range(len(taps))]


def tap_gradients(
    logits: torch.Tensor, taps: list[torch.Tensor], classes: Sequence[int], batched: bool
) -> list[torch.Tensor]:
    """`tap_gradient_steps` run to its end."""
    return drain(tap_gradient_steps(logits, taps, classes, batched))


def distinct_maps(grads: list[torch.Tensor], size: int, mapped: Sequence[int]) -> torch.Tensor:
    """Σ over layers and other classes of relu⁺(tanh(3·N(U_c − U_c'))), for the K rows in `mapped`.

    A pair whose difference is nowhere positive is skipped (the original code would flip its sign).
    """
    k = grads[0].shape[0]
    total = torch.zeros((len(mapped), size, size), device=grads[0].device)
    others = ~torch.eye(k, dtype=torch.bool, device=total.device)[list(mapped)]
    for g in grads:
        reduced = g.abs().amax(dim=1, keepdim=True)
        up = F.interpolate(reduced, size=(size, size), mode="bilinear", align_corners=False)[:, 0]
        diff = up[list(mapped), None] - up[None]  # (mapped, K, size, size)
        peak = diff.amax(dim=(2, 3))
        valid = others & (peak > 0)
        norm = torch.tanh(TANH_GAIN * diff / peak.clamp(min=1e-30)[..., None, None]).clamp(min=1e-20)
        total += (norm * valid[..., None, None]).sum(dim=1)
    return total


def finish(accumulated: np.ndarray) -> np.ndarray:
    """A / max A, then tanh(3·)/tanh(3), floored at 1e-20: the final DCSM normalisation."""
    scaled_map = accumulated / accumulated.max()
    return np.maximum(np.tanh(TANH_GAIN * scaled_map) / math.tanh(TANH_GAIN), 1e-20).astype(np.float32)


def _no_evidence(name: str, where: str = "") -> InputError:
    return InputError(
        f"the saliency map of {name!r} is all zero{where}: the classifier finds no evidence "
        "that sets it apart from the other classes. Pick another target, or change --subtract."
    )


def dcsm(
    model: TappedClassifier,
    rgb: np.ndarray,
    params: SaliencyParams,
    device: torch.device,
    batched: bool | None = None,
    empty_ok: bool = False,
) -> StageGenerator[SaliencyResult]:
    """Saliency maps of the target classes for `rgb` (h×w×3 in [0, 1], the working size); per-class
    gradients `batched` or looped (None: whichever is faster on the device). A map with no evidence
    at all is an error, unless `empty_ok` (scoring: that class then simply labels nothing)."""
    h, w = rgb.shape[:2]
    side = max(h, w, min_canvas(model.min_input, params.scales))
    board, (top, left) = canvas(rgb, side, model.mean)
    board_t = to_tensor(board, device)
    batched = BATCHED_DEFAULT.get(device.type, False) if batched is None else batched
    yield Progress("saliency", 0, 1, message="scoring classes")
    # Named targets and subtracted classes need no scores to choose them: each scale's scores then come from
    # the logits of its gradient pass (guided backprop changes only the backward), one forward pass fewer.
    named = bool(params.targets and params.subtract)
    scores = None if named else scores_per_scale(model, board_t, params.scales)
    threshold = default_threshold(model) if params.threshold is None else params.threshold
    targets = select_targets(scores, model.classes, threshold, params.targets)
    k_set = subtraction_set(targets, scores, model.classes, params.subtract)
    yield Progress("saliency", 1, 1, message=f"targets: {', '.join(model.classes[t] for t in targets)}")
    accumulated = torch.zeros((len(targets), side, side), device=device)
    seen_scores = []
    for index, scale in enumerate(params.scales):
        mapped = [row for row, t in enumerate(targets) if params.targets or scores[index, t] > threshold]
        if not mapped:
            continue
        with guided(model):
            x = scaled(board_t, scale).requires_grad_(True)
            logits, taps = model.forward_taps(x)
            if named:
                seen_scores.append(model.scores(logits.detach())[0].cpu().numpy())
            grads = yield from tap_gradient_steps(logits, taps, k_set, batched, label=f"scale {scale:g}")
        found = distinct_maps(grads, side, mapped)
        del logits, taps, grads
        if not empty_ok:  # the later scales would take as long again before the same refusal
            blank = [row for row, m in zip(mapped, found) if not m[top : top + h, left : left + w].max() > 0]
            if blank:
                raise _no_evidence(model.classes[targets[blank[0]]], f" at scale {scale:g}")
        accumulated[mapped] += found
    crop = accumulated[:, top : top + h, left : left + w].cpu().numpy()
    maps = []
    for row, target in enumerate(targets):
        if not crop[row].max() > 0 and empty_ok:
            maps.append(np.full(crop[row].shape, 1e-20, np.float32))
            continue
        if not crop[row].max() > 0:
            raise _no_evidence(model.classes[target])
        maps.append(finish(crop[row]))
    scores = np.stack(seen_scores) if named else scores
    return SaliencyResult(np.stack(maps), targets, k_set, scores, list(model.classes), threshold)
