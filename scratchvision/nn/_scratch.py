"""Scratch buffers kept between calls, one set per thread.

The large temporaries of a convolution (tens of MiB) would otherwise be fresh memory on every
call: above glibc's mmap threshold (at most 32 MiB) each allocation is a new mapping whose pages
fault in one by one, which cost a 3x3x3 convolution on 16x56x56 maps a quarter of its time. A
buffer here grows to the largest size asked for and is reused; it is freed with its thread.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["scratch", "release"]

_LOCAL = threading.local()


def scratch(name: str, shape) -> np.ndarray:
    """An uninitialised float32 array of ``shape`` over this thread's buffer ``name``.

    The array is valid until the next call with the same ``name`` on this thread.
    """
    buffers = _LOCAL.__dict__.setdefault("buffers", {})
    size = int(np.prod(shape))
    buf = buffers.get(name)
    if buf is None or buf.size < size:
        buf = buffers[name] = np.empty(size, np.float32)
    return buf[:size].reshape(shape)


def release() -> None:
    """Free this thread's buffers (the next calls allocate them afresh)."""
    _LOCAL.__dict__.pop("buffers", None)
