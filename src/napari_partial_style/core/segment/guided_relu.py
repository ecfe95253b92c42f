"""A ReLU whose backward pass can switch to guided backpropagation (Springenberg et al. 2015).

Guided rule, as DCSM's `vl_nnrelu2`: dx = dy · [x > 0] · [dy > 0]. Written in the
forward/setup_context form with a generated vmap rule, so `autograd.grad(is_grads_batched=True)`
can push many seeds through it at once.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch
from torch import nn


class GuidedReLUFunction(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor) -> torch.Tensor:
        return x.clamp(min=0)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad.clamp(min=0) * (x > 0).to(grad.dtype)


class SwitchableReLU(nn.Module):
    """nn.ReLU in normal use; guided backprop while any `guided` context holds it. Both forwards
    give the same values, so only the recorded backward rule depends on the mode."""

    def __init__(self) -> None:
        super().__init__()
        self.guided_depth = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return GuidedReLUFunction.apply(x) if self.guided_depth > 0 else torch.relu(x)


_depth_lock = threading.Lock()


@contextlib.contextmanager
def guided(model: nn.Module) -> Iterator[nn.Module]:
    """Switch every SwitchableReLU of `model` to the guided rule for the duration. Counted, not
    set: jobs in several threads share one cached model, and one job leaving its context must not
    switch the rule off under another that is still computing its maps."""
    relus = [m for m in model.modules() if isinstance(m, SwitchableReLU)]
    with _depth_lock:
        for relu in relus:
            relu.guided_depth += 1
    try:
        yield model
    finally:
        with _depth_lock:
            for relu in relus:
                relu.guided_depth -= 1
