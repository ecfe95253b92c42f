"""L-BFGS for style transfer whose memory stays on the device.

The same iteration as `torch.optim.LBFGS(lr=1, line_search_fn=None)` with early stopping off (the
references' setting), one loss evaluation per step. torch's two-loop recursion reads a number back
from the GPU for each history entry (up to 200 waits a step); here the history lives in two
(m, n) buffers and the direction comes from the compact representation of Byrd, Nocedal and
Schnabel (1994; Nocedal & Wright eq. 7.24), a handful of matrix-vector products and a small
triangular solve. One value is read per step: whether the new pair satisfies sᵀy > 1e-10, as
torch checks before keeping it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

CURVATURE_EPS = 1e-10


class DeviceLBFGS:
    def __init__(self, param: torch.Tensor, history_size: int = 100, lr: float = 1.0) -> None:
        self.param = param
        self.m = history_size
        self.lr = lr
        self.n = param.numel()
        self.S = self.Y = None  # (m, n) ring buffers, allocated on first use
        self.SY = self.YY = None  # (m, m) s_iᵀy_j and y_iᵀy_j in storage order
        self.order: list[int] = []  # storage slots, oldest pair first
        self.gamma = None
        self.n_iter = 0
        self.d = self.t = self.prev_g = None

    def zero_grad(self) -> None:
        self.param.grad = None

    def step(self, closure: Callable[[], torch.Tensor]) -> torch.Tensor:
        loss = closure()
        g = self.param.grad.detach().reshape(-1)
        self.n_iter += 1
        if self.n_iter == 1:
            d = -g
            t = torch.clamp(1.0 / g.abs().sum(), max=1.0) * self.lr
        else:
            s = self.d * self.t
            y = g - self.prev_g
            ys = y.dot(s)
            if ys > CURVATURE_EPS:
                self._remember(s, y, ys)
            d = -self._inverse_hessian_times(g)
            t = self.lr
        self.prev_g = g.clone()
        self.d, self.t = d, t
        with torch.no_grad():
            self.param.add_((d * t).view_as(self.param))
        return loss

    def _remember(self, s: torch.Tensor, y: torch.Tensor, ys: torch.Tensor) -> None:
        if self.S is None:
            self.S = torch.empty((self.m, self.n), device=s.device, dtype=s.dtype)
            self.Y = torch.empty_like(self.S)
            self.SY = torch.zeros((self.m, self.m), device=s.device, dtype=torch.float64)
            self.YY = torch.zeros_like(self.SY)
        slot = self.order.pop(0) if len(self.order) == self.m else len(self.order)
        self.order.append(slot)
        rows = len(self.order)  # slots 0..rows-1 are in use, before and after the ring wraps
        self.S[slot] = s
        self.Y[slot] = y
        self.SY[slot, :rows] = (self.Y[:rows] @ s).double()
        self.SY[:rows, slot] = (self.S[:rows] @ y).double()
        yy = (self.Y[:rows] @ y).double()
        self.YY[slot, :rows] = yy
        self.YY[:rows, slot] = yy
        self.gamma = ys / y.dot(y)

    def _inverse_hessian_times(self, g: torch.Tensor) -> torch.Tensor:
        """H g with H = γI + [S γY] M [Sᵀ; γYᵀ], pairs in chronological order."""
        if not self.order:
            return g
        rows = len(self.order)
        S, Y = self.S[:rows], self.Y[:rows]
        index = torch.tensor(self.order, device=g.device)
        gamma = self.gamma.double()
        a = (S @ g).double()[index]
        b = gamma * (Y @ g).double()[index]
        sy = self.SY[index][:, index]
        r = torch.triu(sy)
        middle = torch.diag(torch.diagonal(sy)) + gamma * self.YY[index][:, index]
        r_inv_a = torch.linalg.solve_triangular(r, a[:, None], upper=True)
        p = torch.linalg.solve_triangular(r.T, middle @ r_inv_a - b[:, None], upper=False)[:, 0]
        q = -r_inv_a[:, 0]
        weights_s = torch.zeros(rows, device=g.device, dtype=torch.float64)
        weights_y = torch.zeros_like(weights_s)
        weights_s[index] = p
        weights_y[index] = gamma * q
        return self.gamma * g + weights_s.to(g.dtype) @ S + weights_y.to(g.dtype) @ Y
