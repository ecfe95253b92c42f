"""The built-in dense CRF (core/segment/crf_torch.py): installs with the package, releases the GIL."""

from __future__ import annotations


def model(rgb8, unary, gaussian, bilateral, device):
    """On CUDA when the job runs there, else on the CPU (Apple's MPS has no sparse CSR products)."""
    import torch

    from napari_partial_style.core.segment.crf_torch import DenseCRF

    on_cuda = device is not None and torch.device(device).type == "cuda"
    return DenseCRF(rgb8, unary, gaussian, bilateral, device if on_cuda else "cpu")
