"""VGG bodies with named taps, truncated after the last layer a job needs.

Layers are named as in the papers (conv3_1, relu3_1, pool3, ...). Module indices match
torchvision's `features` Sequential, so its checkpoints load unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from napari_partial_style.core.errors import WeightsError
from napari_partial_style.core.nets.model_cache import cached_model
from napari_partial_style.core.runtime import cancel

BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
WIDTHS = (64, 128, 256, 512, 512)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def layer_names(arch: str) -> list[str]:
    """Names of the modules of the VGG `features` Sequential, in order."""
    names = []
    for block, convs in enumerate(BLOCKS[arch], start=1):
        for i in range(1, convs + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return names


class UnsetConv2d(nn.Conv2d):
    """A convolution whose parameters are allocated but not set, for a loader that overwrites every
    one next: torch's random initialisation of VGG16's fc6-fc8 (124 M numbers) took 0.8 s of each
    load. (Building on torch's meta device skips it too, but its first use imports sympy: 0.5 s,
    with the GIL held for 0.1 s at a time, which froze napari while a job loaded its network.)"""

    def reset_parameters(self) -> None:
        pass


def conv_class(initialise: bool) -> type[nn.Conv2d]:
    return nn.Conv2d if initialise else UnsetConv2d


def build_body(
    arch: str,
    last: str,
    relu: Callable[[], nn.Module] = nn.ReLU,
    widths: Sequence[int] = WIDTHS,
    initialise: bool = True,
) -> nn.Sequential:
    """The VGG `features` stack up to and including the layer named `last`; `widths` (channels per
    block) other than VGG's make a network of the same shape but another cost (the tests' tiny one)."""
    names = layer_names(arch)
    if last not in names:
        raise ValueError(f"{arch} has no layer {last!r}")
    layers: list[nn.Module] = []
    channels = 3
    for name in names[: names.index(last) + 1]:
        if name.startswith("conv"):
            width = widths[int(name[4]) - 1]
            layers.append(conv_class(initialise)(channels, width, kernel_size=3, padding=1))
            channels = width
        elif name.startswith("relu"):
            layers.append(relu())
        else:
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


REDOWNLOAD = "delete it and download it again"


def load_checkpoint(path: Path, what: str, fix: str = REDOWNLOAD) -> dict[str, torch.Tensor]:
    """A state dict from a trusted-format file, with a clear error for anything else: a folder,
    a text file or an image given where a checkpoint belongs is named as what it is."""
    from napari_partial_style.core.io.image_files import describe_file

    path = Path(path)
    if path.is_dir():
        raise WeightsError(f"{path} is a folder, not {what}; {fix}.")
    kind = describe_file(path)
    if kind not in ("a zip archive", "a Python pickle", "a binary file"):
        raise WeightsError(f"{path} is {kind}, not {what} (a PyTorch file); {fix}.")
    try:  # mapped, not read: unpickling 550 MB holds the GIL, the copies into the network do not
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=kind == "a zip archive")
    except Exception as exc:
        raise WeightsError(f"{path} cannot be loaded as {what} ({exc}); {fix}.") from exc
    if not isinstance(state, dict):
        raise WeightsError(f"{path} is not a state dict of {what}; {fix}.")
    return state


def load_body_weights(body: nn.Sequential, state: dict[str, torch.Tensor], path: Path, what: str) -> None:
    """Copy torchvision's `features.N.*` tensors into a (possibly truncated) body."""
    wanted = {f"features.{key}": key for key in body.state_dict()}
    missing = [k for k in wanted if k not in state]
    if missing:
        raise WeightsError(f"{path} is not {what}: it lacks {missing[0]}; delete it and download it again.")
    check_finite({wanted_key: state[wanted_key] for wanted_key in wanted}, path, "delete it and download it again")
    try:
        body.load_state_dict({wanted[k]: state[k] for k in wanted})
    except RuntimeError as exc:
        raise WeightsError(f"{path} does not fit {what} ({exc}); delete it and download it again.") from exc


def check_finite(tensors: dict[str, Any], path: Path, fix: str) -> None:
    """Every tensor is a tensor of finite numbers: NaN weights would surface as a NaN loss or no class
    above the threshold, far from their cause."""
    for key, tensor in tensors.items():
        if not isinstance(tensor, torch.Tensor):
            raise WeightsError(f"{path}: {key} is a {type(tensor).__name__}, not a tensor; {fix}.")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise WeightsError(f"{path}: {key} holds NaN or infinite values; {fix}.")


def tapped_forward(
    body: nn.Sequential, names: Sequence[str], x: torch.Tensor, taps: Sequence[str]
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run `body` (modules named `names`); the last output and the outputs of the `taps` by name.
    A cancelled job stops after any layer, forward or backward (core/runtime/cancel.py)."""
    out = {}
    for name, layer in zip(names, body):
        x = layer(x)
        cancel.check()
        cancel.watch(x)
        if name in taps:
            out[name] = x
    return x, out


class Normalize(nn.Module):
    """RGB in [0, 1] to the ImageNet mean/std normalisation torchvision's VGGs were trained on."""

    def __init__(self, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class TappedVGG(nn.Module):
    """A truncated VGG body whose forward returns the activations of the tapped layers by name."""

    def __init__(self, arch: str, taps: Sequence[str], initialise: bool = True, widths: Sequence[int] = WIDTHS) -> None:
        super().__init__()
        names = layer_names(arch)
        self.taps = tuple(taps)
        last = max(self.taps, key=names.index)
        self.normalize = Normalize()
        self.body = build_body(arch, last, widths=widths, initialise=initialise)  # see UnsetConv2d
        self.names = names[: len(self.body)]
        self.memory_format = torch.contiguous_format

    def channels_last(self) -> TappedVGG:
        """Run in channels-last layout: oneDNN's CPU convolutions are faster so (measured in
        docs/benchmarks.md); the tapped features come out channels-last too."""
        self.memory_format = torch.channels_last
        return self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.normalize(x).contiguous(memory_format=self.memory_format)
        return tapped_forward(self.body, self.names, x, self.taps)[1]


def load_tapped_vgg(path: Path, arch: str, taps: tuple[str, ...]) -> TappedVGG:
    model = TappedVGG(arch, taps, initialise=False)  # every parameter is loaded next
    what = f"torchvision's {arch.upper()} weights"
    load_body_weights(model.body, load_checkpoint(path, what), path, what)
    return model


def tapped_vgg(arch: str, path: Path, taps: Sequence[str], device: torch.device) -> TappedVGG:
    """A tapped VGG with pretrained weights, loaded once per process (napari runs many jobs);
    channels-last on the CPU."""
    model = cached_model(load_tapped_vgg, path, device, arch, tuple(taps))
    return model.channels_last() if torch.device(device).type == "cpu" else model
