"""Neural style transfer at one size as a generator: one L-BFGS loss evaluation per step, for any objective."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.nets.tensors import to_array, to_tensor
from napari_partial_style.core.params import StyleParams
from napari_partial_style.core.progress import Progress, StageGenerator
from napari_partial_style.core.style.lbfgs import DeviceLBFGS
from napari_partial_style.core.style.objectives import StyleImage, StyleObjective, Target, get

STAGE = "style"
Network = Callable[[torch.Tensor], dict[str, torch.Tensor]]  # an image to its activations by layer name


def make_optimizer(image: torch.Tensor, history_size: int) -> DeviceLBFGS:
    """L-BFGS as the references use it (lr 1, no line search, no early stopping), one loss
    evaluation per step, with its memory on the device (core/style/lbfgs.py). The image, its gradient
    and the history stay float32 at any --precision: curvature pairs are differences of gradients."""
    return DeviceLBFGS(image, history_size=history_size)


def make_closure(
    objective: StyleObjective,
    image: torch.Tensor,
    optimizer: DeviceLBFGS | torch.optim.Optimizer,
    record: dict[str, torch.Tensor],
    free: torch.Tensor | None = None,
) -> Callable[[], torch.Tensor]:
    """One loss evaluation with gradient; the loss parts of the latest call go into `record`
    as detached tensors, so the closure itself never waits for the GPU. Where `free` is 0 the
    gradient is 0, so L-BFGS (whose steps are sums of gradients) never moves those pixels."""

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        parts = objective.parts(image)
        total = sum(parts.values())
        total.backward()
        if free is not None:
            image.grad.mul_(free)
        record.clear()
        record.update({name: value.detach() for name, value in parts.items()})
        record["total"] = total.detach()
        return total

    return closure


class WithRealism:
    """An objective plus Luan et al.'s photorealism term: `weight` times the result's matting
    energy on the content's Laplacian (core/style/matting.py), per pixel, so one weight serves
    every size and pyramid level. It stays float32 at any --precision (it never enters the network's
    autocast): the energy sums small differences of neighbouring colours, which bfloat16 would lose."""

    def __init__(self, objective: StyleObjective, content: torch.Tensor, weight: float) -> None:
        from napari_partial_style.core.style.matting import MattingLaplacian

        self.objective, self.weight = objective, weight
        self.laplacian = MattingLaplacian(content[0])

    def parts(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        return {**self.objective.parts(image), "realism": self.weight * self.laplacian.energy(image[0])}


def as_floats(record: dict[str, torch.Tensor]) -> dict[str, float]:
    """The recorded loss parts as floats, read from the device in one transfer."""
    values = torch.stack(list(record.values())).tolist()
    return dict(zip(record, values))


def initial_image(content: torch.Tensor, init: str, seed: int) -> torch.Tensor:
    if init == "noise":
        generator = torch.Generator(device="cpu").manual_seed(seed)
        return torch.rand(content.shape, generator=generator).to(content.device)
    return content.clone()


Mix = Sequence[tuple[np.ndarray, float, np.ndarray | None]]  # style images (H×W×3 in [0, 1]), shares, guides (H×W)


def style_stats(net: Network, mix: Mix, params: StyleParams, device: torch.device) -> Any:
    """The objective's statistics of a style (a blend: each image with its share and, where only
    part of it is the material, its guide), computed once and shared by every tile of a level."""
    styles = [StyleImage(to_tensor(image, device), share, _tensor(guide, device)) for image, share, guide in mix]
    return get(params.objective).style_stats(net, styles, params)


def _tensor(array: np.ndarray | None, device: torch.device) -> torch.Tensor | None:
    """H×W (a guide) or H×W×3 (an image) float array as a 1×C×H×W tensor; None stays None."""
    if array is None:
        return None
    return to_tensor(array[..., None] if array.ndim == 2 else array, device)


@dataclass(frozen=True)
class LevelRequest:
    """What one optimisation at one size needs: one pyramid level, or one of its tiles.

    `content` is H×W×3 in [0, 1]; `targets` are (style statistics from `style_stats`, guide) pairs;
    guides, `outside` (the rest of the frame, which keeps its own statistics) and `free` (pixels
    allowed to change) are H×W floats in [0, 1] at the content's size; `start` replaces the initial
    image. `counter` (steps done before, steps in all) numbers the events when this is one level of
    several; every `preview_every` steps a preview is yielded, passed through `framed`.
    """

    net: Network
    content: np.ndarray
    targets: Sequence[tuple[Any, np.ndarray | None]]
    params: StyleParams
    device: torch.device
    steps: int
    start: np.ndarray | None = None
    outside: np.ndarray | None = None
    free: np.ndarray | None = None
    counter: tuple[int, int] | None = None
    message: str = ""
    preview_every: int = 0
    framed: Callable[[np.ndarray], np.ndarray] | None = None
    temporal: Any = None  # a clip's previous result at this level (core/video/temporal.py's TemporalTarget)


def optimise(request: LevelRequest) -> StageGenerator[np.ndarray]:
    """Stylize the request's content with each of its targets under `params.objective`, in one piece.

    Each step is one iteration of the same L-BFGS as one long `torch.optim.LBFGS` call (a test checks
    the two follow the same path), so the loop can yield progress and previews, and stop between any
    two steps.
    """
    params, steps = request.params, request.steps
    torch.manual_seed(params.seed)
    content = to_tensor(request.content, request.device)
    objective = _objective(request, content)
    free = _tensor(request.free, request.device)
    image = _first_image(request, content, free)
    optimizer = make_optimizer(image, params.history_size)
    record: dict[str, torch.Tensor] = {}
    closure = make_closure(objective, image, optimizer, record, free)
    done, total = request.counter or (0, steps)
    for step in range(1, steps + 1):
        optimizer.step(closure)
        values = as_floats(record)
        if not math.isfinite(values["total"]):
            raise InputError(
                f"the style loss became {values['total']} at step {step} (content {values['content']:.3g}, "
                f"style {values['style']:.3g}); lower --style-weight or --content-weight, or try --init noise."
            )
        preview = None
        if request.preview_every and (step % request.preview_every == 0 or step == steps):
            preview = to_array(image)
            preview = request.framed(preview) if request.framed is not None else preview
        yield Progress(STAGE, done + step, total, message=request.message, values=values, preview=preview)
    return to_array(image)


def _objective(request: LevelRequest, content: torch.Tensor) -> StyleObjective:
    """The request's objective on `content` (its tensor), with the photorealism term when asked."""
    params, device = request.params, request.device
    objective = get(params.objective).make(
        request.net,
        content,
        [Target(stats, _tensor(guide, device)) for stats, guide in request.targets],
        params,
        _tensor(request.outside, device),
    )
    if params.realism and min(content.shape[-2:]) >= 3:  # a frame narrower than its 3×3 windows has no term
        objective = WithRealism(objective, content, params.realism)
    if request.temporal is not None:
        from napari_partial_style.core.video.temporal import WithTemporal

        objective = WithTemporal(objective, request.temporal, device)
    return objective


def _first_image(request: LevelRequest, content: torch.Tensor, free: torch.Tensor | None) -> torch.Tensor:
    """The image L-BFGS starts from: `start`, else the init; the content wherever nothing is free."""
    params = request.params
    if request.start is not None:
        image = to_tensor(request.start, request.device)
    else:
        image = initial_image(content, params.init, params.seed)
    if free is not None:  # what may not change starts as the content, whatever the start
        image = torch.where(free > 0, image, content)
    return image.requires_grad_(True)
