"""Arrays to tensors and back: H×W×3 float images in [0, 1] as the networks take them."""

from __future__ import annotations

import numpy as np
import torch


def to_tensor(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    """H×W×3 float array to a 1×3×H×W tensor."""
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None].to(device)


def to_array(image: torch.Tensor) -> np.ndarray:
    """1×3×H×W tensor to an H×W×3 float32 array clipped to [0, 1]."""
    return image.detach().clamp(0, 1)[0].permute(1, 2, 0).cpu().numpy().astype(np.float32)
