"""Neural style transfer at one size as a generator: one L-BFGS loss evaluation per step, for any objective."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.params import StyleParams
from napari_partial_style.core.progress import Progress, StageGenerator
from napari_partial_style.core.style.lbfgs import DeviceLBFGS
from napari_partial_style.core.style.objectives import StyleImage, StyleObjective, Target, get
from napari_partial_style.core.tensors import to_array, to_tensor

STAGE = "style"


def make_optimizer(image: torch.Tensor, history_size: int) -> DeviceLBFGS:
    """L-BFGS as the references use it (lr 1, no line search, no early stopping), one loss
    evaluation per step, with its memory on the device (core/style/lbfgs.py)."""
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
    every size and pyramid level."""

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


def style_stats(
    net: Callable[[torch.Tensor], dict[str, torch.Tensor]], mix: Mix, params: StyleParams, device: torch.device
) -> Any:
    """The objective's statistics of a style (a blend: each image with its share and, where only
    part of it is the material, its guide), computed once and shared by every tile of a level."""
    styles = [StyleImage(to_tensor(image, device), share, _tensor(guide, device)) for image, share, guide in mix]
    return get(params.objective).style_stats(net, styles, params)


def _tensor(array: np.ndarray | None, device: torch.device) -> torch.Tensor | None:
    """H×W (a guide) or H×W×3 (an image) float array as a 1×C×H×W tensor; None stays None."""
    if array is None:
        return None
    return to_tensor(array[..., None] if array.ndim == 2 else array, device)


def optimise(
    net: Callable[[torch.Tensor], dict[str, torch.Tensor]],
    content: np.ndarray,
    targets: Sequence[tuple[Any, np.ndarray | None]],
    params: StyleParams,
    device: torch.device,
    steps: int,
    start: np.ndarray | None = None,
    outside: np.ndarray | None = None,
    free: np.ndarray | None = None,
    counter: tuple[int, int] | None = None,
    message: str = "",
    preview_every: int = 0,
    framed: Callable[[np.ndarray], np.ndarray] | None = None,
) -> StageGenerator[np.ndarray]:
    """Stylize `content` (H×W×3 in [0, 1]) with each (style statistics, guide) target under
    `params.objective` (the statistics from `style_stats`).

    Guides, `outside` (the rest of the frame, which keeps its own statistics) and `free` (pixels
    allowed to change) are H×W floats in [0, 1] at the content's size. Each step is one iteration
    of the same L-BFGS as one long `torch.optim.LBFGS` call (a test checks the two follow the same
    path), so the loop can yield progress, and every `preview_every` steps a preview (passed through
    `framed`), and stop between any two steps. `counter` (steps done before, steps in all) numbers
    the events when this is one level of several; `start` replaces the initial image.
    """
    torch.manual_seed(params.seed)
    content_t = to_tensor(content, device)
    objective = get(params.objective).make(
        net,
        content_t,
        [Target(stats, _tensor(guide, device)) for stats, guide in targets],
        params,
        _tensor(outside, device),
    )
    if params.realism and min(content_t.shape[-2:]) >= 3:  # a frame narrower than its 3×3 windows has no term
        objective = WithRealism(objective, content_t, params.realism)
    image = to_tensor(start, device) if start is not None else initial_image(content_t, params.init, params.seed)
    free_t = _tensor(free, device)
    if free_t is not None:  # what may not change starts as the content, whatever the start
        image = torch.where(free_t > 0, image, content_t)
    image.requires_grad_(True)
    optimizer = make_optimizer(image, params.history_size)
    record: dict[str, torch.Tensor] = {}
    closure = make_closure(objective, image, optimizer, record, free_t)
    done, total = counter or (0, steps)
    for step in range(1, steps + 1):
        optimizer.step(closure)
        values = as_floats(record)
        if not math.isfinite(values["total"]):
            raise InputError(
                f"the style loss became {values['total']} at step {step} (content {values['content']:.3g}, "
                f"style {values['style']:.3g}); lower --style-weight or --content-weight, or try --init noise."
            )
        preview = None
        if preview_every and (step % preview_every == 0 or step == steps):
            preview = to_array(image)
            preview = framed(preview) if framed is not None else preview
        yield Progress(STAGE, done + step, total, message=message, values=values, preview=preview)
    return to_array(image)
