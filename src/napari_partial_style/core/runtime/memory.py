"""Running out of memory, told as what to lower, with the device's cache freed for the next job."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from napari_partial_style.core.errors import InputError

# What torch's allocators say: CUDA (torch.OutOfMemoryError), Apple MPS and the CPU allocator.
_MESSAGES = ("out of memory", "can't allocate memory", "not enough memory")


def is_out_of_memory(error: BaseException) -> bool:
    if isinstance(error, MemoryError):
        return True
    return isinstance(error, RuntimeError) and any(m in str(error).lower() for m in _MESSAGES)


def release(device) -> None:
    """Give back what a failed job held, so the same process (napari) can run the next one."""
    import torch

    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()


@contextmanager
def memory_guard(device, what: str, fix: str) -> Iterator[None]:
    """Turn an allocation failure inside the block into one line: what ran out, and `fix`."""
    failed = False
    try:
        yield
    except Exception as error:
        if not is_out_of_memory(error):
            raise
        failed = True
    if failed:  # outside the except block, so the failed frames and their tensors can go
        release(device)
        raise InputError(f"{device} ran out of memory {what}; {fix}")
