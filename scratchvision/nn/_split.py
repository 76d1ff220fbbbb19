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
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numba

__all__ = ["split"]

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._max_workers < workers:
            _POOL = ThreadPoolExecutor(workers, thread_name_prefix="scratchvision")
        return _POOL


def split(n: int, run, min_chunk: int = 1) -> None:
    """Call ``run(start, stop)`` over ``[0, n)`` in as many contiguous ranges as Numba has
    threads (ranges of at least ``min_chunk``), this thread taking the first; return when all
    are done. With one thread, or a small ``n``, it is one call on this thread."""
    parts = max(1, min(numba.get_num_threads(), n // max(min_chunk, 1)))
    if parts == 1:
        run(0, n)
        return
    bounds = [n * i // parts for i in range(parts + 1)]
    others = [_pool(parts - 1).submit(run, bounds[i], bounds[i + 1]) for i in range(1, parts)]
    run(bounds[0], bounds[1])
    for job in others:
        job.result()
