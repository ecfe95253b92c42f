"""Neural style transfer as a generator: one L-BFGS loss evaluation per step, for any objective."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from napari_partial_style.core.errors import InputError
from napari_partial_style.core.params import StyleParams
from napari_partial_style.core.progress import Progress, StageGenerator
from napari_partial_style.core.style.lbfgs import DeviceLBFGS
from napari_partial_style.core.style.objectives import StyleObjective, get
from napari_partial_style.core.tensors import to_array, to_tensor


def make_optimizer(image: torch.Tensor, history_size: int) -> DeviceLBFGS:
    """L-BFGS as the references use it (lr 1, no line search, no early stopping), one loss
    evaluation per step, with its memory on the device (core/style/lbfgs.py)."""
    return DeviceLBFGS(image, history_size=history_size)


def make_closure(objective: StyleObjective, image: torch.Tensor, optimizer: DeviceLBFGS | torch.optim.Optimizer,
                 record: dict[str, torch.Tensor]) -> Callable[[], torch.Tensor]:
    """One loss evaluation with gradient; the loss parts of the latest call go into `record`
    as detached tensors, so the closure itself never waits for the GPU."""

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        parts = objective.parts(image)
        total = sum(parts.values())
        total.backward()
        record.clear()
        record.update({name: value.detach() for name, value in parts.items()})
        record["total"] = total.detach()
        return total

    return closure


def as_floats(record: dict[str, torch.Tensor]) -> dict[str, float]:
    """The recorded loss parts as floats, read from the device in one transfer."""
    values = torch.stack(list(record.values())).tolist()
    return dict(zip(record, values))


def initial_image(content: torch.Tensor, params: StyleParams, start: torch.Tensor | None = None) -> torch.Tensor:
    if start is not None:
        return start.clone()
    if params.init == "noise":
        generator = torch.Generator(device="cpu").manual_seed(params.seed)
        return torch.rand(content.shape, generator=generator).to(content.device)
    return content.clone()


def stylize(net: Callable[[torch.Tensor], dict[str, torch.Tensor]], content: np.ndarray, style: np.ndarray,
            params: StyleParams, device: torch.device, mask: np.ndarray | None = None,
            preview_every: int = 0, start: np.ndarray | None = None) -> StageGenerator[np.ndarray]:
    """Stylize `content` (H×W×3 in [0, 1]) with `style` under `params.objective`.

    Each step is one iteration of the same L-BFGS as one long `torch.optim.LBFGS` call (a test
    checks the two follow the same path), so the loop can yield progress and, every
    `preview_every` steps, a preview, and stop between any two steps. `start` (the content's size)
    replaces the initial image: the previous frame's result, for a stable time series.
    """
    torch.manual_seed(params.seed)
    content_t = to_tensor(content, device)
    objective = get(params.objective).make(net, content_t, to_tensor(style, device), params, mask)
    start_t = None if start is None else to_tensor(start, device)
    image = initial_image(content_t, params, start_t).requires_grad_(True)
    optimizer = make_optimizer(image, params.history_size)
    record: dict[str, torch.Tensor] = {}
    closure = make_closure(objective, image, optimizer, record)
    for step in range(1, params.steps + 1):
        optimizer.step(closure)
        values = as_floats(record)
        if not math.isfinite(values["total"]):
            raise InputError(
                f"the style loss became {values['total']} at step {step} (content {values['content']:.3g}, "
                f"style {values['style']:.3g}); lower --style-weight or --content-weight, or try --init noise."
            )
        preview = None
        if preview_every and (step % preview_every == 0 or step == params.steps):
            preview = to_array(image)
        yield Progress("style", step, params.steps, values=values, preview=preview)
    return to_array(image)
