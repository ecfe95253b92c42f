"""A ReLU whose backward pass can switch to guided backpropagation (Springenberg et al. 2015).

Guided rule, as DCSM's `vl_nnrelu2`: dx = dy · [x > 0] · [dy > 0]. Written in the
forward/setup_context form with a generated vmap rule, so `autograd.grad(is_grads_batched=True)`
can push many seeds through it at once.
"""

from __future__ import annotations

import contextlib
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
    """nn.ReLU in normal use; guided backprop while `guided` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.guided = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return GuidedReLUFunction.apply(x) if self.guided else torch.relu(x)


@contextlib.contextmanager
def guided(model: nn.Module) -> Iterator[nn.Module]:
    """Switch every SwitchableReLU of `model` to the guided rule for the duration."""
    relus = [m for m in model.modules() if isinstance(m, SwitchableReLU)]
    for relu in relus:
        relu.guided = True
    try:
        yield model
    finally:
        for relu in relus:
            relu.guided = False
