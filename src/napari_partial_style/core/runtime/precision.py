"""The number format of the network's passes: float32, or autocast to bfloat16/float16 where that is faster
and keeps the result; what `auto` picks on each device, and why.

Only the network's convolutions run at the chosen precision. What it hands back is float32 again, so the
Gram matrices, the losses, the realism term and L-BFGS all stay float32 (see `AtPrecision`).
"""

from __future__ import annotations

from typing import Any

PRECISIONS = ("auto", "float32", "bfloat16", "float16")

# What `auto` picks, per device kind, and why (measurements: docs/benchmarks.md and docs/quality.md, "Precision").
# - cpu with native bfloat16 (AVX512-BF16 or AMX-BF16, as torch's cpuinfo reports them): bfloat16. One VGG19
#   forward+backward took 0.64× float32's time on such a CPU (issue 39); bfloat16's rounding is the same on
#   every CPU, and its losses after 50/150/300 steps stay within the 2% goal (docs/quality.md).
# - cpu without it: float32. oneDNN then runs bfloat16 and float16 convolutions on a slow generic path: one
#   forward+backward at 256 px took 34× (bfloat16) and 54× (float16) float32's time on an AVX2-only CPU.
# - cuda: bfloat16 where the GPU has it (Ampere and later), else float16: tensor cores run both at many
#   times float32's rate; float32's range (bfloat16 has it, float16 does not) is what float16 lacks, and
#   the style loss's gradients stay within float16's range at the default weights (docs/quality.md).
# - mps: float16, Apple GPUs' fast type.
# - anything else: float32.
AUTO_REASON = {
    "cpu-bf16": ("bfloat16", "this CPU has native bfloat16 (AVX512-BF16 or AMX)"),
    "cpu": ("float32", "this CPU has no native bfloat16: reduced precision runs many times slower on it"),
    "cuda-bf16": ("bfloat16", "this GPU has fast bfloat16"),
    "cuda": ("float16", "this GPU has fast float16 but no bfloat16"),
    "mps": ("float16", "Apple GPUs have fast float16"),
}
FALLBACK = ("float32", "no faster precision is known to keep the result on this device")


def cpu_has_native_bfloat16() -> bool:
    """Whether the CPU computes bfloat16 in hardware, as torch's own cpuinfo reports it."""
    import torch

    capabilities = getattr(torch.cpu, "get_capabilities", None)
    if capabilities is None:  # torch before 2.5: no report, so no claim
        return False
    found = capabilities()
    return bool(found.get("avx512_bf16") or found.get("amx_bf16"))


def device_key(device: Any) -> str:
    """The row of AUTO_REASON that describes `device` (a torch.device)."""
    import torch

    if device.type == "cpu":
        return "cpu-bf16" if cpu_has_native_bfloat16() else "cpu"
    if device.type == "cuda":
        return "cuda-bf16" if torch.cuda.is_bf16_supported() else "cuda"
    return device.type


def auto_precision(device: Any) -> tuple[str, str]:
    """What `auto` picks on `device`, and why."""
    return AUTO_REASON.get(device_key(device), FALLBACK)


def resolve(precision: str, device: Any) -> str:
    """The precision a job runs at: the one asked for, or `auto`'s choice on `device`."""
    return auto_precision(device)[0] if precision == "auto" else precision


class AtPrecision:
    """A network (image → activations by layer name) whose forward runs in `torch.autocast` at `dtype`.

    The activations come back as float32: the Gram matrices sum H·W products and the losses compare
    near-equal Grams, which bfloat16's 8 bits of mantissa (float16's 11) would round to noise; the
    backward pass through the network runs at `dtype` again under autocast's rules. Attributes other
    than the call (`body`, `names`: the guides' walk over the layers) are the network's own.
    """

    def __init__(self, net: Any, dtype: Any, device_type: str) -> None:
        self.net, self.dtype, self.device_type = net, dtype, device_type

    def __getattr__(self, name: str) -> Any:
        return getattr(self.net, name)

    def __call__(self, image: Any) -> dict[str, Any]:
        import torch

        with torch.autocast(self.device_type, dtype=self.dtype):
            features = self.net(image)
        return {name: value.float() for name, value in features.items()}


def at_precision(net: Any, precision: str, device: Any) -> Any:
    """`net` with its passes at `precision` (resolved on `device`); float32 gives `net` itself."""
    import torch

    name = resolve(precision, device)
    if name == "float32":
        return net
    return AtPrecision(net, getattr(torch, name), device.type)
