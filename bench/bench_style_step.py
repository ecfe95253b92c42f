"""Style-transfer step time, as ratios measured side by side in one run.

- overhead = seconds per L-BFGS step of `core.style.transfer.optimise` / seconds of one forward+backward of the
  truncated VGG19 (the floor is 1.0: a step needs one evaluation);
- speed-up = seconds per step of a plain reference loop (untruncated VGG19 `features`, Gatys' layers
  tapped by forward hooks, same loss and optimiser) / seconds per step of ours.

Weights are random: time does not depend on their values. Usage:
    python bench/bench_style_step.py [--size 256] [--steps 10] [--warmup 100] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torchvision

from napari_partial_style.core.nets.tensors import to_tensor
from napari_partial_style.core.nets.vgg import Normalize, TappedVGG, layer_names
from napari_partial_style.core.params import StyleParams
from napari_partial_style.core.runtime.device import get_device
from napari_partial_style.core.style.objectives import StyleImage, Target
from napari_partial_style.core.style.objectives.gatys import TAPS as STYLE_TAPS
from napari_partial_style.core.style.objectives.gatys import GatysObjective as StyleObjective
from napari_partial_style.core.style.objectives.gatys import style_stats
from napari_partial_style.core.style.transfer import LevelRequest, make_closure, make_optimizer, optimise
from napari_partial_style.core.style.transfer import style_stats as stats_of_arrays


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class HookedFullVGG(torch.nn.Module):
    """The plain way: all of torchvision's VGG19 `features`, taps collected by forward hooks."""

    def __init__(self) -> None:
        super().__init__()
        self.normalize = Normalize()
        self.features = torchvision.models.vgg19(weights=None).features
        for module in self.features:
            if isinstance(module, torch.nn.ReLU):
                module.inplace = False
        self.out: dict[str, torch.Tensor] = {}
        for name, module in zip(layer_names("vgg19"), self.features):
            if name in STYLE_TAPS:
                module.register_forward_hook(lambda m, i, o, name=name: self.out.__setitem__(name, o))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        self.out = {}
        self.features(self.normalize(x))
        return dict(self.out)


def torch_lbfgs(image: torch.Tensor, history_size: int) -> torch.optim.LBFGS:
    """The plain way: torch's own L-BFGS stepped one evaluation at a time."""
    return torch.optim.LBFGS(
        [image], lr=1, max_iter=1, tolerance_grad=-1, tolerance_change=-1, history_size=history_size
    )


def step_time(net, content, style, steps, device, optimizer_factory=make_optimizer, warmup: int = 1) -> float:
    params = StyleParams(steps=steps)
    objective = StyleObjective(net, content, [Target(style_stats(net, [StyleImage(style)], params))], params)
    image = content.clone().requires_grad_(True)
    optimizer = optimizer_factory(image, params.history_size)
    closure = make_closure(objective, image, optimizer, {})
    return timed(lambda: optimizer.step(closure), device, steps, warmup)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--warmup",
        type=int,
        default=100,
        help="steps before timing: 100 fills L-BFGS's history, the steady state of a real run",
    )
    args = parser.parse_args()
    device = get_device(args.device)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    content_np = rng.random((args.size, args.size, 3)).astype(np.float32)
    style_np = rng.random((args.size, args.size, 3)).astype(np.float32)
    content, style = to_tensor(content_np, device), to_tensor(style_np, device)

    ours = TappedVGG("vgg19", STYLE_TAPS).to(device).eval().requires_grad_(False)
    if device.type == "cpu":
        ours.channels_last()  # as core.nets.vgg.tapped_vgg runs it there
    plain = HookedFullVGG().to(device).eval().requires_grad_(False)

    x = content.clone().requires_grad_(True)

    def forward_backward():
        x.grad = None
        sum(t.sum() for t in ours(x).values()).backward()

    # Measured in alternating rounds, so GPU clock ramps and thermal drift hit every variant alike.
    rounds: dict[str, list[float]] = {"fb": [], "ours": [], "torch_lbfgs": [], "plain": [], "generator": []}
    for _ in range(3):
        rounds["fb"].append(timed(forward_backward, device, args.steps))
        rounds["ours"].append(step_time(ours, content, style, args.steps, device, make_optimizer, args.warmup))
        rounds["torch_lbfgs"].append(step_time(ours, content, style, args.steps, device, torch_lbfgs, args.warmup))
        rounds["plain"].append(step_time(plain, content, style, args.steps, device, torch_lbfgs, args.warmup))
        steps = max(1, args.warmup) + args.steps
        bare = StyleParams(realism=0.0)  # the generator's overhead, not the realism term (bench_realism.py)
        targets = [(stats_of_arrays(ours, [(style_np, 1.0, None)], bare, device), None)]
        gen = optimise(LevelRequest(ours, content_np, targets, bare, device, steps))
        for _ in range(max(1, args.warmup)):  # the first step also computes the content target
            next(gen)
        times, start = [], time.perf_counter()
        for _ in gen:  # each step's time, the median taken as for the others
            sync(device)
            times.append(time.perf_counter() - start)
            start = time.perf_counter()
        rounds["generator"].append(statistics.median(times))
    fb, ours_step, torch_step, plain_step, generator_step = (
        statistics.median(rounds[k]) for k in ("fb", "ours", "torch_lbfgs", "plain", "generator")
    )

    print(
        f"device {device}, {args.size}x{args.size} px, {args.steps} steps after {args.warmup}, torch {torch.__version__}"
    )
    print(f"forward+backward, truncated VGG19     {fb * 1000:8.1f} ms")
    print(f"L-BFGS step, ours (objective loop)     {ours_step * 1000:8.1f} ms")
    print(f"step, truncated VGG19 + torch LBFGS    {torch_step * 1000:8.1f} ms")
    print(f"L-BFGS step, ours (stylize generator)  {generator_step * 1000:8.1f} ms")
    print(f"step, plain: full VGG19 + torch LBFGS  {plain_step * 1000:8.1f} ms")
    print(f"overhead ratio (generator step / fwd+bwd, floor 1.0): {generator_step / fb:.2f}")
    print(f"speed-up vs plain reference loop (plain / ours):      {plain_step / generator_step:.2f}")
    print(f"speed-up from the device L-BFGS alone (torch / ours): {torch_step / ours_step:.2f}")


if __name__ == "__main__":
    main()
