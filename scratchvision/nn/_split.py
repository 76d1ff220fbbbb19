"""The networks' own loops shared among threads, beside BLAS's.

A forward is BLAS products with compiled loops between them (Winograd's transforms, the
correlation lookup, instance norm). The products run on the BLAS library's threads; the loops
would run on one. Numba's ``parallel=True`` would share them, but its OpenMP workers keep
spinning after each loop and take the cores from the BLAS threads of the next product (a
2-thread RAFT forward went from 0.8 to 1.8 s), and its other threading layer aborts when two
Python threads launch loops at once. So a loop here is a serial kernel over a range of its
outer index (channels, pixels), and :func:`split` runs the ranges on a pool of Python threads:
the kernels release the GIL, and an idle pool thread sleeps.

The number of threads is Numba's (``numba.set_num_threads`` / ``NUMBA_NUM_THREADS``), the
setting that sizes every other parallel loop of the package.

A network of small layers (the ReID networks) gains little from either: its products are too
thin for BLAS's threads to share, and the NumPy steps between them run on one. For a batch of
inputs, :func:`over_batch` runs the whole forward on a part of the batch per thread instead, with
one BLAS thread each and the loops inside run serially.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numba
import numpy as np

from ._blas import single_threaded

__all__ = ["split", "over_batch", "whole_batch", "shared_products"]

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_LOCAL = threading.local()  # ``serial``: this thread runs one part of an over_batch forward or a whole_batch


def _pool(workers: int) -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._max_workers < workers:
            _POOL = ThreadPoolExecutor(workers, thread_name_prefix="scratchvision")
        return _POOL


def split(n: int, run, min_chunk: int = 1, products: bool = False) -> None:
    """Call ``run(start, stop)`` over ``[0, n)`` in as many contiguous ranges as Numba has
    threads (ranges of at least ``min_chunk``), this thread taking the first; return when all
    are done. With one thread, or a small ``n``, it is one call on this thread.

    ``products``: the ranges are BLAS products (Winograd's 16, the shifted windows' columns).
    Inside :class:`shared_products` they run side by side, each on one BLAS thread
    (:class:`~scratchvision.nn._blas.single_threaded`); elsewhere in one call on this thread,
    each product on all of BLAS's threads."""
    parts = 1 if getattr(_LOCAL, "serial", False) else max(1, min(numba.get_num_threads(), n // max(min_chunk, 1)))
    if products and not getattr(_LOCAL, "share", False):
        parts = 1
    if parts == 1:
        run(0, n)
        return
    bounds = [n * i // parts for i in range(parts + 1)]
    with single_threaded() if products else nullcontext():
        others = [_pool(parts - 1).submit(run, bounds[i], bounds[i + 1]) for i in range(1, parts)]
        try:
            run(bounds[0], bounds[1])
        finally:
            for job in others:
                job.result()


def over_batch(forward, x):
    """``forward(x)`` for a batch ``x`` (its first axis), computed as ``forward`` of contiguous
    parts of the batch, one per thread (this thread taking the first), concatenated. Inside, every
    BLAS product runs on its calling thread alone (:class:`~scratchvision.nn._blas.single_threaded`)
    and :func:`split` runs its ranges serially, so each part keeps one core busy. With one thread,
    a batch of one, inside a part or inside :class:`whole_batch`, it is ``forward(x)``."""
    parts = 1 if getattr(_LOCAL, "serial", False) else min(numba.get_num_threads(), len(x))
    if parts <= 1:
        return forward(x)
    bounds = [len(x) * i // parts for i in range(parts + 1)]

    def part(i):
        with whole_batch():  # this thread's part, its loops run here
            return forward(x[bounds[i]:bounds[i + 1]])

    with single_threaded():
        others = [_pool(parts - 1).submit(part, i) for i in range(1, parts)]
        try:
            first = part(0)
        finally:
            rest = [job.result() for job in others]
    return np.concatenate([first, *rest])


class _ThreadSetting:
    """Context that turns this thread's setting :attr:`name` on, and back to what it was on exit."""

    name = ""

    def __enter__(self):
        self._before = getattr(_LOCAL, self.name, False)
        setattr(_LOCAL, self.name, True)
        return self

    def __exit__(self, *exc):
        setattr(_LOCAL, self.name, self._before)


class whole_batch(_ThreadSetting):
    """Context in which :func:`over_batch` runs the forward on the whole batch on this thread and
    :func:`split` runs its ranges here too: for :func:`~scratchvision.nn.profile`, whose record of
    each layer's call needs the layers called once, in order, on one thread."""

    name = "serial"


class shared_products(_ThreadSetting):
    """Context in which :func:`split` runs BLAS products side by side on the pool's threads, one
    BLAS thread each, instead of each product on all of BLAS's threads. RAFT's forward runs in
    it: its products on 1/8-resolution maps (700-3000 columns) are too small for BLAS's threads
    to share (raft_small at 368x496 on two threads: 0.90 s without, 0.6-0.8 s within); the video
    networks' larger ones ran 1.2x slower this way, measured in the networks."""

    name = "share"
