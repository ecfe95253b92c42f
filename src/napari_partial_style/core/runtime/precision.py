"""The number format of the network's passes: float32, or autocast to bfloat16/float16 where that is faster
and keeps the result; what `auto` picks on each device, and why.

Only the network's convolutions run at the chosen precision. What it hands back is float32 again, so the
Gram matrices, the losses, the realism term and L-BFGS all stay float32 (see `AtPrecision`).
"""

from __future__ import annotations

from typing import Any

PRECISIONS = ("auto", "float32", "bfloat16", "float16")

# What `auto` picks, per device kind, and why. The rule (issue 39): the fastest precision whose style and content
# losses after 50/150/300 steps stay within 2% of float32's, else float32. Rounding is the same on every device,
# so a quality measurement made on one holds for all; speed is the device's own. Measurements: docs/quality.md
# and docs/benchmarks.md, "Precision".
# - bfloat16 misses the goal: after 50 steps at 64 px (random-weight VGG19) its style loss was 5.7% and its
#   content loss 14% off float32's, PSNR 28.7 dB inside the cup, where two float32 runs summed in another
#   order differ by 0.03% and 0.3%, 59.8 dB. float16 misses it narrowly: 2.5% and 2.6%, 35.9 dB. So no row
#   picks either, fast as bfloat16 is on AVX512-BF16/AMX CPUs (a VGG19 pass 0.64× float32's, issue 39) and both
#   are on CUDA and MPS GPUs; `--precision bfloat16|float16` still runs them. A row changes when a measurement
#   (bench/gpu_check.sh precision: 256 px, 300 steps; best with pretrained weights) meets the goal.
# - a CPU without native bfloat16 also has no fast float16: oneDNN's generic path took 18.9× (bfloat16) and 5.2×
#   (float16) float32's time for one VGG19 pass at 256² (34× and 54× at a lower load).
AUTO_REASON = {
    "cpu-bf16": ("float32", "bfloat16 is fast on this CPU but moves the style loss by 6% (goal: 2%)"),
    "cpu": ("float32", "this CPU has no native bfloat16 or float16: reduced precision runs many times slower on it"),
    "cuda-bf16": ("float32", "bfloat16 and float16 move the style loss by 6% and 2.5% (goal: 2%)"),
    "cuda": ("float32", "float16 moves the style loss by 2.5% (goal: 2%)"),
    "mps": ("float32", "float16 moves the style loss by 2.5% (goal: 2%)"),
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
